"""Closing an account stops every credential of it for good: its sessions, its
API tokens, and every calendar feed it created or whose calendar it is, however
it was made (pages or API) and however the account was closed (the confirmation
page or the edit form). Making the account active again brings none back. And
a feed of an inactive account is refused when served, whatever its row says.
"""

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from accounts.models import ApiToken, User
from calendars.feeds import tokens as feed_tokens
from calendars.models import FeedToken
from core.clock import FixedClock
from core.models import AuditEvent
from extensions import db
from tests.admin.test_views import edit_fields
from tests.conftest import NOW, bearer, csrf_token_from, login, make_family, make_group, make_user


@dataclass
class Credentials:
    worker: User
    session: object            # a client signed in as the worker
    bearer: dict
    feeds: dict                # what each feed is -> its path
    others: dict               # feeds of other accounts, which must go on


def _feed_path(response) -> str:
    url = response.get_json()["url"]
    return "/" + url.split("/", 3)[3]


def _made(actor, owner_type, owner_id, privacy="minimal") -> str:
    _feed, secret = feed_tokens.create_feed(
        actor, owner_type=owner_type, owner_id=owner_id, privacy=privacy,
        detailed_allowed=True, clock=FixedClock(NOW))
    db.session.commit()
    return f"/calendars/feeds/{secret}.ics"


@pytest.fixture
def credentials(app, coordinator):
    app.config["FEED_DETAILED_ALLOWED"] = True
    admin = make_user("admin", municipalities=())
    worker = make_user("family_worker")
    colleague = make_user("family_worker")
    family = make_family(coordinator, track="child_protection", workers=[worker, colleague],
                         social_worker=make_user("social_worker"), plan=True)
    group = make_group(coordinator, facilitators=[worker, colleague])
    session = app.test_client()
    login(session, worker)
    token = bearer(worker)
    through_api = session.post("/api/v1/feeds", headers=token, json={
        "owner_type": "family", "owner_id": family.id, "privacy": "detailed"})
    assert through_api.status_code == 201
    page = f"/calendars/feeds/subscribe?owner_type=worker&owner_id={worker.id}"
    csrf = csrf_token_from(session.get(page).get_data(as_text=True))
    through_page = session.post(page, data={"csrf_token": csrf, "privacy": "detailed",
                                            "locale": "fi"})
    assert through_page.status_code == 200
    shown = through_page.get_data(as_text=True)
    marker = 'id="feed-url" type="text" readonly value="'
    start = shown.index(marker) + len(marker)
    page_path = "/" + shown[start:shown.index('"', start)].split("/", 3)[3]
    feeds = {
        "own calendar, detailed, made on the page": page_path,
        "a family's, detailed, made through the API": _feed_path(through_api),
        "a group's, made by the worker": _made(worker, "group", group.id),
        "the worker's calendar, made by an admin": _made(admin, "worker", worker.id),
    }
    others = {
        "the colleague's own calendar": _made(colleague, "worker", colleague.id),
        "the family's, made by the colleague": _made(colleague, "family", family.id),
        "the group's, made by the coordinator": _made(coordinator, "group", group.id),
    }
    yield Credentials(worker, session, token, feeds, others)
    app.config["FEED_DETAILED_ALLOWED"] = False


def _status(client, path) -> int:
    response = client.get(path)
    response.close()
    return response.status_code


def _all_work(client, credentials) -> None:
    for name, path in {**credentials.feeds, **credentials.others}.items():
        assert _status(client, path) == 200, name  # twice: made, then served kept
        assert _status(client, path) == 200, name
    assert _status(credentials.session, "/api/v1/me") == 200
    assert client.get("/api/v1/me", headers=credentials.bearer).status_code == 200


def _all_stopped(client, credentials) -> None:
    for name, path in credentials.feeds.items():
        assert _status(client, path) == 404, name
    for name, path in credentials.others.items():
        assert _status(client, path) == 200, name
    assert _status(credentials.session, "/api/v1/me") == 401
    assert client.get("/api/v1/me", headers=credentials.bearer).status_code == 401


def _post(client, url, data=None, page=None):
    token = csrf_token_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def _deactivate_on_the_confirmation_page(client, user):
    page = client.get(f"/admin/users/{user.id}/deactivate").get_data(as_text=True)
    assert "calendar subscription links they created" in page
    assert "does not bring them back" in page
    return _post(client, f"/admin/users/{user.id}/deactivate")


def _deactivate_on_the_edit_form(client, user):
    page = client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert "calendar subscription links stop working for good" in page
    return _post(client, f"/admin/users/{user.id}/edit", edit_fields(user, active=""))


@pytest.mark.parametrize("deactivate", [_deactivate_on_the_confirmation_page,
                                        _deactivate_on_the_edit_form])
def test_deactivating_stops_every_credential_for_good(app, client, credentials, deactivate):
    worker = credentials.worker
    _all_work(client, credentials)
    admin = app.test_client()
    login(admin, make_user("admin", municipalities=()))
    assert deactivate(admin, worker).status_code == 302
    _all_stopped(client, credentials)
    db.session.expire_all()
    live = db.session.scalars(sa.select(FeedToken).where(
        FeedToken.revoked_at.is_(None), sa.or_(
            FeedToken.created_by_id == worker.id,
            sa.and_(FeedToken.owner_type == "worker", FeedToken.owner_id == worker.id))))
    assert list(live) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(
        ApiToken.user_id == worker.id, ApiToken.revoked_at.is_(None))) == 0
    revoked = db.session.scalars(sa.select(AuditEvent.detail).where(
        AuditEvent.action == "feed.revoke"))
    assert [detail for detail in revoked] == [{"reason": "account_deactivated"}] * 4

    # Active again: the person signs in afresh; nothing old comes back.
    reactivated = _post(admin, f"/admin/users/{worker.id}/edit",
                        edit_fields(db.session.get(User, worker.id), active="y"))
    assert reactivated.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, worker.id).active is True
    _all_stopped(client, credentials)


def test_a_feed_of_an_inactive_account_is_refused_when_served(app, client, credentials):
    """Whatever closed the account, even a change that went round the service:
    the feeds it created or whose calendar it is are not served while it is
    inactive."""
    _all_work(client, credentials)
    with db.engine.begin() as connection:
        connection.execute(sa.update(User.__table__).where(
            User.__table__.c.id == credentials.worker.id).values(active=False))
    for name, path in credentials.feeds.items():
        assert _status(client, path) == 404, name
        assert client.head(path).status_code == 404, name
    for name, path in credentials.others.items():
        assert _status(client, path) == 200, name


def test_the_subscription_page_says_what_deactivation_does(app, client, credentials):
    worker = credentials.worker
    html = credentials.session.get(
        f"/calendars/feeds/subscribe?owner_type=worker&owner_id={worker.id}"
    ).get_data(as_text=True)
    assert "A link stops working for good when the account that created it" in html
