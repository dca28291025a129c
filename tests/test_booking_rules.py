"""The booking rule on every path, pages and API, over every family state.

Rule 4 of the work (a plan before regular visits; one planning meeting before
it; a child-protection plan in force once it records the social worker's
participation) and the end of the work (a closed family gets nothing) are one
function, ``families.services.booking_refusal``. Each path that books a visit
or brings one back onto the calendar is run here for every family status,
track, plan and kind of visit, and must answer as the rule does.
"""

from datetime import date, datetime, timedelta
from itertools import product

import pytest
import sqlalchemy as sa
from markupsafe import escape

from calendars.models import VISIT_KINDS, HomeVisit, VisitSeries
from core.errors import RuleViolation
from extensions import db
from families.models import STATUSES, Plan
from families.services import PLAN_STATES, booking_refusal, plan_state
from tests.conftest import (
    HELSINKI,
    NOW,
    bearer,
    csrf_token_from,
    login,
    make_family,
    make_group,
    make_user,
)

TRACKS = ("preventive", "child_protection")
# What is stored of a plan: none, or one with the social worker's participation
# not recorded or recorded. The rule reads a plan state from it and the track.
PLANS = (None, False, True)
FAMILY_STATES = list(product(STATUSES, TRACKS, PLANS))
SERIES_COUNT = 3


def at(day, hour):
    return datetime(2026, 12, day, hour, 0, tzinfo=HELSINKI)


# --- the rule, read from the seed's README ------------------------------------

@pytest.mark.parametrize(("status", "track", "plan", "kind"),
                         list(product(STATUSES, TRACKS, PLANS, VISIT_KINDS + ("group_place",))))
def test_the_rule_is_the_seeds(status, track, plan, kind):
    """Said once more in the README's words: nothing for a closed family; a plan,
    on the child-protection track one with the social worker's participation,
    before anything but the planning meeting; before it, one planning meeting."""
    in_force = plan is True or (plan is False and track == "preventive")
    for booked, occurrences in ((0, 1), (1, 1), (0, 2)):
        refusal = booking_refusal(status=status, track=track,
                                  plan=plan_state(track, plan is not None, bool(plan)),
                                  kind=kind, planning_meetings_booked=booked,
                                  occurrences=occurrences)
        allowed = status != "closed" and (in_force or (
            kind == "planning_meeting" and booked == 0 and occurrences == 1))
        assert (refusal is None) == allowed, (booked, occurrences)
        if refusal is not None:
            assert isinstance(refusal, RuleViolation)
            assert refusal.code == (
                "family_closed" if status == "closed"
                else "one_planning_meeting" if kind == "planning_meeting"
                else "plan_required" if plan is None
                else "social_worker_participation_required")


def test_plan_states_are_the_three():
    assert {plan_state(track, plan is not None, bool(plan))
            for track, plan in product(TRACKS, PLANS)} == set(PLAN_STATES)


# --- families in every state ---------------------------------------------------

@pytest.fixture
def families(app, coordinator, social_worker):
    """One family per (status, track, plan), put in that state directly: some
    states (an active child-protection family whose plan lacks the social
    worker) are what older data and side doors left behind."""
    made = {}
    for status, track, plan in FAMILY_STATES:
        family = make_family(coordinator, track=track, social_worker=social_worker)
        if plan is not None:
            family.plan = Plan(goals=["parenthood"], content="", agreed_with="Anna",
                               start_date=date(2026, 11, 20), review_date=date(2027, 2, 20),
                               social_worker_participated=plan, created_at=NOW,
                               updated_at=NOW)
        family.status = status
        made[status, track, plan] = family
    db.session.commit()
    return made


@pytest.fixture
def worker(app):
    return make_user("family_worker")


def expected(status, track, plan, kind, occurrences=1):
    return booking_refusal(status=status, track=track,
                           plan=plan_state(track, plan is not None, bool(plan)), kind=kind,
                           occurrences=occurrences)


def reset(family, status):
    """Remove what an attempt booked and put the family back in its state."""
    for visit in db.session.scalars(sa.select(HomeVisit).where(
            HomeVisit.family_id == family.id)):
        db.session.delete(visit)
    db.session.flush()
    db.session.execute(sa.delete(VisitSeries).where(VisitSeries.family_id == family.id))
    family.status = status
    db.session.commit()


def put_visit(family, worker, kind, status, start):
    """A visit in the database as an earlier booking left it."""
    visit = HomeVisit(family=family, kind=kind, start=start, end=start + timedelta(hours=1),
                      workers=[worker], place="", municipality=family.municipality,
                      status=status, created_at=NOW, updated_at=NOW)
    db.session.add(visit)
    db.session.commit()
    return visit


