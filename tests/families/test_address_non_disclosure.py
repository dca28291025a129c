"""An address under non-disclosure (turvakielto): seen by the family's assigned
workers and responsible social worker only, through pages and the API, and in
the places of its visits; never in a feed or a message; set and lifted with an
audit event; kept in the right-of-access export."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from calendars import services as calendar_services
from calendars.feeds import tokens as feed_tokens
from core.clock import FixedClock
from core.models import AuditEvent
from extensions import db
from families import services
from families.models import Family
from tests.calendars.test_feeds import SETTINGS
from tests.conftest import NOW, bearer, csrf_token_from, login, make_family, make_user

HELSINKI = ZoneInfo("Europe/Helsinki")
SECRET = "Salaisenkuja 7 B 12"
STREET = "Salaisenkuja"
VISIT_START = datetime(2026, 12, 2, 10, tzinfo=HELSINKI)


@pytest.fixture
def people(app):
    """The permitted readers, and those who see the family but not its address."""
    social_worker = make_user("social_worker")
    worker = make_user("family_worker")
    return {
        "coordinator": make_user("coordinator", municipalities=("Mikkeli",)),
        "admin": make_user("admin", municipalities=()),
        "worker": worker,
        "social_worker": social_worker,
    }


@pytest.fixture
def family(people):
    """A child-protection family under non-disclosure with a visit booked at home."""
    family = make_family(people["coordinator"], track="child_protection",
                         social_worker=people["social_worker"], workers=[people["worker"]],
                         plan=True)
    services.update_family(people["coordinator"], family,
                           {"address": SECRET, "address_non_disclosure": True},
                           clock=FixedClock(NOW))
    calendar_services.book_visit(
        people["coordinator"], family, kind="home_visit", start=VISIT_START,
        end=VISIT_START + timedelta(hours=1), worker_ids=[people["worker"].id],
        zone=HELSINKI, settings=SETTINGS, clock=FixedClock(NOW))
    db.session.commit()
    return family


PERMITTED = ("worker", "social_worker")
NOT_PERMITTED = ("coordinator", "admin")


def visit_of(family):
    return family_visits(family)[0]


def family_visits(family):
    from calendars.models import HomeVisit
    return list(db.session.scalars(sa.select(HomeVisit).where(
        HomeVisit.family_id == family.id)))


def test_the_visit_booked_at_home_took_the_address(family):
    assert visit_of(family).place == SECRET


@pytest.mark.parametrize("role", PERMITTED + NOT_PERMITTED)
def test_the_api_answers_the_address_only_to_permitted_readers(client, people, family, role):
    headers = bearer(people[role])
    visit = visit_of(family)
    answers = [
        client.get(f"/api/v1/families/{family.id}", headers=headers),
        client.get("/api/v1/families", headers=headers),
        client.get(f"/api/v1/visits/{visit.id}", headers=headers),
        client.get("/api/v1/visits", headers=headers,
                   query_string={"from": "2026-12-01", "to": "2026-12-05"}),
        client.get(f"/api/v1/workers/{people['worker'].id}/events", headers=headers,
                   query_string={"from": "2026-12-01", "to": "2026-12-05"}),
    ]
    family_answer = answers[0].get_json()
    assert family_answer["address_non_disclosure"] is True
    for response in answers:
        if response.status_code in (403, 404):  # a social worker sees no calendars
            assert role == "social_worker"
            continue
        assert response.status_code == 200, response.get_json()
        assert (SECRET in response.get_data(as_text=True)) == (role in PERMITTED), \
            response.request.path
    if role in PERMITTED:
        assert family_answer["address"] == SECRET
    else:
        assert family_answer["address"] is None
        assert client.get(f"/api/v1/visits/{visit.id}",
                          headers=headers).get_json()["place"] is None


@pytest.mark.parametrize("role", PERMITTED + NOT_PERMITTED)
def test_pages_show_the_address_only_to_permitted_readers(client, people, family, role):
    login(client, people[role])
    visit = visit_of(family)
    detail = client.get(f"/families/{family.id}").get_data(as_text=True)
    assert "Non-disclosure" in detail
    pages = {"detail": detail,
             "edit": client.get(f"/families/{family.id}/edit"),
             "visit": client.get(f"/calendars/visits/{visit.id}"),
             "booking": client.get("/calendars/visits/new",
                                   query_string={"family": family.id}),
             "list": client.get("/families/")}
    for name, page in pages.items():
        if not isinstance(page, str):
            if page.status_code in (403, 404):
                continue
            assert page.status_code == 200, name
            page = page.get_data(as_text=True)
        assert (STREET in page) == (role in PERMITTED and name in ("detail", "edit", "visit",
                                                                  "booking")), name
    if role in NOT_PERMITTED:
        assert "Address not disclosed" in detail


def test_an_editor_who_may_not_see_the_address_keeps_it_unchanged(client, people, family):
    coordinator = people["coordinator"]
    login(client, coordinator)
    page = client.get(f"/families/{family.id}/edit").get_data(as_text=True)
    assert 'name="address"' not in page
    response = client.post(f"/families/{family.id}/edit", data={
        "csrf_token": csrf_token_from(page), "surname": family.surname,
        "municipality": "Mikkeli", "address": "Overwritten 1",
        "address_non_disclosure": "y", "track": "child_protection",
        "referral_source": "social_worker",
        "responsible_social_worker_id": str(people["social_worker"].id),
        "family_worker_ids": str(people["worker"].id),
        "referral_date": "2026-11-02", "status": "active", "languages": "fi"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Family, family.id).address == SECRET


def test_setting_and_lifting_the_flag_is_audited(client, people, family):
    headers = bearer(people["coordinator"])
    assert client.patch(f"/api/v1/families/{family.id}", headers=headers,
                        json={"address_non_disclosure": False}).status_code == 200
    assert client.patch(f"/api/v1/families/{family.id}", headers=headers,
                        json={"address_non_disclosure": True}).status_code == 200
    assert client.patch(f"/api/v1/families/{family.id}", headers=headers,
                        json={"address_non_disclosure": True}).status_code == 200
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "family.address_non_disclosure",
        AuditEvent.target_id == family.id).order_by(AuditEvent.id)).all()
    # Set at the fixture's update, lifted, set again; the repeat changed nothing.
    assert [event.detail["address_non_disclosure"] for event in events] == [True, False, True]
    assert all(SECRET not in str(event.detail) for event in events)


@pytest.mark.parametrize("value", ["yes", 1, None, []])
def test_a_flag_that_is_not_a_boolean_is_refused(client, people, family, value):
    response = client.patch(f"/api/v1/families/{family.id}",
                            headers=bearer(people["coordinator"]),
                            json={"address_non_disclosure": value})
    assert response.status_code == 422
    assert "address_non_disclosure" in response.get_json()["error"]["fields"]


def test_registration_through_the_api_sets_the_flag(client, people):
    response = client.post("/api/v1/families", headers=bearer(people["coordinator"]), json={
        "surname": "Piilo", "municipality": "Mikkeli", "address": SECRET,
        "address_non_disclosure": True, "track": "preventive", "referral_source": "self",
        "referral_date": "2026-11-20"})
    assert response.status_code == 201
    assert response.get_json()["address"] is None  # the registrar is no assigned worker
    assert response.get_json()["address_non_disclosure"] is True
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "family.address_non_disclosure")) == 1


def test_the_right_of_access_export_holds_the_address(client, people, family):
    response = client.get(f"/api/v1/families/{family.id}/export",
                          headers=bearer(people["coordinator"]))
    document = response.get_json()
    assert document["family"]["address"] == SECRET
    assert document["family"]["address_non_disclosure"] is True
    assert document["visits"][0]["place"] == SECRET


@pytest.mark.parametrize("owner", ["worker", "family"])
@pytest.mark.parametrize("privacy", ["minimal", "detailed"])
def test_no_feed_carries_the_address(app, client, monkeypatch, people, family, owner,
                                     privacy):
    monkeypatch.setitem(app.config, "FEED_DETAILED_ALLOWED", True)
    owner_id = people["worker"].id if owner == "worker" else family.id
    _feed, secret = feed_tokens.create_feed(
        people["admin"], owner_type=owner, owner_id=owner_id, privacy=privacy, locale="fi",
        detailed_allowed=True, clock=FixedClock(NOW))
    db.session.commit()
    body = client.get(f"/calendars/feeds/{secret}.ics").get_data(as_text=True)
    assert "BEGIN:VEVENT" in body
    assert STREET not in body.replace("\r\n ", "")


def test_the_visit_place_follows_the_flag(client, people, family):
    """Lifted, the place shows again: it was withheld, not lost."""
    services.update_family(people["coordinator"], family, {"address_non_disclosure": False},
                           clock=FixedClock(NOW))
    db.session.commit()
    response = client.get(f"/api/v1/visits/{visit_of(family).id}",
                          headers=bearer(people["coordinator"]))
    assert response.get_json()["place"] == SECRET


def test_setting_the_flag_renews_a_feed_that_showed_the_address(app, client, monkeypatch,
                                                                people, family):
    """A feed fetched before the flag was set is not answered 304 after, and the
    visit's SEQUENCE rises so a calendar client replaces its copy."""
    monkeypatch.setitem(app.config, "FEED_DETAILED_ALLOWED", True)
    services.update_family(people["coordinator"], family, {"address_non_disclosure": False},
                           clock=FixedClock(NOW))
    db.session.commit()
    _feed, secret = feed_tokens.create_feed(
        people["admin"], owner_type="worker", owner_id=people["worker"].id,
        privacy="detailed", locale="fi", detailed_allowed=True, clock=FixedClock(NOW))
    db.session.commit()
    before = client.get(f"/calendars/feeds/{secret}.ics")
    assert STREET in before.get_data(as_text=True).replace("\r\n ", "")
    sequence = visit_of(family).sequence
    assert client.patch(f"/api/v1/families/{family.id}", headers=bearer(people["coordinator"]),
                        json={"address_non_disclosure": True}).status_code == 200
    after = client.get(f"/calendars/feeds/{secret}.ics",
                       headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert STREET not in after.get_data(as_text=True).replace("\r\n ", "")
    db.session.expire_all()
    assert visit_of(family).sequence > sequence
