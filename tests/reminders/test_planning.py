"""Planning: what a booking, a move, a cancellation or a roster change puts in the outbox."""

from datetime import datetime, time, timedelta

import pytest

from calendars import services as calendar_services
from core.clock import FixedClock
from extensions import db
from groups import enrollment as group_enrollment
from groups import series as group_series
from groups import services as group_services
from reminders import services
from reminders.models import Reminder
from tests.conftest import NOW, make_family, make_group, make_user
from tests.reminders.helpers import HELSINKI, at, book, change, dispatch, rows

GUARDIANS = [
    {"role": "guardian", "first_name": "Anna", "phone": "+358 40 123 4567",
     "reminder_channel": "sms", "locale": "fi"},
    {"role": "guardian", "first_name": "Mikko", "email": "mikko@example.test",
     "reminder_channel": "email", "locale": "en"},
    {"role": "guardian", "first_name": "Liisa", "phone": "+358 40 765 4321",
     "reminder_channel": "none"},
    {"role": "child", "first_name": "Eeli", "birth_date": NOW.date().replace(year=2024)},
]


@pytest.fixture
def worker(app):
    return make_user("family_worker", municipalities=("Mikkeli",))


@pytest.fixture
def family(coordinator, worker):
    return make_family(coordinator, workers=[worker], plan=True, members=GUARDIANS)


def test_a_booking_plans_a_reminder_per_consenting_guardian_24_hours_before(
        coordinator, family):
    visit = book(coordinator, family, at(12, 3, 10))
    planned = rows(event_id=visit.id)
    assert sorted((row.member.first_name, row.channel) for row in planned) == [
        ("Anna", "sms"), ("Mikko", "email")]
    assert {row.send_at for row in planned} == {visit.start - timedelta(hours=24)}
    assert {row.status for row in planned} == {"pending"}
    assert {row.purpose for row in planned} == {"reminder"}


def test_a_refused_change_leaves_no_outbox_rows(coordinator, family):
    calendar_services.book_visit(
        coordinator, family, kind="home_visit", start=at(12, 3, 10), end=at(12, 3, 11),
        worker_ids=[family.family_workers[0].id], confirm=True, zone=HELSINKI,
        settings=calendar_services.CalendarSettings.from_config(
            {"TRAVEL_MINUTES_PER_KM": 1, "TRAVEL_MINIMUM_MINUTES": 15,
             "DEFAULT_WORKING_HOURS": "1-7 00:00-23:59", "FREE_SLOT_STEP_MINUTES": 15}),
        clock=FixedClock(NOW))
    assert len(rows()) == 2
    db.session.rollback()  # the request failed later: nothing of it stays
    assert rows() == []


def test_planning_twice_adds_nothing(coordinator, family):
    visit = book(coordinator, family, at(12, 3, 10))
    services.plan_events("home_visit", [visit.id], now=NOW, zone=HELSINKI)
    services.plan_horizon(now=NOW, zone=HELSINKI)
    db.session.commit()
    assert len(rows(event_id=visit.id)) == 2


def test_an_event_beyond_the_horizon_is_planned_when_it_comes_within(coordinator, family):
    visit = book(coordinator, family, at(12, 3, 10) + timedelta(days=60))
    assert rows(event_id=visit.id) == []
    later = NOW + timedelta(days=40)
    services.plan_horizon(now=later, zone=HELSINKI)
    db.session.commit()
    assert len(rows(event_id=visit.id, status="pending")) == 2


def test_a_reminder_whose_time_has_passed_is_not_planned(coordinator, family):
    visit = book(coordinator, family, NOW + timedelta(hours=5))
    assert rows(event_id=visit.id) == []


