"""What every page and API answer shows of families, route by route.

Two invariants over the whole URL map, asked by each role in the world of the
authorisation matrix (tests/test_authorization_matrix.py), with one more
visit: the Puumala child-protection family's visit, on which a Mikkeli
colleague of the family worker is the second worker.

- A family a reader may not see (its own page answers 404) is never named:
  not its reference, surname or address, not a link to it or its visit. Its
  visits are busy time on every calendar, except to the visit's own workers.
- An answer that names a family (its reference or surname) writes an audit
  event of the read naming that family.

The calendars' clash messages, which come from changes rather than reads,
are asked separately, on the page and in the API.
"""

from dataclasses import dataclass
from datetime import datetime

import pytest
import sqlalchemy as sa

from accounts.models import User
from calendars import services as calendar_services
from core.clock import FixedClock
from core.models import AuditEvent
from extensions import db
from families.models import Family
from families.services import can_see
from tests import test_authorization_matrix as matrix
from tests.calendars.test_feeds import SETTINGS
from tests.conftest import HELSINKI, NOW, bearer, csrf_token_from, login, make_family, make_user
from tests.test_authorization_matrix import Caller, World, _path, _rules

STAFF = ("admin", "coordinator", "family_worker", "social_worker")
# Not read by staff: the feed is read by calendar clients (its privacy is the
# feeds' own tests'), the opt-out link by a family, and signing out signs out.
NOT_READS = {"feeds.feed", "opt_out.stop", "accounts.logout"}
CROSSING_START = datetime(2026, 12, 3, 10, tzinfo=HELSINKI)
CROSSING_END = datetime(2026, 12, 3, 11, tzinfo=HELSINKI)
ADDRESS = "Salasuontie 13"
# Where the calendars show the crossing visit (the week of NOW shows it too).
DAYS = {"calendars.day": {"date": "2026-12-03"},
        "calendars_api.worker_event_list": {"cancelled": "true"}}


# The matrix's world: each role's own objects (Mikkeli) and someone else's (Puumala).
world = matrix.world


@dataclass
class Crossing:
    """The foreign (Puumala) family's visit with a Mikkeli colleague on it."""

    family: Family
    visit_id: int
    colleague: User


@pytest.fixture
def crossing(world: World) -> Crossing:
    clock = FixedClock(NOW)
    family = db.session.get(Family, world.foreign.ids["family_id"])
    family.address = ADDRESS
    db.session.flush()
    booker = _foreign_coordinator(world)
    colleague = make_user("family_worker", name="Kollega Mikkelistä")
    visit = calendar_services.book_visit(
        booker, family, kind="home_visit", start=CROSSING_START, end=CROSSING_END,
        worker_ids=[world.foreign.ids["worker_id"], colleague.id],
        confirm=True, zone=HELSINKI, settings=SETTINGS, clock=clock)
    # A family without a plan yet: the dashboards list it.
    make_family(world.users["coordinator"], workers=[db.session.get(
        User, world.own.ids["worker_id"])], surname="Odottava")
    db.session.commit()
    return Crossing(family, visit.id, colleague)


def _foreign_coordinator(world: World) -> User:
    return db.session.scalar(sa.select(User).where(
        User.role == "coordinator", User.id != world.users["coordinator"].id))


def _identifying(family: Family, visit_id: int) -> list[str]:
    """What names a family in an answer, page or JSON."""
    return [family.reference, family.surname, ADDRESS, f"/families/{family.id}\"",
            f"/families/{family.id}/", f"/calendars/visits/{visit_id}\"",
            f"/calendars/visits/{visit_id}/", f'"family_id": {family.id},',
            f'"family_id":{family.id},']


def _read(caller: Caller, path: str):
    headers = dict(caller.headers) if path.startswith("/api/") else {}
    return caller.client.get(path, headers=headers, buffered=True)