def other_kind(kind):
    return "home_visit" if kind == "planning_meeting" else "planning_meeting"


# --- the paths -------------------------------------------------------------------
# Each takes the client, the family, the worker and a kind, and returns the
# response and how many visits it books at once. An API answer refused by the
# rule is 422 with the rule's code; a page is 422 showing the rule's message.

def api_book(client, family, worker, kind):
    return client.post("/api/v1/visits", headers=client.headers, json={
        "family_id": family.id, "worker_ids": [worker.id], "kind": kind,
        "start": "2026-12-02T10:00", "end": "2026-12-02T11:00", "confirm": True}), 1


def api_series(client, family, worker, kind):
    return client.post("/api/v1/visits", headers=client.headers, json={
        "family_id": family.id, "worker_ids": [worker.id], "kind": kind, "confirm": True,
        "series": {"weekday": 3, "start_time": "10:00", "duration_minutes": 60,
                   "first_date": "2026-12-02", "count": SERIES_COUNT}}), SERIES_COUNT


def _booking_form(family, worker, kind, **overrides):
    return {"family_id": str(family.id), "kind": kind, "day": "2026-12-02",
            "start": "10:00", "duration_minutes": "60", "end": "",
            "worker_ids": [str(worker.id)], "place": "", "repeat": "", "count": "",
            "confirm": "y", **overrides}


def page_book(client, family, worker, kind):
    return client.post(f"/calendars/visits/new?family={family.id}", data={
        **_booking_form(family, worker, kind), "csrf_token": client.csrf}), 1


def page_series(client, family, worker, kind):
    return client.post(f"/calendars/visits/new?family={family.id}", data={
        **_booking_form(family, worker, kind, repeat="1", count=str(SERIES_COUNT)),
        "csrf_token": client.csrf}), SERIES_COUNT


def api_restore(client, family, worker, kind):
    visit = put_visit(family, worker, kind, "cancelled", at(2, 10))
    return client.patch(f"/api/v1/visits/{visit.id}", headers=client.headers,
                        json={"status": "scheduled", "confirm": True}), 1


def api_restore_as_held(client, family, worker, kind):
    visit = put_visit(family, worker, kind, "cancelled", at(1, 10) - timedelta(days=7))
    return client.patch(f"/api/v1/visits/{visit.id}", headers=client.headers,
                        json={"status": "done"}), 1


def api_move(client, family, worker, kind):
    visit = put_visit(family, worker, kind, "scheduled", at(2, 10))
    return client.patch(f"/api/v1/visits/{visit.id}", headers=client.headers, json={
        "start": "2026-12-03T10:00", "end": "2026-12-03T11:00", "confirm": True}), 1


def api_change_kind(client, family, worker, kind):
    visit = put_visit(family, worker, other_kind(kind), "scheduled", at(2, 10))
    return client.patch(f"/api/v1/visits/{visit.id}", headers=client.headers,
                        json={"kind": kind}), 1


def api_notes(client, family, worker, kind):
    visit = put_visit(family, worker, kind, "scheduled", at(2, 10))
    return client.patch(f"/api/v1/visits/{visit.id}", headers=client.headers,
                        json={"notes": "Sovittiin seuraavasta."}), 1


def page_move(client, family, worker, kind):
    visit = put_visit(family, worker, kind, "scheduled", at(2, 10))
    return client.post(f"/calendars/visits/{visit.id}/move", data={
        "day": "2026-12-03", "start": "10:00", "end": "11:00", "confirm": "y",
        "csrf_token": client.csrf}), 1


def page_notes(client, family, worker, kind):
    visit = put_visit(family, worker, kind, "scheduled", at(2, 10))
    return client.post(f"/calendars/visits/{visit.id}/notes", data={
        "notes": "Sovittiin seuraavasta.", "csrf_token": client.csrf}), 1


def page_restore_as_held(client, family, worker, kind):
    visit = put_visit(family, worker, kind, "cancelled", at(1, 10) - timedelta(days=7))
    return client.post(f"/calendars/visits/{visit.id}/done",
                       data={"csrf_token": client.csrf}), 1


API_PATHS = (api_book, api_series, api_restore, api_restore_as_held, api_move,
             api_change_kind, api_notes)
PAGE_PATHS = (page_book, page_series, page_move, page_notes, page_restore_as_held)


