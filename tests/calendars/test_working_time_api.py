"""A family worker's working hours and absences over JSON (/api/v1/workers/<id>/...)."""

from datetime import datetime

import pytest

from tests.calendars.test_feeds import book
from tests.conftest import HELSINKI, bearer, make_user

DEFAULT_DAYS = [{"weekday": day, "start": "08:00", "end": "16:00"} for day in range(1, 6)]
# Wednesday 2 December 2026, a working day after the suite's "now" (Monday 30 November).
TRAINING = {"kind": "training", "start": "2026-12-02T08:00", "end": "2026-12-02T16:00",
            "note": "Ensiapukurssi"}


def hours_url(worker):
    return f"/api/v1/workers/{worker.id}/working-hours"


def absences_url(worker):
    return f"/api/v1/workers/{worker.id}/absences"


def visit_body(family, worker, start, end):
    return {"family_id": family.id, "worker_ids": [worker.id], "kind": "home_visit",
            "start": start, "end": end}


# --- working hours -----------------------------------------------------------

def test_a_worker_reads_sets_and_forgets_their_own_hours(client, worker):
    headers = bearer(worker)
    read = client.get(hours_url(worker), headers=headers)
    assert read.status_code == 200
    assert read.get_json() == {"default": True, "days": DEFAULT_DAYS}

    # Given in any order, answered Monday first.
    days = [{"weekday": 4, "start": "12:00", "end": "20:00"},
            {"weekday": 1, "start": "07:30", "end": "15:30"}]
    put = client.put(hours_url(worker), headers=headers, json={"days": days})
    assert put.status_code == 200, put.get_json()
    own = {"default": False, "days": [days[1], days[0]]}
    assert put.get_json() == own
    assert client.get(hours_url(worker), headers=headers).get_json() == own

    # Replaced, not merged.
    again = client.put(hours_url(worker), headers=headers, json={"days": days[:1]})
    assert again.get_json()["days"] == days[:1]

    assert client.delete(hours_url(worker), headers=headers).status_code == 204
    assert client.get(hours_url(worker), headers=headers).get_json() == {
        "default": True, "days": DEFAULT_DAYS}


def test_the_clash_check_reads_the_hours_set(client, coordinator, worker, family):
    """Monday 7 December at 13:00 is inside the default hours, outside the worker's."""
    headers = bearer(coordinator)
    late = visit_body(family, worker, "2026-12-07T13:00", "2026-12-07T14:00")
    client.put(hours_url(worker), headers=bearer(worker), json={
        "days": [{"weekday": 1, "start": "08:00", "end": "12:00"}]})
    refused = client.post("/api/v1/visits", headers=headers, json=late)
    assert refused.status_code == 409
    assert [d["code"] for d in refused.get_json()["error"]["details"]] == [
        "outside_working_hours"]
    client.delete(hours_url(worker), headers=bearer(worker))
    assert client.post("/api/v1/visits", headers=headers, json=late).status_code == 201


def test_a_coordinator_of_the_workers_municipality_manages_their_hours(
        client, coordinator, worker):
    headers = bearer(coordinator)
    assert client.get(hours_url(worker), headers=headers).status_code == 200
    put = client.put(hours_url(worker), headers=headers, json={
        "days": [{"weekday": 2, "start": "09:00", "end": "17:00"}]})
    assert put.status_code == 200
    assert client.get(hours_url(worker), headers=bearer(worker)).get_json() == {
        "default": False, "days": [{"weekday": 2, "start": "09:00", "end": "17:00"}]}
    assert client.delete(hours_url(worker), headers=headers).status_code == 204
    assert client.get(hours_url(worker), headers=headers).get_json()["default"] is True


@pytest.mark.parametrize("role", ["outsider", "social_worker", "other_worker"])
def test_others_do_not_find_a_workers_hours(client, worker, role):
    caller = {"outsider": lambda: make_user("coordinator", municipalities=("Puumala",)),
              "social_worker": lambda: make_user("social_worker"),
              "other_worker": lambda: make_user("family_worker")}[role]()
    headers = bearer(caller)
    body = {"days": [{"weekday": 1, "start": "06:00", "end": "07:00"}]}
    assert client.get(hours_url(worker), headers=headers).status_code == 404
    assert client.put(hours_url(worker), headers=headers, json=body).status_code == 404
    assert client.delete(hours_url(worker), headers=headers).status_code == 404
    assert client.get(absences_url(worker), headers=headers).status_code == 404
    assert client.post(absences_url(worker), headers=headers,
                       json=TRAINING).status_code == 404
    # Nothing changed.
    assert client.get(hours_url(worker), headers=bearer(worker)).get_json()["default"]
    assert client.get(absences_url(worker), headers=bearer(worker)).get_json() == []