def test_moving_before_anything_was_sent_replans_without_a_notice(coordinator, family):
    visit = book(coordinator, family, at(12, 3, 10))
    change(coordinator, visit, start=at(12, 4, 12), end=at(12, 4, 13))
    old = [row for row in rows(event_id=visit.id) if row.event_start == at(12, 3, 10)]
    new = [row for row in rows(event_id=visit.id) if row.event_start == at(12, 4, 12)]
    assert {row.status for row in old} == {"cancelled"}
    assert {row.cancel_reason for row in old} == {"event_changed"}
    assert {(row.purpose, row.status) for row in new} == {("reminder", "pending")}
    assert len(new) == 2


def test_moving_after_the_reminder_went_out_sends_a_change_notice_and_no_old_reminder(
        coordinator, family):
    visit = book(coordinator, family, at(12, 3, 10))
    result, _ = dispatch(at(12, 2, 10, 1))
    assert result.sent == 2
    later = FixedClock(at(12, 2, 12))
    change(coordinator, visit, clock=later, start=at(12, 5, 14), end=at(12, 5, 15))
    notices = rows(event_id=visit.id, purpose="change")
    assert len(notices) == 2
    assert {datetime.fromisoformat(row.payload["previous_start"]) for row in notices} == {
        at(12, 3, 10)}
    result, channels = dispatch(at(12, 2, 12, 1))
    bodies = [message.body for channel in channels.values() for message in channel.sent]
    assert len(bodies) == 2 and all("5" in body for body in bodies)
    # The day before the new time, the new reminders go; nothing ever for the old time.
    result, channels = dispatch(at(12, 4, 14, 1))
    assert result.sent == 2
    sent = rows(event_id=visit.id, status="sent")
    assert {row.event_start for row in sent if row.purpose == "reminder"} == {
        at(12, 3, 10), at(12, 5, 14)}
    assert not rows(event_id=visit.id, status="pending")


def test_cancelling_cancels_pending_reminders_without_a_notice_if_none_went_out(
        coordinator, family):
    visit = book(coordinator, family, at(12, 3, 10))
    change(coordinator, visit, status="cancelled", status_reason="ill")
    assert {(row.status, row.cancel_reason) for row in rows(event_id=visit.id)} == {
        ("cancelled", "event_cancelled")}
    result, channels = dispatch(at(12, 2, 10, 1))
    assert result.sent == 0


def test_cancelling_after_the_reminder_went_out_sends_a_cancellation_notice(
        coordinator, family):
    visit = book(coordinator, family, at(12, 3, 10))
    services.set_policy(coordinator if coordinator.role == "admin" else
                        make_user("admin", municipalities=()),
                        lead_hours={"home_visit": [24, 2]}, quiet_start=time(21),
                        quiet_end=time(8), horizon_days=30, clock=FixedClock(NOW))
    services.plan_horizon(now=NOW, zone=HELSINKI)
    db.session.commit()
    dispatch(at(12, 2, 10, 1))
    change(coordinator, visit, clock=FixedClock(at(12, 2, 18)), status="cancelled")
    second = [row for row in rows(event_id=visit.id) if row.lead_minutes == 120]
    assert {row.status for row in second} == {"cancelled"}
    notices = rows(event_id=visit.id, purpose="cancellation")
    assert sorted(row.channel for row in notices) == ["email", "sms"]
    result, channels = dispatch(at(12, 2, 18, 1))
    assert result.sent == 2
    assert "Cancelled" in channels["email"].sent[0].subject


def test_deleting_a_visit_after_the_reminder_went_out_sends_a_cancellation_notice(
        coordinator, family):
    visit = book(coordinator, family, at(12, 3, 10))
    dispatch(at(12, 2, 10, 1))
    calendar_services.delete_visit(coordinator, visit, clock=FixedClock(at(12, 2, 12)))
    db.session.commit()
    assert len(rows(purpose="cancellation", status="pending")) == 2


