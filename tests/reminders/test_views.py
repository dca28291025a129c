"""The outbox page, the policy page, the opt-out page and the reminder sections."""

from datetime import date, time

import pytest
import sqlalchemy as sa

from core.clock import FixedClock
from core.models import AuditEvent
from extensions import db
from reminders import dispatcher, services
from reminders.models import OptOutToken, Reminder, ReminderPolicy
from tests.conftest import NOW, csrf_token_from, login, make_family, make_user
from tests.reminders.helpers import at, book, dispatch, rows

GUARDIANS = [
    {"role": "guardian", "first_name": "Anna", "phone": "+358 40 123 4567",
     "reminder_channel": "sms"},
    {"role": "guardian", "first_name": "Mikko", "email": "mikko@example.test",
     "reminder_channel": "email", "locale": "en"},
    {"role": "child", "first_name": "Eeli", "birth_date": date(2024, 5, 10)},
]


def html_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def worker(app):
    return make_user("family_worker")


@pytest.fixture
def family(coordinator, worker):
    return make_family(coordinator, workers=[worker], plan=True, members=GUARDIANS)


@pytest.fixture
def visit(coordinator, family):
    return book(coordinator, family, at(12, 3, 10))


def post(client, url, data=None, page="/reminders/"):
    token = csrf_token_from(html_of(client.get(page)))
    return client.post(url, data={**(data or {}), "csrf_token": token})


# --- the outbox ------------------------------------------------------------

def test_the_outbox_lists_messages_with_status_and_attempts(client, coordinator, visit,
                                                            family):
    login(client, coordinator)
    response = client.get("/reminders/")
    assert response.status_code == 200
    html = html_of(response)
    assert family.reference in html and "Waiting" in html and "Mikko" in html


def test_the_outbox_filters_by_status_channel_and_reference(client, admin, visit, family):
    login(client, admin)
    html = html_of(client.get("/reminders/?channel=email&status=pending&q="
                              + family.reference))
    assert "Mikko" in html and "Anna" not in html
    assert "No messages match." in html_of(client.get("/reminders/?status=sent"))


def test_bad_filters_are_answered_on_the_page_not_with_a_500(client, admin, visit):
    login(client, admin)
    for query in ("status=lost", "channel=pigeon", "purpose=x", "event_type=party",
                  "page=abc", "q=" + "x" * 100, "page=99999999999999999999", "page=-1",
                  "event_type=home_visit&event_id=99999999999999999999",
                  "event_type=group_session&event_id=x"):
        response = client.get(f"/reminders/?{query}")
        assert response.status_code in (200, 422), query


def test_the_outbox_is_for_admins_and_coordinators_only(client, worker, visit):
    login(client, worker)
    assert client.get("/reminders/").status_code == 403


def test_a_coordinator_sees_only_the_families_of_their_municipalities(client, visit, family):
    other = make_user("coordinator", municipalities=("Puumala",))
    login(client, other)
    assert family.reference not in html_of(client.get("/reminders/"))
    reminder = rows()[0]
    response = post(client, f"/reminders/{reminder.id}/cancel")
    assert response.status_code == 404


def test_staff_cancel_a_pending_message_and_retry_it(client, coordinator, visit):
    login(client, coordinator)
    reminder = rows(channel="email")[0]
    response = post(client, f"/reminders/{reminder.id}/cancel")
    assert response.status_code == 302
    assert rows(channel="email")[0].status == "cancelled"
    assert rows(channel="email")[0].cancel_reason == "staff"
    response = post(client, f"/reminders/{reminder.id}/retry")
    assert response.status_code == 302
    again = rows(channel="email")[0]
    assert (again.status, again.send_at) == ("pending", NOW)
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "reminder.cancel" in actions and "reminder.retry" in actions


def test_a_sent_message_cannot_be_retried_or_cancelled(client, coordinator, visit):
    dispatch(at(12, 2, 10, 1))
    login(client, coordinator)
    reminder = rows(channel="email")[0]
    for action in ("retry", "cancel"):
        response = post(client, f"/reminders/{reminder.id}/{action}")
        assert response.status_code == 302
        follow = client.get("/reminders/")
        assert rows(channel="email")[0].status == "sent"
        assert "Only" in html_of(follow)


def test_retry_and_cancel_need_the_csrf_token(client, coordinator, visit):
    login(client, coordinator)
    reminder = rows()[0]
    assert client.post(f"/reminders/{reminder.id}/cancel").status_code == 400
    assert client.post("/reminders/999999/cancel").status_code == 400
    assert rows()[0].status == "pending"


def test_an_unknown_message_is_not_found(client, admin):
    login(client, admin)
    assert post(client, "/reminders/999999/retry").status_code == 404
    assert post(client, "/reminders/99999999999/retry").status_code == 404


def test_retry_goes_back_only_to_a_page_of_this_site(client, coordinator, visit):
    login(client, coordinator)
    reminder = rows()[0]
    response = post(client, f"/reminders/{reminder.id}/cancel",
                    {"next": "https://evil.example/"})
    assert response.headers["Location"] == "/reminders/"


# --- the policy ------------------------------------------------------------

def test_the_policy_page_shows_the_defaults_and_saves(client, admin):
    login(client, admin)
    html = html_of(client.get("/reminders/policy"))
    assert 'value="24"' in html and 'value="21:00"' in html
    response = post(client, "/reminders/policy", {
        "home_visit_first": "24", "home_visit_second": "2", "planning_meeting_first": "48",
        "group_session_first": "", "quiet_start": "22:00", "quiet_end": "07:00",
        "horizon_days": "14"}, page="/reminders/policy")
    assert response.status_code == 302
    policy = services.current_policy()
    assert policy.leads("home_visit") == (24, 2)
    assert policy.leads("planning_meeting") == (48,)
    assert policy.leads("group_session") == ()
    assert (policy.quiet_start, policy.quiet_end, policy.horizon_days) == (
        time(22), time(7), 14)


