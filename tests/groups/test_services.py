"""Peer groups: series in local time, sessions, seats, the waiting list, attendance."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.clock import FixedClock
from core.errors import Conflict, Forbidden, RuleViolation, ValidationFailed
from core.models import BlackoutDate
from extensions import db
from groups import attendance as group_attendance
from groups import enrollment, services
from groups import series as group_series
from groups.models import Attendance
from tests.conftest import NOW, make_family, make_group, make_user

HELSINKI = ZoneInfo("Europe/Helsinki")


def plan_of(**fields):
    arguments = {"weekday": 2, "start_time": time(17, 0), "duration_minutes": 90,
                 "first_date": date(2026, 12, 1), "count": 6}
    arguments.update(fields)
    return group_series.SeriesPlan(group_series.series_rule(**arguments))


def local_days(group):
    return [session.start.astimezone(HELSINKI).date() for session in group.sessions
            if session.status == "scheduled"]


def members_of(family):
    return [member.id for member in family.members]


# --- series ----------------------------------------------------------------

def test_series_over_christmas_skips_the_holidays_and_says_so(app):
    # Thursdays from 10 December 2026: Christmas Eve falls on a Thursday.
    schedule = group_series.preview(plan_of(weekday=4, first_date=date(2026, 12, 10), count=4),
                                    HELSINKI)
    assert [o.day for o in schedule.occurrences] == [
        date(2026, 12, 10), date(2026, 12, 17), date(2026, 12, 31), date(2027, 1, 7)]
    assert [(s.day, s.reason) for s in schedule.skipped] == [
        (date(2026, 12, 24), "Jouluaatto")]


def test_series_over_midsummer_week_skips_midsummer_eve(app):
    schedule = group_series.preview(plan_of(weekday=5, first_date=date(2027, 6, 11),
                                            count=3), HELSINKI)
    assert [o.day for o in schedule.occurrences] == [
        date(2027, 6, 11), date(2027, 6, 18), date(2027, 7, 2)]
    assert [(s.day, s.reason) for s in schedule.skipped] == [
        (date(2027, 6, 25), "Juhannusaatto")]


def test_admin_blackout_dates_are_skipped(app):
    db.session.add(BlackoutDate(day=date(2026, 12, 8), reason="Koulutuspäivä"))
    db.session.commit()
    schedule = group_series.preview(plan_of(count=2), HELSINKI)
    assert [o.day for o in schedule.occurrences] == [date(2026, 12, 1), date(2026, 12, 15)]
    assert schedule.skipped[0].reason == "Koulutuspäivä"


def test_dates_added_and_removed_by_hand(app):
    plan = group_series.SeriesPlan(plan_of(count=3).rule, added=(date(2026, 12, 3),),
                                   removed=(date(2026, 12, 8),))
    schedule = group_series.preview(plan, HELSINKI)
    assert [o.day for o in schedule.occurrences] == [
        date(2026, 12, 1), date(2026, 12, 3), date(2026, 12, 15), date(2026, 12, 22)]
    assert [(s.day, s.reason) for s in schedule.skipped] == [
        (date(2026, 12, 8), "removed by hand")]


def test_group_sessions_keep_local_time_across_the_change_to_winter_time(
        app, coordinator):
    clock = FixedClock(datetime(2027, 10, 1, 9, 0, tzinfo=HELSINKI))
    group = make_group(coordinator, first_date=date(2027, 10, 19), count=3, clock=clock)
    starts = [session.start.astimezone(HELSINKI) for session in group.sessions]
    assert [start.time() for start in starts] == [time(17, 0)] * 3
    assert [start.utcoffset() for start in starts] == [
        timedelta(hours=3), timedelta(hours=3), timedelta(hours=2)]


@pytest.mark.parametrize(("fields", "field"), [
    ({"count": None}, "count"),
    ({"count": 0}, "count"),
    ({"count": None, "until": date(2026, 11, 1)}, "until"),
    ({"duration_minutes": 0}, "duration_minutes"),
    ({"weekday": 9}, "weekday"),
    ({"interval_weeks": 3}, "interval_weeks"),
])
def test_bad_series_are_refused_with_the_field_named(app, fields, field):
    with pytest.raises(ValidationFailed) as error:
        plan_of(**fields)
    assert field in error.value.fields


def test_moving_a_session_raises_its_sequence_and_the_series_leaves_it(app, coordinator,
                                                                       clock):
    group = make_group(coordinator, count=4)
    moved = group.sessions[1]
    group_series.change_session(coordinator, moved,
                                start=datetime(2026, 12, 9, 18, 0, tzinfo=HELSINKI), clock=clock)
    assert moved.sequence == 1 and moved.changed_by_hand
    assert moved.end - moved.start == timedelta(minutes=90)

    services.update_group(coordinator, group, {"series": plan_of(
        start_time=time(16, 30), count=4)}, zone=HELSINKI, clock=clock)
    db.session.commit()
    assert moved.start.astimezone(HELSINKI) == datetime(2026, 12, 9, 18, 0, tzinfo=HELSINKI)
    others = [s for s in group.sessions if s is not moved and s.status == "scheduled"]
    assert all(s.start.astimezone(HELSINKI).time() == time(16, 30) for s in others)
    assert all(s.sequence == 1 for s in others)


def test_a_date_leaving_the_series_of_an_open_group_is_cancelled(app, coordinator, clock):
    group = make_group(coordinator, count=4)
    services.update_group(coordinator, group, {"series": plan_of(count=3)},
                          zone=HELSINKI, clock=clock)
    last = group.sessions[-1]
    assert last.status == "cancelled" and last.sequence == 1
    assert len(local_days(group)) == 3


def test_cancelling_a_session(app, coordinator, clock):
    group = make_group(coordinator)
    session = group.sessions[0]
    group_series.change_session(coordinator, session, status="cancelled", clock=clock)
    assert session.status == "cancelled" and session.sequence == 1


def test_a_session_cannot_end_before_it_starts(app, coordinator, clock):
    session = make_group(coordinator).sessions[0]
    with pytest.raises(ValidationFailed):
        group_series.change_session(coordinator, session,
                                    end=session.start - timedelta(minutes=1), clock=clock)


# --- status ----------------------------------------------------------------

def test_status_moves_along_its_path(app, coordinator):
    group = make_group(coordinator)
    services.set_status(group, "running", now=NOW)
    with pytest.raises(Conflict) as error:
        services.set_status(group, "open", now=NOW)
    assert error.value.code == "invalid_transition"
    services.set_status(group, "finished", now=NOW)
    with pytest.raises(Conflict):
        services.set_status(group, "cancelled", now=NOW)


def test_a_group_opens_only_with_sessions_ahead(app, coordinator):
    group = make_group(coordinator, status="draft", first_date=date(2026, 10, 6), count=2)
    with pytest.raises(RuleViolation) as error:
        services.set_status(group, "open", now=NOW)
    assert error.value.code == "no_upcoming_sessions"


def test_finishing_completes_seats_and_ends_the_waiting_list(app, coordinator, clock):
    group = make_group(coordinator, capacity=1)
    first, second = (make_family(coordinator, plan=True) for _ in range(2))
    enrollment.enroll(coordinator, group, first, members_of(first), zone=HELSINKI, clock=clock)
    enrollment.enroll(coordinator, group, second, members_of(second), zone=HELSINKI,
                      clock=clock)
    services.set_status(group, "running", now=NOW)
    services.set_status(group, "finished", now=NOW)
    assert [e.status for e in group.enrollments] == ["completed", "withdrawn"]


def test_coordinator_organises_only_for_own_municipalities(app, coordinator):
    with pytest.raises(Forbidden):
        make_group(coordinator, municipalities=("Puumala",))


def test_family_worker_cannot_organise_groups(app, family_worker):
    with pytest.raises(Forbidden):
        make_group(family_worker)


# --- seats and the waiting list --------------------------------------------

def test_full_group_puts_families_on_the_waiting_list_in_order(app, coordinator, clock):
    group = make_group(coordinator, capacity=2)
    families = [make_family(coordinator, plan=True) for _ in range(4)]
    enrollments = [enrollment.enroll(coordinator, group, family, members_of(family),
                                     zone=HELSINKI, clock=clock) for family in families]
    assert [(e.status, e.position) for e in enrollments] == [
        ("enrolled", None), ("enrolled", None), ("waitlisted", 1), ("waitlisted", 2)]


def test_withdrawal_promotes_the_first_waiting(app, coordinator, clock):
    group = make_group(coordinator, capacity=1)
    families = [make_family(coordinator, plan=True) for _ in range(3)]
    enrollments = [enrollment.enroll(coordinator, group, family, members_of(family),
                                     zone=HELSINKI, clock=clock) for family in families]
    promoted = enrollment.withdraw(coordinator, enrollments[0], clock=clock)
    db.session.commit()
    db.session.expire_all()
    assert promoted == [enrollments[1]]
    assert [(e.status, e.position) for e in enrollments] == [
        ("withdrawn", None), ("enrolled", None), ("waitlisted", 1)]


def test_leaving_the_waiting_list_closes_the_gap(app, coordinator, clock):
    group = make_group(coordinator, capacity=1)
    families = [make_family(coordinator, plan=True) for _ in range(4)]
    enrollments = [enrollment.enroll(coordinator, group, family, members_of(family),
                                     zone=HELSINKI, clock=clock) for family in families]
    enrollment.withdraw(coordinator, enrollments[2], clock=clock)
    db.session.commit()
    db.session.expire_all()
    assert [(e.status, e.position) for e in enrollments] == [
        ("enrolled", None), ("waitlisted", 1), ("withdrawn", None), ("waitlisted", 2)]


def test_raising_the_capacity_promotes_and_lowering_below_the_seats_taken_is_refused(
        app, coordinator, clock):
    group = make_group(coordinator, capacity=1)
    families = [make_family(coordinator, plan=True) for _ in range(3)]
    enrollments = [enrollment.enroll(coordinator, group, family, members_of(family),
                                     zone=HELSINKI, clock=clock) for family in families]
    services.update_group(coordinator, group, {"capacity": 2}, zone=HELSINKI, clock=clock)
    db.session.commit()
    db.session.expire_all()
    assert [e.status for e in enrollments] == ["enrolled", "enrolled", "waitlisted"]
    assert enrollments[2].position == 1
    with pytest.raises(RuleViolation) as error:
        services.update_group(coordinator, group, {"capacity": 1}, zone=HELSINKI,
                              clock=clock)
    assert error.value.code == "capacity_below_enrolled"


def test_a_family_takes_one_seat_in_a_group(app, coordinator, clock):
    group = make_group(coordinator)
    family = make_family(coordinator, plan=True)
    enrollment.enroll(coordinator, group, family, members_of(family), zone=HELSINKI,
                      clock=clock)
    with pytest.raises(Conflict) as error:
        enrollment.enroll(coordinator, group, family, members_of(family), zone=HELSINKI,
                          clock=clock)
    assert error.value.code == "already_in_group"


@pytest.mark.parametrize(("setup", "code"), [
    ({"plan": False}, "plan_required"),
    ({"track": "child_protection"}, "track_not_allowed"),
    ({"child_born": date(2015, 1, 1)}, "no_child_in_age_range"),
])
def test_ineligible_families_are_refused_with_the_rule(app, coordinator, social_worker,
                                                        clock, setup, code):
    group = make_group(coordinator, tracks=("preventive",), max_age_months=36)
    members = [{"role": "guardian", "first_name": "Anna"},
               {"role": "child", "first_name": "Eeli",
                "birth_date": setup.get("child_born", date(2025, 1, 1))}]
    family = make_family(coordinator, track=setup.get("track", "preventive"),
                         social_worker=social_worker, members=members,
                         plan=setup.get("plan", True))
    with pytest.raises(RuleViolation) as error:
        enrollment.enroll(coordinator, group, family, members_of(family), zone=HELSINKI,
                          clock=clock)
    assert error.value.code == code
    assert error.value.message


def test_age_is_taken_on_the_first_session_ahead(app, coordinator, clock):
    # The child turns 12 months on 10 December; the first session is on 1 December.
    group = make_group(coordinator, min_age_months=12, max_age_months=24)
    members = [{"role": "child", "first_name": "Aino", "birth_date": date(2025, 12, 10)}]
    family = make_family(coordinator, members=members, plan=True)
    with pytest.raises(RuleViolation):
        enrollment.enroll(coordinator, group, family, members_of(family), zone=HELSINKI,
                          clock=clock)


def test_a_group_not_open_takes_no_families(app, coordinator, clock):
    group = make_group(coordinator, status="draft")
    family = make_family(coordinator, plan=True)
    with pytest.raises(Conflict) as error:
        enrollment.enroll(coordinator, group, family, members_of(family), zone=HELSINKI,
                          clock=clock)
    assert error.value.code == "group_not_open"


def test_enrollment_window_is_kept(app, coordinator, clock):
    group = make_group(coordinator)
    group.enrollment_closes = date(2026, 11, 29)
    family = make_family(coordinator, plan=True)
    with pytest.raises(Conflict) as error:
        enrollment.enroll(coordinator, group, family, members_of(family), zone=HELSINKI,
                          clock=clock)
    assert error.value.code == "enrollment_closed"


def test_attending_members_belong_to_the_family(app, coordinator, clock):
    group = make_group(coordinator)
    family, other = make_family(coordinator, plan=True), make_family(coordinator, plan=True)
    for member_ids in ([], [other.members[0].id]):
        with pytest.raises(ValidationFailed) as error:
            enrollment.enroll(coordinator, group, family, member_ids, zone=HELSINKI,
                              clock=clock)
        assert "member_ids" in error.value.fields


def test_family_worker_places_only_their_own_families(app, coordinator, clock):
    worker = make_user("family_worker")
    group = make_group(coordinator)
    own = make_family(coordinator, workers=[worker], plan=True)
    enrollment.enroll(worker, group, own, members_of(own), zone=HELSINKI, clock=clock)
    other = make_family(coordinator, plan=True)
    with pytest.raises(Forbidden):
        enrollment.enroll(worker, group, other, members_of(other), zone=HELSINKI, clock=clock)


# --- attendance ------------------------------------------------------------

def test_facilitators_record_attendance_and_rates_follow(app, coordinator):
    facilitator = make_user("family_worker")
    early = FixedClock(datetime(2026, 11, 20, 9, 0, tzinfo=HELSINKI))
    group = make_group(coordinator, facilitators=[facilitator], clock=early)
    families = [make_family(coordinator, plan=True, clock=early) for _ in range(2)]
    for family in families:
        enrollment.enroll(coordinator, group, family, members_of(family), zone=HELSINKI,
                          clock=early)
    after_first = FixedClock(datetime(2026, 12, 1, 19, 0, tzinfo=HELSINKI))
    first, second = group.sessions[0], group.sessions[1]
    a, b = families
    group_attendance.record_attendance(facilitator, first, {
        a.members[0].id: True, a.members[1].id: True,
        b.members[0].id: True, b.members[1].id: False}, clock=after_first)
    db.session.commit()

    rates = group_attendance.attendance_rates(group)
    assert rates.group == 0.75
    assert rates.by_family == {a.id: 1.0, b.id: 0.5}
    assert rates.by_session == {first.id: (3, 4)}
    assert db.session.query(Attendance).count() == 4

    with pytest.raises(Conflict) as error:
        group_attendance.record_attendance(facilitator, second, {a.members[0].id: True},
                                           clock=after_first)
    assert error.value.code == "session_not_started"


def test_attendance_only_for_attending_members_and_by_facilitators(app, coordinator):
    facilitator = make_user("family_worker")
    outsider = make_user("family_worker")
    early = FixedClock(datetime(2026, 11, 20, 9, 0, tzinfo=HELSINKI))
    group = make_group(coordinator, facilitators=[facilitator], clock=early)
    stranger = make_family(coordinator, plan=True)
    later = FixedClock(datetime(2026, 12, 2, 9, 0, tzinfo=HELSINKI))
    with pytest.raises(ValidationFailed):
        group_attendance.record_attendance(facilitator, group.sessions[0],
                                           {stranger.members[0].id: True}, clock=later)
    with pytest.raises(Forbidden):
        group_attendance.record_attendance(outsider, group.sessions[0], {}, clock=later)


def test_the_series_keeps_its_added_and_removed_dates(app, coordinator, clock):
    group = make_group(coordinator, count=3)
    plan = group_series.SeriesPlan(plan_of(count=3).rule, added=(date(2026, 12, 3),),
                                   removed=(date(2026, 12, 8),))
    services.update_group(coordinator, group, {"series": plan}, zone=HELSINKI, clock=clock)
    db.session.commit()
    db.session.expire_all()
    assert group.series[0].plan_parts() == ((date(2026, 12, 3),), (date(2026, 12, 8),))


@pytest.mark.parametrize(("fields", "field"), [
    ({"first_date": date(9999, 12, 1)}, "first_date"),
    ({"first_date": date(1999, 12, 31)}, "first_date"),
])
def test_dates_far_off_are_field_errors(app, fields, field):
    with pytest.raises(ValidationFailed) as error:
        plan_of(**fields)
    assert field in error.value.fields


def test_added_dates_far_from_the_series_are_refused(app):
    plan = group_series.SeriesPlan(plan_of().rule, added=(date(2035, 1, 1),))
    with pytest.raises(ValidationFailed) as error:
        group_series.preview(plan, HELSINKI)
    assert "added_dates" in error.value.fields


def test_a_session_goes_back_to_the_groups_venue(app, coordinator, clock):
    from core.models import Venue
    from core.places import municipality_named

    mikkeli = municipality_named("Mikkeli")
    db.session.add_all([Venue(name="Perhekeskus", municipality=mikkeli),
                        Venue(name="Kirjasto", municipality=mikkeli)])
    db.session.commit()
    group = make_group(coordinator)
    session = group.sessions[0]
    group_series.change_session(coordinator, session, venue="Kirjasto", clock=clock)
    assert session.venue.name == "Kirjasto" and session.sequence == 1
    group_series.change_session(coordinator, session, venue="", clock=clock)
    assert session.venue is None and session.sequence == 2