def _audited_families(since: int) -> set[int]:
    """The families named by the audit events written after event ``since``."""
    named = set()
    for event in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > since)):
        if event.target_type == "family" and event.target_id is not None:
            named.add(event.target_id)
        named.update((event.detail or {}).get("family_ids", ()))
    return named


def _last_event() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEvent.id), 0)))


def _answers(app, world: World, role: str):
    """Every GET answer of the URL map to a role, about its own objects and
    someone else's: (endpoint, path, response, families the audit log named)."""
    caller = Caller(app, role, world)
    for rule, method in _rules(app, mutating=False):
        if method != "GET" or rule.endpoint in NOT_READS:
            continue
        for side in (world.own, world.foreign):
            path = _path(rule, world, side, role)
            extra = DAYS.get(rule.endpoint, {})
            if extra:
                path += ("&" if "?" in path else "?") + "&".join(
                    f"{key}={value}" for key, value in extra.items())
            before = _last_event()
            response = _read(caller, path)
            yield rule.endpoint, path, response, _audited_families(before)


@pytest.mark.parametrize("role", STAFF)
def test_no_answer_names_a_family_out_of_sight(app, world, crossing, role):
    user = world.users[role]
    hidden = [family for family in db.session.scalars(sa.select(Family))
              if not can_see(user, family)]
    assert role == "admin" or crossing.family in hidden
    marks = {family.id: _identifying(family, crossing.visit_id
                                     if family.id == crossing.family.id else -1)
             for family in hidden}
    wrong = []
    for endpoint, path, response, _named in _answers(app, world, role):
        body = response.get_data(as_text=True)
        for family_id, strings in marks.items():
            # A link is no news where it is the address asked (a 404 page says it).
            shown = [text for text in strings
                     if text in body and text.strip('"') not in path + "/"]
            if shown:
                wrong.append(f"{path} ({endpoint}) shows family {family_id}: {shown}")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("role", STAFF)
def test_every_answer_naming_a_family_audits_its_read(app, world, crossing, role):
    families = list(db.session.scalars(sa.select(Family)))
    wrong = []
    for endpoint, path, response, named in _answers(app, world, role):
        if response.status_code >= 400:
            continue
        body = response.get_data(as_text=True)
        for family in families:
            if (family.reference in body or family.surname in body) \
                    and family.id not in named:
                wrong.append(f"{path} ({endpoint}) names family {family.id} unaudited")
    assert wrong == [], "\n".join(wrong)


# --- the calendars' answers, one by one ----------------------------------------

def _calendar_answers(app, world, role, worker):
    caller = Caller(app, role, world)
    return caller, {
        "week": _read(caller, f"/calendars/week?worker={worker}&date=2026-12-03"),
        "month": _read(caller, f"/calendars/month?worker={worker}&date=2026-12-03"),
        "api": _read(caller, f"/api/v1/workers/{worker}/events"
                             "?from=2026-12-03&to=2026-12-03"),
    }


@pytest.mark.parametrize("role", ["coordinator"])
def test_the_crossing_visit_is_busy_time_on_every_calendar(app, world, crossing, role):
    caller, answers = _calendar_answers(app, world, role, crossing.colleague.id)
    assert all(response.status_code == 200 for response in answers.values())
    for name in ("week", "month"):
        page = answers[name].get_data(as_text=True)
        assert ("Varattu" in page or "Busy" in page), name
        assert crossing.family.reference not in page
    [busy] = [event for event in answers["api"].get_json() if event["type"] == "busy"]
    assert busy == {"type": "busy", "start": "2026-12-03T10:00:00+02:00",
                    "end": "2026-12-03T11:00:00+02:00", "status": "scheduled"}
    if role == "coordinator":
        day = _read(caller, "/calendars/day?date=2026-12-03").get_data(as_text=True)
        assert "Varattu" in day or "Busy" in day
        assert crossing.family.reference not in day and ADDRESS not in day