def test_only_family_workers_have_working_time(client, coordinator):
    """A coordinator is not a family worker, even to themselves."""
    assert client.get(hours_url(coordinator),
                      headers=bearer(coordinator)).status_code == 404
    assert client.get("/api/v1/workers/999999/working-hours",
                      headers=bearer(coordinator)).status_code == 404


def test_anonymous_callers_get_401(client, worker):
    assert client.get(hours_url(worker)).status_code == 401
    assert client.put(hours_url(worker), json={"days": DEFAULT_DAYS}).status_code == 401
    assert client.delete(hours_url(worker)).status_code == 401
    assert client.get(absences_url(worker)).status_code == 401
    assert client.post(absences_url(worker), json=TRAINING).status_code == 401
    assert client.delete("/api/v1/absences/1").status_code == 401


def _day(weekday=1, start="08:00", end="16:00"):
    return {"weekday": weekday, "start": start, "end": end}


@pytest.mark.parametrize(("body", "field"), [
    ({"days": [_day(start="16:00", end="08:00")]}, "weekday_1"),
    ({"days": [_day(start="08:00", end="08:00")]}, "weekday_1"),
    ({"days": [_day(weekday=0)]}, "days"),
    ({"days": [_day(weekday=8)]}, "days"),
    ({"days": [_day(weekday=True)]}, "days"),
    ({"days": [_day(weekday="1")]}, "days"),
    ({"days": [_day(), _day(start="09:00")]}, "days"),
    ({"days": []}, "days"),
    ({"days": [_day(end="25:00")]}, "days"),
    ({"days": [_day(start="8:00")]}, "days"),
    ({"days": [{"weekday": 1, "start": "08:00"}]}, "days"),
    ({"days": [_day(day) for day in range(1, 8)] + [_day(1)]}, "days"),
    ({"days": "Monday"}, "days"),
    ({}, "days"),
    ({"days": [_day()], "weeks": 2}, "weeks"),
])
def test_malformed_hours_get_422_and_change_nothing(client, worker, body, field):
    headers = bearer(worker)
    client.put(hours_url(worker), headers=headers, json={"days": [_day(3, "10:00", "14:00")]})
    response = client.put(hours_url(worker), headers=headers, json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert client.get(hours_url(worker), headers=headers).get_json()["days"] == [
        _day(3, "10:00", "14:00")]


@pytest.mark.parametrize("url", [hours_url, absences_url])
@pytest.mark.parametrize("send", [
    {"data": "{days: 1", "content_type": "application/json"},
    {"data": "days=1", "content_type": "application/x-www-form-urlencoded"},
    {"json": [{"weekday": 1, "start": "08:00", "end": "16:00"}]},
])
def test_a_body_that_is_not_a_json_object_is_400(client, worker, url, send):
    method = client.put if url is hours_url else client.post
    response = method(url(worker), headers=bearer(worker), **send)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


# --- absences ----------------------------------------------------------------

def test_an_absence_over_a_booked_visit_needs_a_confirmation(
        client, coordinator, worker, family):
    visit = book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    headers = bearer(worker)

    refused = client.post(absences_url(worker), headers=headers, json=TRAINING)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "confirmation_required"
    assert [(d["kind"], d["id"]) for d in error["details"]] == [("home_visit", visit.id)]
    assert client.get(absences_url(worker), headers=headers).get_json() == []

    created = client.post(absences_url(worker), headers=headers,
                          json={**TRAINING, "confirm": True})
    assert created.status_code == 201, created.get_json()
    absence = created.get_json()
    assert "Location" not in created.headers
    assert [(e["type"], e["id"], e["start"]) for e in absence.pop("booked")] == [
        ("home_visit", visit.id, "2026-12-02T10:00:00+02:00")]
    assert absence == {"id": absence["id"], "worker_id": worker.id, "kind": "training",
                       "start": "2026-12-02T08:00:00+02:00",
                       "end": "2026-12-02T16:00:00+02:00", "note": "Ensiapukurssi"}
    # The absence moves nothing: the visit is still booked.
    assert client.get(f"/api/v1/visits/{visit.id}",
                      headers=bearer(coordinator)).get_json()["status"] == "scheduled"


def test_an_absence_with_nothing_booked_is_recorded_at_once(client, coordinator, worker):
    created = client.post(absences_url(worker), headers=bearer(coordinator), json={
        "kind": "leave", "start": "2026-12-14T00:00:00+02:00",
        "end": "2026-12-19T00:00:00+02:00"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["booked"] == []
    assert created.get_json()["note"] == ""
    [listed] = client.get(absences_url(worker), headers=bearer(worker)).get_json()
    assert listed["id"] == created.get_json()["id"] and listed["kind"] == "leave"


def test_no_visit_is_booked_in_an_absence(client, coordinator, worker, family):
    headers = bearer(coordinator)
    created = client.post(absences_url(worker), headers=bearer(worker), json=TRAINING)
    assert created.status_code == 201
    during = visit_body(family, worker, "2026-12-02T13:00", "2026-12-02T14:00")
    refused = client.post("/api/v1/visits", headers=headers, json=during)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "visit_conflict"
    assert "worker_absent" in {detail["code"] for detail in error["details"]}
    # Not even confirmed: being away is a hard clash.
    assert client.post("/api/v1/visits", headers=headers,
                       json={**during, "confirm": True}).status_code == 409

    absence_id = created.get_json()["id"]
    assert client.delete(f"/api/v1/absences/{absence_id}",
                         headers=bearer(worker)).status_code == 204
    assert client.post("/api/v1/visits", headers=headers, json=during).status_code == 201


def test_absences_are_listed_from_a_day(client, worker):
    headers = bearer(worker)
    bodies = [{"kind": "leave", "start": "2026-12-21T00:00", "end": "2026-12-24T00:00"},
              {"kind": "other", "start": "2026-11-20T08:00", "end": "2026-11-20T12:00"},
              TRAINING]
    ids = [client.post(absences_url(worker), headers=headers,
                       json=body).get_json()["id"] for body in bodies]

    def listed(query=""):
        response = client.get(absences_url(worker) + query, headers=headers)
        assert response.status_code == 200
        return [absence["id"] for absence in response.get_json()]

    # From today (30 November) by default, the earliest first; the past one is left off.
    assert listed() == [ids[2], ids[0]]
    assert listed("?from=2026-11-01") == [ids[1], ids[2], ids[0]]
    assert listed("?from=2026-12-03") == [ids[0]]
    # Ending at midnight on the 24th: over before the 24th starts.
    assert listed("?from=2026-12-24") == []
    bad = client.get(absences_url(worker) + "?from=tomorrow", headers=headers)
    assert bad.status_code == 422 and "from" in bad.get_json()["error"]["fields"]


def test_absences_are_deleted_by_whoever_manages_the_worker(client, coordinator, worker):
    created = client.post(absences_url(worker), headers=bearer(worker), json=TRAINING)
    url = f"/api/v1/absences/{created.get_json()['id']}"
    for stranger in (make_user("family_worker"), make_user("social_worker"),
                     make_user("coordinator", municipalities=("Puumala",))):
        assert client.delete(url, headers=bearer(stranger)).status_code == 404
    assert len(client.get(absences_url(worker), headers=bearer(worker)).get_json()) == 1

    assert client.delete(url, headers=bearer(coordinator)).status_code == 204
    assert client.get(absences_url(worker), headers=bearer(worker)).get_json() == []
    assert client.delete(url, headers=bearer(coordinator)).status_code == 404


@pytest.mark.parametrize(("changes", "field"), [
    ({"kind": "holiday"}, "kind"),
    ({"kind": None}, "kind"),
    ({"end": "2026-12-02T07:00"}, "end"),
    ({"end": TRAINING["start"]}, "end"),
    ({"end": "2027-12-04T08:00"}, "end"),
    ({"note": "x" * 301}, "note"),
    ({"note": "a\x00b"}, "note"),
    ({"start": "tomorrow"}, "start"),
    ({"start": "1999-12-31T08:00"}, "start"),
    ({"confirm": "yes"}, "confirm"),
    ({"start": None}, "start"),
    ({"worker": 3}, "worker"),
])
def test_malformed_absences_get_422(client, worker, changes, field):
    headers = bearer(worker)
    response = client.post(absences_url(worker), headers=headers,
                           json={**TRAINING, **changes})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert client.get(absences_url(worker) + "?from=2026-01-01",
                      headers=headers).get_json() == []


def test_required_absence_fields(client, worker):
    response = client.post(absences_url(worker), headers=bearer(worker), json={})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"kind", "start", "end"}


def test_an_absence_of_a_year_is_allowed_and_no_longer(client, worker):
    headers = bearer(worker)
    year = {"kind": "leave", "start": "2027-01-01T00:00", "end": "2028-01-02T00:00"}
    assert client.post(absences_url(worker), headers=headers, json=year).status_code == 201
    longer = {**year, "end": "2028-01-02T00:01"}
    response = client.post(absences_url(worker), headers=headers, json=longer)
    assert response.status_code == 422
    assert "end" in response.get_json()["error"]["fields"]