def test_a_reminder_in_quiet_hours_goes_by_sms_before_them_and_by_email_as_planned(
        coordinator, family):
    visit = book(coordinator, family, at(12, 3, 7, 30))
    by_channel = {row.channel: row for row in rows(event_id=visit.id)}
    # 24 hours before is 07:30, inside 21:00-08:00: the SMS goes at 20:45 the evening before.
    assert by_channel["sms"].send_at == at(12, 1, 20, 45)
    assert by_channel["email"].send_at == at(12, 2, 7, 30)


def test_an_sms_that_could_only_go_too_late_is_not_planned(coordinator, family, admin):
    services.set_policy(admin, lead_hours={"home_visit": [2]}, quiet_start=time(21),
                        quiet_end=time(8), horizon_days=30, clock=FixedClock(NOW))
    db.session.commit()
    # 2 hours before 07:30 is 05:30, quiet; the evening before is 20:45 on 30 Nov,
    # still ahead of "now" (10:00): it is sent early.
    visit = book(coordinator, family, at(12, 1, 7, 30))
    assert {row.channel: row.send_at for row in rows(event_id=visit.id)}["sms"] == \
        at(11, 30, 20, 45)
    # Booked at 22:00 for 07:30 next morning: the SMS could only go too late.
    late = FixedClock(at(12, 1, 22))
    visit = book(coordinator, family, at(12, 2, 7, 30), clock=late)
    assert [row.channel for row in rows(event_id=visit.id)] == ["email"]


def test_a_notice_in_quiet_hours_waits_for_their_end_by_sms(coordinator, family):
    visit = book(coordinator, family, at(12, 3, 10))
    dispatch(at(12, 2, 10, 1))
    change(coordinator, visit, clock=FixedClock(at(12, 2, 23)), start=at(12, 3, 12),
           end=at(12, 3, 13))
    notices = {row.channel: row for row in rows(event_id=visit.id, purpose="change")}
    assert notices["sms"].send_at == at(12, 3, 8)
    assert notices["email"].send_at == at(12, 2, 23)


def test_lead_times_count_real_hours_across_the_change_to_winter_time(coordinator, family):
    # Sunday 25 October 2026, 04:00 summer time, the clocks go back to 03:00.
    visit = book(coordinator, family, at(10, 25, 10), clock=FixedClock(at(10, 20, 10)))
    by_channel = {row.channel: row for row in rows(event_id=visit.id)}
    assert visit.start - by_channel["email"].send_at == timedelta(hours=24)
    assert by_channel["email"].send_at.astimezone(HELSINKI).hour == 11  # summer time


def test_quiet_hours_are_local_through_the_night_the_clocks_go_back(coordinator, family):
    visit = book(coordinator, family, at(10, 26, 10), clock=FixedClock(at(10, 20, 10)))
    dispatch(at(10, 25, 10, 1))
    # Saturday 23:00 summer time: quiet until 08:00 winter time, twelve hours later.
    change(coordinator, visit, clock=FixedClock(at(10, 24, 23)), start=at(10, 26, 12),
           end=at(10, 26, 13))
    sms = [row for row in rows(event_id=visit.id, purpose="change") if row.channel == "sms"]
    assert sms and sms[0].send_at == at(10, 25, 8)
    assert sms[0].send_at - at(10, 24, 23) == timedelta(hours=10)


def test_policy_lead_times_apply_per_kind_and_empty_turns_a_kind_off(
        coordinator, family, admin):
    services.set_policy(admin, lead_hours={"home_visit": [2, 24], "planning_meeting": []},
                        quiet_start=time(21), quiet_end=time(8), horizon_days=30,
                        clock=FixedClock(NOW))
    db.session.commit()
    visit = book(coordinator, family, at(12, 3, 12))
    assert sorted({row.lead_minutes for row in rows(event_id=visit.id)}) == [120, 1440]
    meeting = book(coordinator, family, at(12, 4, 12), kind="planning_meeting")
    assert rows(event_id=meeting.id) == []