@pytest.mark.parametrize("path", API_PATHS + PAGE_PATHS, ids=lambda path: path.__name__)
def test_every_path_answers_as_the_rule(client, coordinator, worker, families, path):
    if path in API_PATHS:
        client.headers = bearer(coordinator)
    else:
        login(client, coordinator)
        client.csrf = csrf_token_from(client.get("/calendars/visits/new").get_data(
            as_text=True))
    disagreements = []
    for (status, track, plan), kind in product(FAMILY_STATES, VISIT_KINDS):
        family = families[status, track, plan]
        response, occurrences = path(client, family, worker, kind)
        refusal = expected(status, track, plan, kind, occurrences)
        if path in API_PATHS:
            answer = (response.status_code, response.get_json().get("error", {}).get("code")
                      if response.status_code >= 400 else None)
            wanted = (422, refusal.code) if refusal else (response.status_code, None)
            ok = answer == wanted and (refusal or response.status_code in (200, 201))
        else:
            html = response.get_data(as_text=True)
            ok = (response.status_code == 422 and str(escape(refusal.message)) in html
                  if refusal else response.status_code == 302)
            answer = response.status_code
        if not ok:
            disagreements.append((status, track, plan, kind, answer,
                                  refusal.code if refusal else None))
        reset(family, status)
    assert disagreements == []


# --- the side doors, one by one ---------------------------------------------------

def visit_body(family, worker, kind, day=2, **extra):
    return {"family_id": family.id, "worker_ids": [worker.id], "kind": kind,
            "start": f"2026-12-{day:02d}T10:00", "end": f"2026-12-{day:02d}T11:00",
            "confirm": True, **extra}


def error_code(response):
    return response.get_json()["error"]["code"]


def test_one_planning_meeting_before_the_plan_through_the_api(client, coordinator, worker):
    family = make_family(coordinator, workers=[worker])
    headers = bearer(coordinator)
    body = visit_body(family, worker, "planning_meeting")
    del body["start"], body["end"]
    series = client.post("/api/v1/visits", headers=headers, json={
        **body, "series": {"weekday": 3, "start_time": "10:00", "duration_minutes": 60,
                   "first_date": "2026-12-02", "count": 4}})
    assert series.status_code == 422 and error_code(series) == "one_planning_meeting"
    first = client.post("/api/v1/visits", headers=headers,
                        json=visit_body(family, worker, "planning_meeting"))
    assert first.status_code == 201
    second = client.post("/api/v1/visits", headers=headers,
                         json=visit_body(family, worker, "planning_meeting", day=9))
    assert second.status_code == 422 and error_code(second) == "one_planning_meeting"
    cancelled = client.patch(f"/api/v1/visits/{first.get_json()['id']}", headers=headers,
                             json={"status": "cancelled"})
    assert cancelled.status_code == 200
    again = client.post("/api/v1/visits", headers=headers,
                        json=visit_body(family, worker, "planning_meeting", day=9))
    assert again.status_code == 201
    restored = client.patch(f"/api/v1/visits/{first.get_json()['id']}", headers=headers,
                            json={"status": "scheduled"})
    assert restored.status_code == 422 and error_code(restored) == "one_planning_meeting"
    assert db.session.scalar(sa.select(sa.func.count(VisitSeries.id))) == 0


def test_one_planning_meeting_before_the_plan_on_the_page(client, coordinator, worker):
    family = make_family(coordinator, workers=[worker])
    login(client, coordinator)
    client.csrf = csrf_token_from(client.get("/calendars/visits/new").get_data(as_text=True))
    series, _ = page_series(client, family, worker, "planning_meeting")
    refusal = expected("referred", "preventive", None, "planning_meeting", SERIES_COUNT)
    assert series.status_code == 422
    assert str(escape(refusal.message)) in series.get_data(as_text=True)
    first, _ = page_book(client, family, worker, "planning_meeting")
    assert first.status_code == 302
    second = client.post(f"/calendars/visits/new?family={family.id}", data={
        **_booking_form(family, worker, "planning_meeting", day="2026-12-09"),
        "csrf_token": client.csrf})
    assert second.status_code == 422
    assert str(escape(refusal.message)) in second.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(HomeVisit.id))) == 1


def test_a_closed_familys_cancelled_visit_stays_off_the_calendar(client, coordinator, worker):
    family = make_family(coordinator, workers=[worker], plan=True)
    headers = bearer(coordinator)
    visit = client.post("/api/v1/visits", headers=headers,
                        json=visit_body(family, worker, "home_visit")).get_json()
    closed = client.post(f"/api/v1/families/{family.id}/close", headers=headers,
                         json={"confirm": True})
    assert closed.status_code == 200
    for change in ({"status": "scheduled"}, {"status": "scheduled", "kind": "home_visit"},
                   {"status": "scheduled", "start": "2026-12-03T10:00",
                    "end": "2026-12-03T11:00"}):
        response = client.patch(f"/api/v1/visits/{visit['id']}", headers=headers,
                                json=change)
        assert response.status_code == 422 and error_code(response) == "family_closed"
    db.session.expire_all()
    assert db.session.get(HomeVisit, visit["id"]).status == "cancelled"


