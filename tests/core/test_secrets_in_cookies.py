"""A secret that opens something is shown once, in the answer that made it, and
never travels in the session cookie: Flask signs that cookie but does not
encrypt it, so whatever it holds is readable by anyone who sees it (a shared
computer's browser profile, a proxy's log, a backup).

Every way a secret is made or shown through the web is taken below, pages and
API, and every Set-Cookie of every answer is opened and searched for it.
"""

import re
from http.cookies import SimpleCookie
from urllib.parse import unquote, urlsplit

import pytest
import sqlalchemy as sa

from accounts.models import ApiToken
from calendars.models import FeedToken
from extensions import db
from tests.conftest import csrf_token_from, login, make_family, make_group, make_user
from tests.reminders.helpers import at, book, dispatch


class Recorder:
    """Every Set-Cookie the app sent during a test, opened: the session's JSON
    as the app's own serializer reads it, any other cookie as it is."""

    def __init__(self, app, client):
        self.app, self.client, self.cookies = app, client, []
        self.serializer = app.session_interface.get_signing_serializer(app)
        open_ = client.open

        def recording_open(*args, **kwargs):
            response = open_(*args, **kwargs)
            for header in response.headers.getlist("Set-Cookie"):
                for name, morsel in SimpleCookie(header).items():
                    self.cookies.append((name, self._read(name, morsel.value)))
            return response

        client.open = recording_open

    def _read(self, name: str, value: str) -> str:
        if name == self.app.config["SESSION_COOKIE_NAME"] and value:
            return repr(self.serializer.loads(value))
        return value

    def assert_never_held(self, secret: str) -> None:
        assert self.cookies, "no cookie was set at all: nothing was checked"
        for name, content in self.cookies:
            assert secret not in content, f"the secret is in the {name} cookie"


@pytest.fixture
def recorder(app, client):
    return Recorder(app, client)


def _secret_on_page(html: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}" type="text" readonly value="([^"]+)"',
                     html).group(1)


def _feed_secret(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1][:-len(".ics")]


def _no_store(response) -> None:
    assert response.headers["Cache-Control"] == "no-store"


def test_a_new_api_token_is_shown_in_the_answer_and_not_in_the_cookie(client, recorder):
    worker = make_user("family_worker")
    login(client, worker)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    response = client.post("/account/tokens", data={"csrf_token": token})
    assert response.status_code == 200
    _no_store(response)
    secret = _secret_on_page(response.get_data(as_text=True), "new-token")
    assert db.session.scalar(sa.select(ApiToken.prefix)) == secret[:8]
    assert secret not in client.get("/account").get_data(as_text=True)
    recorder.assert_never_held(secret)


@pytest.mark.parametrize("owner_type", ["worker", "family", "group"])
def test_a_new_feed_link_is_shown_in_the_answer_and_not_in_the_cookie(
        client, recorder, coordinator, owner_type):
    worker = make_user("family_worker")
    family = make_family(coordinator, workers=[worker])
    group = make_group(coordinator, facilitators=[worker])
    owner_id = {"worker": worker.id, "family": family.id, "group": group.id}[owner_type]
    page = f"/calendars/feeds/subscribe?owner_type={owner_type}&owner_id={owner_id}"
    login(client, worker)
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    response = client.post(page, data={"csrf_token": token, "privacy": "minimal",
                                       "locale": "fi"})
    assert response.status_code == 200
    _no_store(response)
    secret = _feed_secret(_secret_on_page(response.get_data(as_text=True), "feed-url"))
    assert client.get(f"/calendars/feeds/{secret}.ics").status_code == 200
    assert secret not in client.get(page).get_data(as_text=True)

    feed = db.session.scalar(sa.select(FeedToken))
    response = client.post(f"/calendars/feeds/{feed.id}/rotate", data={"csrf_token": token})
    assert response.status_code == 200
    _no_store(response)
    rotated = _feed_secret(_secret_on_page(response.get_data(as_text=True), "feed-url"))
    assert rotated != secret
    assert client.get(f"/calendars/feeds/{rotated}.ics").status_code == 200
    for shown in (secret, rotated):
        recorder.assert_never_held(shown)


def test_feed_links_made_through_the_api_with_the_session_stay_out_of_the_cookie(
        client, recorder):
    worker = make_user("family_worker")
    login(client, worker)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    created = client.post("/api/v1/feeds", headers={"X-CSRFToken": token},
                          json={"owner_type": "worker", "owner_id": worker.id})
    assert created.status_code == 201
    _no_store(created)
    rotated = client.post(f"/api/v1/feeds/{created.get_json()['id']}/rotate",
                          headers={"X-CSRFToken": token})
    assert rotated.status_code == 201
    _no_store(rotated)
    for answer in (created, rotated):
        recorder.assert_never_held(_feed_secret(answer.get_json()["url"]))


def test_an_opt_out_link_stays_out_of_the_cookie(client, recorder, coordinator):
    family = make_family(coordinator, workers=[make_user("family_worker")], plan=True)
    book(coordinator, family, at(12, 2, 10))
    _, channels = dispatch(at(12, 1, 10, 1))
    [message] = channels["sms"].sent
    link = re.search(r"https?://\S+/r/\S+", message.body).group(0)
    secret = unquote(urlsplit(link).path.rsplit("/", 1)[1])
    page = client.get(f"/r/{secret}")
    assert page.status_code == 200
    response = client.post(f"/r/{secret}",
                           data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 200
    recorder.assert_never_held(secret)


def test_pages_shown_in_a_form_s_answer_switch_language_back_to_themselves(client):
    """The language switch returns to the page's own address, not to the form's
    (which answers only POST)."""
    worker = make_user("family_worker")
    login(client, worker)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    html = client.post("/account/tokens", data={"csrf_token": token}).get_data(as_text=True)
    assert '<input type="hidden" name="next" value="/account">' in html
    page = f"/calendars/feeds/subscribe?owner_type=worker&owner_id={worker.id}"
    html = client.post(page, data={"csrf_token": token, "privacy": "minimal",
                                   "locale": "fi"}).get_data(as_text=True)
    assert ('<input type="hidden" name="next" value="/calendars/feeds/subscribe?'
            f'owner_type=worker&amp;owner_id={worker.id}">') in html