@pytest.mark.parametrize("fields", [
    {"home_visit_first": "0"},
    {"home_visit_first": "abc"},
    {"home_visit_first": "5", "home_visit_second": "5"},
    {"home_visit_first": "100000"},
    {"quiet_start": "25:00"},
    {"quiet_end": ""},
    {"horizon_days": "0"},
    {"horizon_days": "-3"},
])
def test_bad_policy_input_is_shown_on_the_form(client, admin, fields):
    login(client, admin)
    data = {"home_visit_first": "24", "quiet_start": "21:00", "quiet_end": "08:00",
            "horizon_days": "30", **fields}
    response = post(client, "/reminders/policy", data, page="/reminders/policy")
    assert response.status_code == 422
    assert "could not be saved" in html_of(response)
    assert db.session.scalars(sa.select(ReminderPolicy)).all() == []


def test_the_policy_is_for_admins_only(client, coordinator):
    login(client, coordinator)
    assert client.get("/reminders/policy").status_code == 403


# --- opting out ------------------------------------------------------------

def _secret_for(reminder_id):
    secrets = dispatcher.claim(at(12, 2, 10, 1), "test", 100)
    return secrets[reminder_id]


def test_the_opt_out_link_stops_reminders_at_once_without_a_login(client, visit):
    anna_row = rows(channel="sms")[0]
    secret = _secret_for(anna_row.id)
    page = client.get(f"/r/{secret}")
    assert page.status_code == 200
    assert "Stop reminders?" in html_of(page)
    assert rows(channel="sms")[0].member.reminder_channel == "sms"  # a GET changes nothing
    response = client.post(f"/r/{secret}",
                           data={"csrf_token": csrf_token_from(html_of(page))})
    assert response.status_code == 200 and "Reminders stopped" in html_of(response)
    db.session.expire_all()
    assert anna_row.member.reminder_channel == "none"
    token = db.session.scalar(sa.select(OptOutToken).where(
        OptOutToken.reminder_id == anna_row.id))
    assert token.used_at == NOW
    assert db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "reminders.opt_out")) is not None
    # Mikko still gets his; Anna's next messages are cancelled, not sent.
    result, channels = dispatch(at(12, 2, 10, 30), claim_timeout_seconds=60)
    assert channels["sms"].sent == []
    assert len(channels["email"].sent) == 1
    assert "Reminders stopped" in html_of(client.get(f"/r/{secret}"))


def test_a_cancelled_pending_reminder_stays_cancelled_after_opting_out(client, family,
                                                                       coordinator):
    first = book(coordinator, family, at(12, 3, 10))
    second = book(coordinator, family, at(12, 10, 10))
    secret = _secret_for(rows(event_id=first.id, channel="sms")[0].id)
    page = client.get(f"/r/{secret}")
    client.post(f"/r/{secret}", data={"csrf_token": csrf_token_from(html_of(page))})
    later = rows(event_id=second.id, channel="sms")[0]
    assert (later.status, later.cancel_reason) == ("cancelled", "opted_out")


def test_an_unknown_or_mangled_link_is_not_found(client, app):
    for secret in ("nothing-here", "x" * 500, "%00"):
        response = client.get(f"/r/{secret}")
        assert response.status_code == 404
        assert "not valid" in html_of(response)
    assert client.post("/r/nothing-here").status_code == 400  # no CSRF token


def test_opting_out_needs_the_page_s_csrf_token(client, visit):
    secret = _secret_for(rows(channel="sms")[0].id)
    response = client.post(f"/r/{secret}", data={})
    assert response.status_code == 400
    assert rows(channel="sms")[0].member.reminder_channel == "sms"


# --- sections on other pages -----------------------------------------------

def test_the_family_page_shows_reminder_settings_and_messages_to_come(
        client, coordinator, family, visit):
    login(client, coordinator)
    html = html_of(client.get(f"/families/{family.id}"))
    assert "Messages to come" in html
    assert html.count("Reminder: Visit") == 2


def test_the_family_page_says_when_a_guardian_stopped_reminders(client, coordinator, family,
                                                                  visit):
    secret = _secret_for(rows(channel="sms")[0].id)
    page = client.get(f"/r/{secret}")
    client.post(f"/r/{secret}", data={"csrf_token": csrf_token_from(html_of(page))})
    login(client, coordinator)
    html = html_of(client.get(f"/families/{family.id}"))
    assert "stopped by the guardian's link on 30 Nov 2026" in html


def test_the_visit_page_lists_its_reminders(client, coordinator, visit):
    login(client, coordinator)
    html = html_of(client.get(f"/calendars/visits/{visit.id}"))
    assert "Reminders" in html and html.count("Waiting") == 2


def test_the_session_page_lists_its_reminders(client, coordinator, family, worker):
    from groups import enrollment as group_enrollment
    from tests.conftest import make_group
    from tests.reminders.helpers import HELSINKI

    group = make_group(coordinator, facilitators=[worker], count=2)
    group_enrollment.enroll(coordinator, group, family, [m.id for m in family.members],
                            zone=HELSINKI, clock=FixedClock(NOW))
    db.session.commit()
    login(client, coordinator)
    html = html_of(client.get(f"/groups/sessions/{group.sessions[0].id}"))
    assert family.reference in html and html.count("Waiting") == 2


def test_rows_are_counted_once_per_guardian(visit):
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 2