def test_a_closed_familys_cancelled_visit_is_not_restored_on_the_page(client, coordinator,
                                                                      worker):
    family = make_family(coordinator, workers=[worker], plan=True)
    visit = put_visit(family, worker, "home_visit", "cancelled", at(1, 10) - timedelta(days=7))
    family.status = "closed"
    db.session.commit()
    login(client, coordinator)
    page = client.get(f"/calendars/visits/{visit.id}").get_data(as_text=True)
    response = client.post(f"/calendars/visits/{visit.id}/done",
                           data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 422
    assert "The family&#39;s work has ended" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(HomeVisit, visit.id).status == "cancelled"


def test_moving_to_child_protection_through_the_api(client, coordinator, social_worker,
                                                    worker):
    family = make_family(coordinator, workers=[worker], plan=True)
    group = make_group(coordinator, capacity=5)
    headers = bearer(coordinator)
    assert family.status == "active"
    without = client.patch(f"/api/v1/families/{family.id}", headers=headers, json={
        "track": "child_protection", "referral_source": "social_worker"})
    assert without.status_code == 422
    assert error_code(without) == "responsible_social_worker_required"
    moved = client.patch(f"/api/v1/families/{family.id}", headers=headers, json={
        "track": "child_protection", "referral_source": "social_worker",
        "responsible_social_worker_id": social_worker.id})
    assert moved.status_code == 200
    body = moved.get_json()
    assert body["status"] == "planning"
    assert body["plan"]["social_worker_participated"] is False
    home = client.post("/api/v1/visits", headers=headers,
                       json=visit_body(family, worker, "home_visit"))
    assert home.status_code == 422
    assert error_code(home) == "social_worker_participation_required"
    place = client.post(f"/api/v1/groups/{group.id}/enrollments", headers=headers, json={
        "family_id": family.id, "member_ids": [m.id for m in family.members]})
    assert place.status_code == 422
    assert error_code(place) == "social_worker_participation_required"
    active = client.patch(f"/api/v1/families/{family.id}", headers=headers,
                          json={"status": "active"})
    assert active.status_code == 422
    assert error_code(active) == "social_worker_participation_required"
    meeting = client.post("/api/v1/visits", headers=headers,
                          json=visit_body(family, worker, "planning_meeting"))
    assert meeting.status_code == 201
    plan = client.put(f"/api/v1/families/{family.id}/plan", headers=headers, json={
        "goals": ["parenthood"], "start_date": "2026-11-20", "review_date": "2027-02-20",
        "social_worker_participated": True})
    assert plan.status_code == 200 and plan.get_json()["social_worker_participated"] is True
    assert client.get(f"/api/v1/families/{family.id}",
                      headers=headers).get_json()["status"] == "active"
    home = client.post("/api/v1/visits", headers=headers,
                       json=visit_body(family, worker, "home_visit", day=3))
    assert home.status_code == 201


def test_moving_to_child_protection_on_the_page(client, coordinator, social_worker, worker):
    family = make_family(coordinator, workers=[worker], plan=True)
    login(client, coordinator)
    url = f"/families/{family.id}/edit"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    form = {"surname": family.surname, "municipality": "Mikkeli",
            "address": family.address, "track": "child_protection",
            "referral_source": "social_worker", "referral_date": "2026-11-02",
            "responsible_social_worker_id": "", "family_worker_ids": [str(worker.id)],
            "languages": ["fi"], "status": "active", "csrf_token": token}
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    assert "needs a responsible social worker" in refused.get_data(as_text=True)
    moved = client.post(url, data={**form, "responsible_social_worker_id":
                                   str(social_worker.id)})
    assert moved.status_code == 302
    db.session.expire_all()
    family = db.session.get(type(family), family.id)
    assert (family.track, family.status) == ("child_protection", "planning")
    client.csrf = csrf_token_from(client.get("/calendars/visits/new").get_data(as_text=True))
    home, _ = page_book(client, family, worker, "home_visit")
    assert home.status_code == 422
    refusal = expected("planning", "child_protection", False, "home_visit")
    assert str(escape(refusal.message)) in home.get_data(as_text=True)
    plan_url = f"/families/{family.id}/plan"
    plan_page = client.get(plan_url).get_data(as_text=True)
    saved = client.post(plan_url, data={
        "goals": ["parenthood"], "content": "", "agreed_with": "Anna",
        "start_date": "2026-11-20", "review_date": "2027-02-20",
        "social_worker_participated": "y", "csrf_token": csrf_token_from(plan_page)})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(family), family.id).status == "active"
    home, _ = page_book(client, family, worker, "home_visit")
    assert home.status_code == 302
