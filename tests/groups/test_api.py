"""/api/v1/groups, sessions, enrollments and attendance over JSON."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.clock import FixedClock, set_clock
from extensions import db
from groups.models import GroupSession, PeerGroup
from tests.conftest import bearer, make_family, make_group, make_user

HELSINKI = ZoneInfo("Europe/Helsinki")

NEW_GROUP = {
    "name": "Vauvaperheiden ryhmä",
    "description": "Vertaistukea vauvaperheille",
    "themes": ["parenthood", "care_and_upbringing"],
    "min_age_months": 0,
    "max_age_months": 12,
    "tracks": ["preventive"],
    "language": "fi",
    "municipalities": ["Mikkeli"],
    "capacity": 6,
    "series": {"weekday": 4, "start_time": "09:30", "duration_minutes": 90,
               "first_date": "2026-12-10", "count": 4},
}


def error_of(response):
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def enroll(client, headers, group, family):
    return client.post(f"/api/v1/groups/{group.id}/enrollments", headers=headers, json={
        "family_id": family.id, "member_ids": [m.id for m in family.members]})


def test_create_a_group_with_its_series(client, coordinator):
    response = client.post("/api/v1/groups", json=NEW_GROUP, headers=bearer(coordinator))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "draft"
    assert body["series"]["start_time"] == "09:30"
    assert body["free_places"] == 6
    sessions = client.get(f"/api/v1/groups/{body['id']}/sessions",
                          headers=bearer(coordinator)).get_json()
    assert [s["start"] for s in sessions] == [
        "2026-12-10T09:30:00+02:00", "2026-12-17T09:30:00+02:00",
        "2026-12-31T09:30:00+02:00", "2027-01-07T09:30:00+02:00"]
    assert {"id", "group_id", "start", "end", "venue", "status", "sequence"} <= set(sessions[0])


def test_series_preview_shows_skipped_holidays(client, coordinator):
    response = client.post("/api/v1/groups/series-preview", headers=bearer(coordinator),
                           json=NEW_GROUP["series"])
    body = response.get_json()
    assert [o["date"] for o in body["occurrences"]] == [
        "2026-12-10", "2026-12-17", "2026-12-31", "2027-01-07"]
    assert body["skipped"] == [{"date": "2026-12-24", "reason": "Jouluaatto"}]


@pytest.mark.parametrize(("changes", "field"), [
    ({"themes": ["nonsense"]}, "themes"),
    ({"tracks": []}, "tracks"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": "six"}, "capacity"),
    ({"min_age_months": 24, "max_age_months": 12}, "max_age_months"),
    ({"municipalities": ["Atlantis"]}, "municipalities"),
    ({"venue": "Nowhere"}, "venue"),
    ({"name": "x" * 121}, "name"),
    ({"enrollment_opens": "2026-12-10", "enrollment_closes": "2026-12-01"},
     "enrollment_closes"),
    ({"series": {**NEW_GROUP["series"], "first_date": "2026-02-30"}}, "series"),
    ({"series": {**NEW_GROUP["series"], "start_time": "25:00"}}, "series"),
    ({"series": {**NEW_GROUP["series"], "count": None, "until": "2026-11-01"}}, "until"),
    ({"series": {**NEW_GROUP["series"], "count": None}}, "count"),
    ({"series": {**NEW_GROUP["series"], "interval_weeks": 3}}, "interval_weeks"),
    ({"status": "open"}, "status"),
])
def test_bad_groups_get_422_with_the_field(client, coordinator, changes, field):
    response = client.post("/api/v1/groups", json={**NEW_GROUP, **changes},
                           headers=bearer(coordinator))
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert db.session.scalar(db.select(db.func.count(PeerGroup.id))) == 0


def test_a_body_that_is_not_json_gets_400(client, coordinator):
    response = client.post("/api/v1/groups", data="name=x", headers=bearer(coordinator),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_seats_then_the_waiting_list_then_promotion(client, coordinator):
    group = make_group(coordinator, capacity=1)
    headers = bearer(coordinator)
    first, second = (make_family(coordinator, plan=True) for _ in range(2))

    placed = enroll(client, headers, group, first)
    assert placed.status_code == 201
    assert placed.get_json()["status"] == "enrolled"
    assert placed.get_json()["position"] is None
    waiting = enroll(client, headers, group, second).get_json()
    assert (waiting["status"], waiting["position"]) == ("waitlisted", 1)

    roster = client.get(f"/api/v1/groups/{group.id}/enrollments", headers=headers).get_json()
    assert [(e["family_id"], e["status"]) for e in roster] == [
        (first.id, "enrolled"), (second.id, "waitlisted")]

    withdrawn = client.delete(f"/api/v1/enrollments/{placed.get_json()['id']}",
                              headers=headers)
    assert withdrawn.status_code == 200
    assert [p["family_id"] for p in withdrawn.get_json()["promoted"]] == [second.id]
    assert client.delete(f"/api/v1/enrollments/{placed.get_json()['id']}",
                         headers=headers).status_code == 409


def test_refusals_answer_409_or_422_with_the_rule(client, coordinator, social_worker):
    headers = bearer(coordinator)
    group = make_group(coordinator, tracks=("preventive",))
    without_plan = make_family(coordinator)
    protected = make_family(coordinator, track="child_protection",
                            social_worker=social_worker, plan=True)
    placed = make_family(coordinator, plan=True)
    enroll(client, headers, group, placed)

    cases = [
        (enroll(client, headers, group, without_plan), 422, "plan_required"),
        (enroll(client, headers, group, protected), 422, "track_not_allowed"),
        (enroll(client, headers, group, placed), 409, "already_in_group"),
    ]
    draft = make_group(coordinator, status="draft")
    cases.append((enroll(client, headers, draft, placed), 409, "group_not_open"))
    for response, status, code in cases:
        assert response.status_code == status
        assert error_of(response)["code"] == code


@pytest.mark.parametrize("body", [
    {"family_id": 1},
    {"family_id": "one", "member_ids": []},
    {"member_ids": [1]},
    {"family_id": 1, "member_ids": "all"},
])
def test_malformed_enrollments_get_422(client, coordinator, body):
    group = make_group(coordinator)
    response = client.post(f"/api/v1/groups/{group.id}/enrollments", json=body,
                           headers=bearer(coordinator))
    assert response.status_code == 422


def test_capacity_below_the_enrolled_count_is_refused(client, coordinator):
    group = make_group(coordinator, capacity=2)
    headers = bearer(coordinator)
    for _ in range(2):
        enroll(client, headers, group, make_family(coordinator, plan=True))
    response = client.patch(f"/api/v1/groups/{group.id}", headers=headers,
                            json={"capacity": 1})
    assert response.status_code == 422
    assert error_of(response)["code"] == "capacity_below_enrolled"


def test_invalid_status_change_is_409(client, coordinator):
    group = make_group(coordinator)
    response = client.patch(f"/api/v1/groups/{group.id}", headers=bearer(coordinator),
                            json={"status": "finished"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "invalid_transition"


def test_moving_a_session_raises_its_sequence(client, coordinator):
    group = make_group(coordinator)
    session = group.sessions[0]
    response = client.patch(f"/api/v1/sessions/{session.id}", headers=bearer(coordinator),
                            json={"start": "2026-12-02T17:00", "end": "2026-12-02T18:30"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["start"] == "2026-12-02T17:00:00+02:00"
    assert body["sequence"] == 1
    bad = client.patch(f"/api/v1/sessions/{session.id}", headers=bearer(coordinator),
                       json={"start": "next Tuesday"})
    assert bad.status_code == 422


def test_roster_is_for_organisers_and_facilitators(client, coordinator):
    facilitator, outsider = make_user("family_worker"), make_user("family_worker")
    group = make_group(coordinator, facilitators=[facilitator])
    url = f"/api/v1/groups/{group.id}/enrollments"
    assert client.get(url, headers=bearer(facilitator)).status_code == 200
    assert client.get(url, headers=bearer(outsider)).status_code == 403
    assert client.get(f"/api/v1/groups/{group.id}", headers=bearer(outsider)).status_code \
        == 200


def test_facilitator_records_attendance(app, client, coordinator):
    facilitator = make_user("family_worker")
    group = make_group(coordinator, facilitators=[facilitator])
    family = make_family(coordinator, plan=True)
    enroll(client, bearer(coordinator), group, family)
    session_id = group.sessions[0].id
    set_clock(app, FixedClock(datetime(2026, 12, 1, 19, 0, tzinfo=HELSINKI)))

    response = client.put(f"/api/v1/sessions/{session_id}/attendance",
                          headers=bearer(facilitator), json={"attendance": [
                              {"member_id": family.members[0].id, "present": True},
                              {"member_id": family.members[1].id, "present": False}]})
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["present"], response.get_json()["recorded"]) == (1, 2)
    stranger = make_family(coordinator, plan=True)
    refused = client.put(f"/api/v1/sessions/{session_id}/attendance",
                         headers=bearer(facilitator), json={"attendance": [
                             {"member_id": stranger.members[0].id, "present": True}]})
    assert refused.status_code == 422
    assert db.session.get(GroupSession, session_id).status == "scheduled"


def test_list_filters(client, coordinator):
    make_group(coordinator, name="Taaperoarki")
    make_group(coordinator, name="Vauvaryhmä", status="draft")
    headers = bearer(coordinator)
    names = [g["name"] for g in client.get("/api/v1/groups?status=open",
                                           headers=headers).get_json()]
    assert names == ["Taaperoarki"]
    assert client.get("/api/v1/groups?status=lost", headers=headers).status_code == 422
    themed = client.get("/api/v1/groups?theme=parenthood", headers=headers).get_json()
    assert len(themed) == 2