def test_only_an_admin_sets_the_policy_and_bad_values_are_refused(coordinator, admin):
    from core.errors import Forbidden, ValidationFailed

    with pytest.raises(Forbidden):
        services.set_policy(coordinator, lead_hours={}, quiet_start=time(21),
                            quiet_end=time(8), horizon_days=30, clock=FixedClock(NOW))
    with pytest.raises(ValidationFailed) as error:
        services.set_policy(admin, lead_hours={"home_visit": [0], "party": [2]},
                            quiet_start=time(21), quiet_end=time(8), horizon_days=0,
                            clock=FixedClock(NOW))
    assert set(error.value.fields) == {"home_visit", "party", "horizon_days"}


# --- groups ----------------------------------------------------------------

@pytest.fixture
def group(coordinator, worker):
    return make_group(coordinator, facilitators=[worker], count=4)


def enroll(coordinator, group, family, clock=None):
    enrollment = group_enrollment.enroll(
        coordinator, group, family, [member.id for member in family.members],
        zone=HELSINKI, clock=clock or FixedClock(NOW))
    db.session.commit()
    return enrollment


def test_joining_a_group_plans_its_sessions_and_leaving_cancels_them(
        coordinator, group, family):
    enrollment = enroll(coordinator, group, family)
    planned = rows(event_type="group_session")
    assert len(planned) == 2 * 4  # two guardians, four Tuesdays within the horizon
    assert {row.payload["group_title"] for row in planned} == {"Taaperoryhmä"}
    group_enrollment.withdraw(coordinator, enrollment, clock=FixedClock(NOW))
    db.session.commit()
    assert {(row.status, row.cancel_reason) for row in rows(event_type="group_session")} \
        == {("cancelled", "not_recipient")}


def test_a_waiting_family_gets_reminders_once_it_is_promoted(coordinator, worker):
    group = make_group(coordinator, facilitators=[worker], count=2, capacity=1)
    first = make_family(coordinator, workers=[worker], plan=True, members=GUARDIANS)
    second = make_family(coordinator, workers=[worker], plan=True, members=GUARDIANS)
    placed = enroll(coordinator, group, first)
    enroll(coordinator, group, second)
    assert {row.family_id for row in rows(event_type="group_session")} == {first.id}
    group_enrollment.withdraw(coordinator, placed, clock=FixedClock(NOW))
    db.session.commit()
    assert {row.family_id for row in rows(event_type="group_session", status="pending")} \
        == {second.id}


def test_a_cancelled_session_notifies_those_already_reminded(coordinator, group, family):
    enroll(coordinator, group, family)
    session = group.sessions[0]
    dispatch(session.start - timedelta(hours=23))
    group_series.change_session(coordinator, session, status="cancelled",
                                clock=FixedClock(session.start - timedelta(hours=5)))
    db.session.commit()
    notices = rows(event_id=session.id, purpose="cancellation")
    assert len(notices) == 2
    others = [row for row in rows(event_type="group_session", status="pending")
              if row.event_id != session.id]
    assert len(others) == 2 * 3


def test_cancelling_a_group_cancels_every_pending_reminder(coordinator, group, family):
    enroll(coordinator, group, family)
    group_services.update_group(coordinator, group, {"status": "cancelled"}, zone=HELSINKI,
                                clock=FixedClock(NOW))
    db.session.commit()
    assert {row.status for row in rows(event_type="group_session")} == {"cancelled"}


def test_an_opted_out_guardian_is_not_planned_again(coordinator, family):
    visit = book(coordinator, family, at(12, 3, 10))
    anna = next(member for member in family.members if member.first_name == "Anna")
    anna.reminder_channel = "none"
    db.session.commit()
    services.plan_horizon(now=NOW, zone=HELSINKI)
    db.session.commit()
    pending = rows(event_id=visit.id, status="pending")
    assert [row.member.first_name for row in pending] == ["Mikko"]
    assert db.session.get(Reminder, rows(event_id=visit.id)[0].id).cancel_reason \
        == "not_recipient"
