"""The reminders JSON API: the outbox, retry and cancel, the policy; bad input as JSON errors."""

import pytest

from tests.conftest import bearer, make_family, make_user
from tests.reminders.helpers import at, book, dispatch, rows

GUARDIANS = [{"role": "guardian", "first_name": "Mikko", "email": "mikko@example.test",
              "reminder_channel": "email", "locale": "en"}]


@pytest.fixture
def visit(coordinator):
    worker = make_user("family_worker")
    family = make_family(coordinator, workers=[worker], plan=True, members=GUARDIANS)
    return book(coordinator, family, at(12, 3, 10))


def test_the_outbox_lists_reminders_with_local_times(client, coordinator, visit):
    answer = client.get("/api/v1/reminders?status=pending", headers=bearer(coordinator))
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["total"] == 1
    [item] = data["items"]
    assert item["send_at"] == "2026-12-02T10:00:00+02:00"
    assert (item["event_type"], item["event_id"], item["channel"]) == (
        "home_visit", visit.id, "email")


@pytest.mark.parametrize("query", ["status=lost", "channel=pigeon", "purpose=x",
                                   "event_type=party", "event_id=abc", "page=0",
                                   "per_page=100000", "family_id=-1"])
def test_bad_filters_are_json_errors(client, admin, query):
    answer = client.get(f"/api/v1/reminders?{query}", headers=bearer(admin))
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "validation_failed"


def test_cancel_then_retry_and_a_conflict_for_a_sent_one(client, coordinator, visit):
    headers = bearer(coordinator)
    reminder_id = rows()[0].id
    answer = client.post(f"/api/v1/reminders/{reminder_id}/cancel", headers=headers)
    assert answer.get_json()["status"] == "cancelled"
    answer = client.post(f"/api/v1/reminders/{reminder_id}/retry", headers=headers)
    assert answer.get_json()["status"] == "pending"
    dispatch(at(12, 2, 10, 1))
    answer = client.post(f"/api/v1/reminders/{reminder_id}/cancel", headers=headers)
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "not_pending"


def test_unknown_and_unseen_reminders_are_not_found(client, visit):
    other = make_user("coordinator", municipalities=("Puumala",))
    reminder_id = rows()[0].id
    for url in (f"/api/v1/reminders/{reminder_id}/cancel", "/api/v1/reminders/999/retry"):
        assert client.post(url, headers=bearer(other)).status_code == 404


def test_a_family_worker_may_not_read_the_outbox(client, visit):
    worker = make_user("family_worker")
    assert client.get("/api/v1/reminders", headers=bearer(worker)).status_code == 403
    assert client.get("/api/v1/reminders").status_code == 401


def test_the_policy_is_read_and_set_by_an_admin(client, admin, coordinator):
    answer = client.get("/api/v1/reminders/policy", headers=bearer(coordinator))
    assert answer.get_json()["lead_hours"]["home_visit"] == [24]
    body = {"lead_hours": {"home_visit": [2, 24], "group_session": []},
            "quiet_start": "22:00", "quiet_end": "07:30", "horizon_days": 10}
    answer = client.put("/api/v1/reminders/policy", json=body, headers=bearer(admin))
    assert answer.status_code == 200, answer.get_json()
    data = answer.get_json()
    assert data["lead_hours"]["home_visit"] == [24, 2]
    assert data["lead_hours"]["group_session"] == []
    assert (data["quiet_end"], data["horizon_days"]) == ("07:30", 10)
    answer = client.put("/api/v1/reminders/policy", json=body, headers=bearer(coordinator))
    assert answer.status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"lead_hours": {"home_visit": [0]}}, "lead_hours"),
    ({"lead_hours": {"home_visit": "24"}}, "lead_hours"),
    ({"lead_hours": {"party": [2]}}, "lead_hours"),
    ({"lead_hours": {"home_visit": [1, 2, 3, 4]}}, "lead_hours"),
    ({"lead_hours": {"home_visit": [{}]}}, "lead_hours"),
    ({"lead_hours": {"home_visit": [24, "2"]}}, "lead_hours"),
    ({"quiet_start": "9pm"}, "quiet_start"),
    ({"horizon_days": 0}, "horizon_days"),
    ({"horizon_days": "30"}, "horizon_days"),
    ({"extra": 1}, "extra"),
])
def test_bad_policy_input_is_a_json_error_with_its_field(client, admin, body, field):
    full = {"lead_hours": {}, "quiet_start": "21:00", "quiet_end": "08:00",
            "horizon_days": 30, **body}
    answer = client.put("/api/v1/reminders/policy", json=full, headers=bearer(admin))
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["error"]["fields"]


def test_a_policy_body_that_is_not_json_is_a_400(client, admin):
    answer = client.put("/api/v1/reminders/policy", data="x", headers=bearer(admin))
    assert answer.status_code == 400


def test_the_openapi_document_describes_the_reminders_api(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    for route in ("/reminders", "/reminders/{reminder_id}/retry",
                  "/reminders/{reminder_id}/cancel", "/reminders/policy"):
        assert route in document["paths"]
    validate(document)
