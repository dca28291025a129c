"""/api/v1/visits, a worker's events and free slots over JSON."""

import pytest

from tests.conftest import bearer, make_family, make_group, make_user


def visit_body(family, worker, start="2026-12-02T10:00", end="2026-12-02T11:00", **extra):
    return {"family_id": family.id, "worker_ids": [worker.id], "kind": "home_visit",
            "start": start, "end": end, **extra}


def test_book_read_move_and_cancel_a_visit(client, coordinator, worker, family):
    headers = bearer(coordinator)
    created = client.post("/api/v1/visits", headers=headers, json=visit_body(family, worker))
    assert created.status_code == 201, created.get_json()
    visit = created.get_json()
    assert visit["start"] == "2026-12-02T10:00:00+02:00"
    assert visit["place"] == family.address and visit["municipality"] == "Mikkeli"

    moved = client.patch(f"/api/v1/visits/{visit['id']}", headers=headers,
                         json={"start": "2026-12-03T12:00:00+02:00"})
    assert moved.get_json()["end"] == "2026-12-03T13:00:00+02:00"
    assert moved.get_json()["sequence"] == 1
    cancelled = client.patch(f"/api/v1/visits/{visit['id']}", headers=headers,
                             json={"status": "cancelled", "status_reason": "Sairastuminen"})
    assert cancelled.get_json()["sequence"] == 2
    assert client.get(f"/api/v1/visits/{visit['id']}", headers=headers).status_code == 200
    assert client.delete(f"/api/v1/visits/{visit['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/visits/{visit['id']}", headers=headers).status_code == 404


def test_a_hard_clash_is_409_with_what_it_clashes_with(client, coordinator, worker, family):
    headers = bearer(coordinator)
    client.post("/api/v1/visits", headers=headers, json=visit_body(family, worker))
    response = client.post("/api/v1/visits", headers=headers, json=visit_body(
        family, worker, start="2026-12-02T10:30", end="2026-12-02T11:30"))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "visit_conflict"
    assert {detail["code"] for detail in error["details"]} == {"worker_busy", "family_busy"}


def test_a_soft_clash_is_409_until_confirmed(client, coordinator, worker, family):
    headers = bearer(coordinator)
    late = visit_body(family, worker, start="2026-12-02T17:00", end="2026-12-02T18:00")
    response = client.post("/api/v1/visits", headers=headers, json=late)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "confirmation_required"
    confirmed = client.post("/api/v1/visits", headers=headers, json={**late, "confirm": True})
    assert confirmed.status_code == 201


def test_the_plan_rule_is_422(client, coordinator, worker):
    family = make_family(coordinator, workers=[worker])
    response = client.post("/api/v1/visits", headers=bearer(coordinator),
                           json=visit_body(family, worker))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "plan_required"


@pytest.mark.parametrize(("changes", "field"), [
    ({"start": "tomorrow"}, "start"),
    ({"end": "2026-12-02T09:00"}, "end"),
    ({"kind": "coffee"}, "kind"),
    ({"worker_ids": []}, "worker_ids"),
    ({"worker_ids": "me"}, "worker_ids"),
    ({"place": "x" * 201}, "place"),
])
def test_malformed_visits_get_422(client, coordinator, worker, family, changes, field):
    response = client.post("/api/v1/visits", headers=bearer(coordinator),
                           json={**visit_body(family, worker), **changes})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_a_series_is_booked_with_its_skipped_dates(client, coordinator, worker, family):
    response = client.post("/api/v1/visits", headers=bearer(coordinator), json={
        "family_id": family.id, "worker_ids": [worker.id], "kind": "home_visit",
        "series": {"weekday": 4, "start_time": "10:00", "duration_minutes": 60,
                   "first_date": "2026-12-17", "count": 3, "interval_weeks": 1}})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert [v["start"][:10] for v in body["visits"]] == ["2026-12-17", "2026-12-31",
                                                         "2027-01-07"]
    assert body["skipped"] == [{"date": "2026-12-24", "reason": "Jouluaatto"}]


def test_worker_events_join_visits_and_group_sessions(client, coordinator, worker, family):
    make_group(coordinator, facilitators=[worker])
    client.post("/api/v1/visits", headers=bearer(coordinator), json=visit_body(family, worker))
    events = client.get(f"/api/v1/workers/{worker.id}/events?from=2026-11-30&to=2026-12-06",
                        headers=bearer(worker)).get_json()
    assert [(e["type"], e["start"]) for e in events] == [
        ("group_session", "2026-12-01T17:00:00+02:00"),
        ("home_visit", "2026-12-02T10:00:00+02:00")]
    assert events[1]["family_reference"] == family.reference


def test_calendars_are_for_oneself_and_ones_coordinators(client, worker):
    other = make_user("family_worker")
    outsider = make_user("coordinator", municipalities=("Puumala",))
    assert client.get(f"/api/v1/workers/{worker.id}/events",
                      headers=bearer(other)).status_code == 404
    assert client.get(f"/api/v1/workers/{worker.id}/events",
                      headers=bearer(outsider)).status_code == 404


def test_free_slots_best_first(client, coordinator, worker, family):
    response = client.get(
        f"/api/v1/workers/{worker.id}/free-slots?from=2026-12-02&to=2026-12-02"
        f"&duration=60&family={family.id}", headers=bearer(coordinator))
    slots = response.get_json()
    assert slots[0]["start"] == "2026-12-02T08:00:00+02:00"
    assert len(slots) == 29  # 08:00 to 15:00 every 15 minutes


@pytest.mark.parametrize("query", ["from=2026-13-01", "duration=0", "duration=abc", "",
                                   "from=2026-12-10&to=2026-12-01",
                                   "from=2026-01-01&to=2026-12-31"])
def test_malformed_slot_queries_get_422(client, coordinator, worker, query):
    if "duration" not in query:
        query += "&duration=60" if query else "duration=60&to=2027-06-01"
    response = client.get(f"/api/v1/workers/{worker.id}/free-slots?{query}",
                          headers=bearer(coordinator))
    assert response.status_code == 422


@pytest.mark.parametrize("start", ["0675-07-17T10:12:18Z", "9999-12-31T23:59:59-23:59"])
def test_a_time_far_from_the_present_is_a_422(client, coordinator, worker, family, start):
    """Before 2000 Helsinki's offset had seconds, which the answer could not write."""
    answer = client.post("/api/v1/visits", headers=bearer(coordinator),
                         json=visit_body(family, worker, start=start))
    assert answer.status_code == 422
    assert "start" in answer.get_json()["error"]["fields"]