def test_an_admin_sees_the_crossing_visit_and_its_read_is_audited(app, world, crossing):
    before = _last_event()
    _caller, answers = _calendar_answers(app, world, "admin", crossing.colleague.id)
    events = answers["api"].get_json()
    [visit] = [event for event in events if event.get("id") == crossing.visit_id]
    assert visit["family_reference"] == crossing.family.reference
    shown = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.id > before, AuditEvent.action == "family.list")).all()
    # One audit event per answer, each naming the family shown.
    assert len(shown) == 3
    assert all(crossing.family.id in event.detail["family_ids"] for event in shown)


def test_the_visit_s_own_worker_sees_where_to_go_and_the_read_is_audited(app, crossing):
    # A second worker who is not one of the family's workers still works at the
    # visit: it is on their calendar with its family and place, not as busy time.
    client = app.test_client()
    login(client, crossing.colleague)
    before = _last_event()
    events = client.get(f"/api/v1/workers/{crossing.colleague.id}/events"
                        "?from=2026-12-03&to=2026-12-03",
                        headers=bearer(crossing.colleague)).get_json()
    [visit] = [event for event in events if event.get("id") == crossing.visit_id]
    assert visit["family_reference"] == crossing.family.reference
    week = client.get(f"/calendars/week?worker={crossing.colleague.id}&date=2026-12-03")
    assert crossing.family.reference in week.get_data(as_text=True)
    page = client.get(f"/calendars/visits/{crossing.visit_id}")
    assert page.status_code == 200 and ADDRESS in page.get_data(as_text=True)
    assert crossing.family.id in _audited_families(before)
    # The family's own page stays theirs to see: the visit is not the record.
    assert client.get(f"/families/{crossing.family.id}").status_code == 404


def _own_family_booking(world, crossing):
    return {"family_id": world.own.ids["family_id"],
            "worker_ids": [world.own.ids["worker_id"], crossing.colleague.id],
            "kind": "home_visit", "start": "2026-12-03T10:15:00+02:00",
            "end": "2026-12-03T11:15:00+02:00"}


@pytest.mark.parametrize("role", ["coordinator", "family_worker"])
def test_a_clash_with_the_crossing_visit_names_no_family_in_the_api(app, world, crossing,
                                                                     role):
    caller = Caller(app, role, world)
    response = caller.client.post("/api/v1/visits", json=_own_family_booking(world, crossing),
                                  headers=caller.headers)
    assert response.status_code == 409
    error = response.get_json()["error"]
    text = response.get_data(as_text=True)
    for mark in _identifying(crossing.family, crossing.visit_id):
        assert mark not in text
    assert "Puumala" not in text
    busy = [detail for detail in error["details"] if detail["code"] == "worker_busy"]
    assert busy and all(detail["event"] == {"kind": "busy", "id": None} for detail in busy)


def test_an_admin_is_told_which_family_the_clash_is_with(app, world, crossing):
    caller = Caller(app, "admin", world)
    response = caller.client.post("/api/v1/visits", json=_own_family_booking(world, crossing),
                                  headers=caller.headers)
    assert response.status_code == 409
    assert crossing.family.reference in response.get_json()["error"]["message"]


@pytest.mark.parametrize("role", ["coordinator", "family_worker"])
def test_a_clash_with_the_crossing_visit_names_no_family_on_the_page(app, world, crossing,
                                                                      role):
    caller = Caller(app, role, world)
    family_id = world.own.ids["family_id"]
    form = caller.client.get(f"/calendars/visits/new?family={family_id}")
    response = caller.client.post("/calendars/visits/new", data={
        "csrf_token": csrf_token_from(form.get_data(as_text=True)),
        "family_id": family_id, "kind": "home_visit", "day": "2026-12-03",
        "start": "10:15", "duration_minutes": 60,
        "worker_ids": [world.own.ids["worker_id"], crossing.colleague.id],
        "submit": "1"}, buffered=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page
    assert "clash-hard" in page
    for mark in _identifying(crossing.family, crossing.visit_id):
        assert mark not in page
    assert "Puumala" not in page.split("<main", 1)[-1].split("<select", 1)[0]
