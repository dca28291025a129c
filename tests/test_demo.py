"""`flask --app app seed-demo`: complete, rule-abiding, reproducible and safe to repeat.

Seeding takes seconds, so the tests of this module share one seeded database:
the tables are kept from one test to the next (``app`` below replaces the
suite's) and emptied when the module is done. A test that needs an empty
database asks for ``empty``; the next one that asks for ``seeded`` seeds again.
"""

from collections import Counter
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

import demo
from accounts.models import User
from calendars.models import Absence, HomeVisit, VisitSeries, WorkingHours, visit_workers
from calendars.services import CalendarSettings, find_clashes
from core.clock import FixedClock, set_clock
from core.localtime import to_local, unit_zone
from core.models import AuditEvent, BlackoutDate, Venue
from core.roles import ROLES
from extensions import db
from families.models import Family, Member, Plan, TrackChange
from families.services import booking_refusal, family_plan_state
from groups.enrollment import check_family_fits
from groups.models import Attendance, Enrollment, GroupSession, PeerGroup, group_facilitators
from tests.conftest import empty_tables

NOW = "2026-11-30T10:00:00+02:00"
TODAY = date(2026, 11, 30)
INSTANT = datetime.fromisoformat(NOW)
HELSINKI = ZoneInfo("Europe/Helsinki")
CHRISTMAS = (date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1))
TWO_MONTHS = timedelta(days=61)

_demo = {}  # the seed command's result while the tables hold the demo as of NOW


def seed(runner, *arguments):
    """Run the command and return its result."""
    return runner.invoke(args=["seed-demo", *arguments])


@pytest.fixture(scope="module")
def _tables_of_the_module(_app):
    """Empty the tables once, when the module is done."""
    yield
    _demo.clear()
    with _app.app_context():
        empty_tables()


@pytest.fixture
def app(_app, _tables_of_the_module):
    """The suite's app with its fixed clock, keeping the tables between tests."""
    set_clock(_app, FixedClock(INSTANT))
    return _app


@pytest.fixture
def seeded(app, runner):
    """The demo as of NOW, seeded by the first test that asks for it."""
    if "result" not in _demo:
        empty_tables()
        result = seed(runner, "--now", NOW)
        assert result.exit_code == 0, result.output
        _demo["result"] = result
    return _demo["result"]


@pytest.fixture
def empty(app):
    """Empty tables, as the other test modules start with."""
    _demo.clear()
    empty_tables()


def dump():
    """What identifies the demo's families, for comparing two runs."""
    families = db.session.scalars(db.select(Family).order_by(Family.reference))
    return [(family.reference, family.surname, family.track, family.status,
             family.municipality.name, family.referral_date,
             tuple((member.first_name, member.birth_date) for member in family.members),
             family.plan.review_date if family.plan else None)
            for family in families]


def group_dump():
    """What identifies the demo's groups, sessions, seats and attendance."""
    groups = db.session.scalars(db.select(PeerGroup).order_by(PeerGroup.name))
    return [(group.name, group.status, group.capacity, tuple(group.tracks),
             tuple(place.name for place in group.municipalities),
             tuple(user.email for user in group.facilitators),
             tuple((session.start, session.status, session.sequence)
                   for session in group.sessions),
             tuple((enrollment.family.reference, enrollment.status, enrollment.position,
                    enrollment.requested_at, tuple(m.first_name for m in enrollment.members))
                   for enrollment in group.enrollments))
            for group in groups] + sorted(db.session.execute(
        db.select(GroupSession.start, Member.first_name, Family.reference,
                  Attendance.present)
        .join(Attendance.session).join(Attendance.member)
        .join(Family, Family.id == Member.family_id)).all())


def visit_dump():
    """What identifies the demo's visits, series, working hours and absences, without
    database ids (a PostgreSQL sequence does not restart when the tables are emptied)."""
    visits = db.session.scalars(db.select(HomeVisit))
    return (sorted((visit.family.reference, visit.kind, visit.start, visit.end, visit.status,
                    visit.status_reason, visit.notes, visit.sequence, visit.changed_by_hand,
                    visit.place, visit.municipality.name, visit.series_date,
                    visit.series.first_date if visit.series else None,
                    visit.created_at, visit.updated_at,
                    tuple(worker.email for worker in visit.workers))
                   for visit in visits),
            sorted(db.session.execute(
                db.select(User.email, WorkingHours.weekday, WorkingHours.start_time,
                          WorkingHours.end_time).join(User, User.id == WorkingHours.user_id)
            ).all()),
            sorted(db.session.execute(
                db.select(User.email, Absence.kind, Absence.start, Absence.end, Absence.note)
                .join(Absence.user)).all()))


def local_day(instant):
    return instant.astimezone(HELSINKI).date()


def groups():
    return list(db.session.scalars(db.select(PeerGroup).order_by(PeerGroup.name)))


def count(model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_staff_cover_every_role_and_can_sign_in(seeded):
    users = list(db.session.scalars(db.select(User)))
    assert len(users) >= 12
    assert {user.role for user in users} == set(ROLES)
    assert all(user.email.endswith("@perhetyo.example") for user in users)
    assert "koordinaattori@perhetyo.example" in seeded.output
    assert demo.PASSWORD in seeded.output
    assert "families" in seeded.output


def test_families_follow_the_rules_of_the_work(seeded):
    families = list(db.session.scalars(db.select(Family)))
    assert len(families) >= 60
    assert {family.track for family in families} == {"child_protection", "preventive"}
    assert {family.municipality.name for family in families} == {
        "Mikkeli", "Hirvensalmi", "Kangasniemi", "Mäntyharju", "Pertunmaa", "Puumala"}
    assert {family.status for family in families} == {"referred", "planning", "active",
                                                      "closed"}
    for family in families:
        if family.track == "child_protection":
            assert family.referral_source == "social_worker"
            assert family.responsible_social_worker is not None
            if family.plan:
                assert family.plan.social_worker_participated
        else:
            assert family.referral_source != "social_worker"
        if family.status in ("active", "closed"):
            assert family.plan is not None
            assert 2 <= len(family.plan.goals) <= 4
            assert family.plan.start_date < TODAY
        for worker in family.family_workers:
            assert family.municipality in worker.municipalities
        assert 1 <= len(family.guardians) <= 2
        assert 1 <= len(family.children) <= 4
        for child in family.children:
            assert 0 <= child.age_in_months(TODAY) < 17 * 12
        assert TODAY - timedelta(days=550) <= family.referral_date < TODAY


def test_demo_has_history_and_places(seeded):
    assert count(TrackChange) >= 3
    assert count(Venue) >= 6
    assert count(BlackoutDate) >= 1
    reviews = list(db.session.scalars(db.select(Plan.review_date).join(Plan.family).where(
        Family.status == "active")))
    assert any(TODAY <= review <= TODAY + timedelta(days=30) for review in reviews)
    assert any(review > TODAY + timedelta(days=60) for review in reviews)
    channels = set(db.session.scalars(db.select(Member.reminder_channel)))
    assert channels == {"sms", "email", "none"}
    staff_surnames = {name.split()[-1] for _role, name, _local, _places in demo.STAFF}
    assert not staff_surnames & set(db.session.scalars(db.select(Family.surname)))


def test_the_same_now_gives_the_same_data(seeded, runner):
    first = dump()
    groups_first = group_dump()
    visits_first = visit_dump()
    assert groups_first and visits_first
    _demo.clear()
    empty_tables()
    result = seed(runner, "--now", NOW)
    assert result.exit_code == 0, result.output
    _demo["result"] = result
    assert dump() == first
    assert group_dump() == groups_first
    assert visit_dump() == visits_first


def test_if_empty_on_a_seeded_database_changes_nothing_and_lists_logins(seeded, runner):
    before = (count(User), count(Family), count(AuditEvent))
    result = seed(runner, "--if-empty", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert (count(User), count(Family), count(AuditEvent)) == before
    assert "paakayttaja@perhetyo.example" in result.output
    assert demo.PASSWORD in result.output


def test_without_if_empty_a_seeded_database_is_refused(seeded, runner):
    before = (count(User), count(Family))
    result = seed(runner, "--now", NOW)
    assert result.exit_code != 0
    assert "empty database" in result.output
    assert (count(User), count(Family)) == before


# --- peer groups -----------------------------------------------------------

def test_peer_groups_span_the_region_in_every_stage(seeded):
    found = groups()
    assert 7 <= len(found) <= 10
    assert len({place.name for group in found for place in group.municipalities}) >= 3
    assert {"draft", "open", "running", "finished"} <= {group.status for group in found}
    assert "peer groups" in seeded.output
    tracks = Counter(tuple(group.tracks) for group in found)
    assert sum(count for key, count in tracks.items() if "preventive" in key) > len(found) / 2
    assert any(group.tracks == ["child_protection"] for group in found)
    assert any(group.language != "fi" for group in found)
    for group in found:
        assert 5 <= group.capacity <= 10
        assert group.themes and group.description
        assert group.venue is not None and group.venue.municipality in group.municipalities
        assert 1 <= len(group.facilitators) <= 2
        for worker in group.facilitators:
            assert worker.role == "family_worker"
            assert set(worker.municipalities) & set(group.municipalities)
        assert 8 <= len(group.sessions) <= 12
        assert group.enrollment_opens and group.enrollment_closes
        assert len({local_day(session.start).weekday() for session in group.sessions
                    if not session.changed_by_hand}) == 1
        if group.status == "draft":
            assert not group.enrollments
        if group.status == "finished":
            assert all(session.end < INSTANT for session in group.sessions)
            assert {e.status for e in group.enrollments} <= {"completed", "withdrawn"}
        if group.status == "running":
            assert any(session.end < INSTANT for session in group.sessions)
            assert any(session.start > INSTANT for session in group.sessions)
        if group.status == "open":
            assert all(session.start > INSTANT for session in group.sessions)


def test_seats_are_never_over_capacity_and_waiting_lists_have_no_gaps(seeded):
    full_with_waiting = 0
    for group in groups():
        statuses = Counter(enrollment.status for enrollment in group.enrollments)
        assert statuses["enrolled"] <= group.capacity
        positions = sorted(e.position for e in group.enrollments if e.status == "waitlisted")
        assert positions == list(range(1, len(positions) + 1))
        if positions:
            assert statuses["enrolled"] == group.capacity
        if statuses["enrolled"] == group.capacity and 2 <= len(positions) <= 4:
            full_with_waiting += 1
        families = [e.family_id for e in group.enrollments if e.status != "withdrawn"]
        assert len(families) == len(set(families))
    assert full_with_waiting >= 2
    # Withdrawals happened, and the first waiting family moved up into the seat.
    enrollments = list(db.session.scalars(db.select(Enrollment)))
    assert any(e.status == "withdrawn" for e in enrollments)
    assert any(e.enrolled_at and e.enrolled_at > e.requested_at for e in enrollments)


def test_every_enrolled_family_is_eligible(seeded):
    drafts = {draft.name: draft for draft in demo.GROUPS}
    for group in groups():
        first_day = local_day(group.sessions[0].start)
        for enrollment in group.enrollments:
            family = enrollment.family
            assert family.track in group.tracks
            assert family.plan is not None and family.status == "active"
            assert family.municipality in group.municipalities
            assert any(group.min_age_months <= child.age_in_months(first_day)
                       <= group.max_age_months for child in family.children)
            assert enrollment.members
            assert {m.family_id for m in enrollment.members} == {family.id}
            adults = [m for m in enrollment.members if m.role == "guardian"]
            assert adults
            attendees = drafts[group.name].attendees
            if attendees == "guardians":
                assert adults == enrollment.members
            if attendees == "father":
                assert [m.first_name in demo.FATHERS for m in adults] == [True]
            asked = local_day(enrollment.requested_at)
            assert group.enrollment_opens <= asked <= group.enrollment_closes
            assert family.plan.start_date <= asked
            assert enrollment.requested_at < group.sessions[0].start


def test_running_and_finished_groups_have_attendance(seeded):
    marks = Counter()
    for group in groups():
        past = [s for s in group.sessions if s.end < INSTANT]
        recorded = {session_id for (session_id,) in db.session.execute(
            db.select(Attendance.session_id).join(Attendance.session)
            .where(GroupSession.group_id == group.id).distinct())}
        if group.status in ("running", "finished"):
            assert past
            assert recorded == {session.id for session in past}
        else:
            assert not recorded
    for row in db.session.scalars(db.select(Attendance)):
        marks[row.present] += 1
        assert row.recorded_at >= row.session.start
        assert row.recorded_by_id in {user.id for user in row.session.group.facilitators}
    assert marks[False] >= 1
    assert 0.7 <= marks[True] / marks.total() <= 0.97


def test_a_series_over_christmas_skips_the_holidays(seeded):
    scheduled = {local_day(session.start) for session in db.session.scalars(
        db.select(GroupSession).where(GroupSession.status == "scheduled"))}
    assert not scheduled & set(CHRISTMAS)
    over_christmas = [group for group in groups() if group.series[0].interval_weeks == 1
                      and local_day(group.sessions[0].start) < CHRISTMAS[0]
                      and local_day(group.sessions[-1].start) > CHRISTMAS[-1]
                      and group.series[0].weekday in {day.isoweekday() for day in CHRISTMAS}]
    assert over_christmas
    for group in over_christmas:
        days = {local_day(session.start) for session in group.sessions}
        skipped = [day for day in CHRISTMAS if day.isoweekday() == group.series[0].weekday]
        assert skipped and not days & set(skipped)
        # The week before and the week after still meet.
        assert skipped[0] - timedelta(weeks=1) in days


def test_one_session_was_moved_and_one_cancelled_by_hand(seeded):
    changed = list(db.session.scalars(db.select(GroupSession).where(
        GroupSession.changed_by_hand)))
    assert {session.status for session in changed} == {"scheduled", "cancelled"}
    for session in changed:
        assert session.sequence >= 1
        assert session.group.status == "open"
    moved = next(session for session in changed if session.status == "scheduled")
    assert local_day(moved.start) != moved.series_date


# --- home visits -----------------------------------------------------------

def workers():
    return list(db.session.scalars(db.select(User).where(User.role == "family_worker")
                                   .order_by(User.email)))


def visits_of(worker):
    return list(db.session.scalars(
        db.select(HomeVisit).join(visit_workers, visit_workers.c.visit_id == HomeVisit.id)
        .where(visit_workers.c.user_id == worker.id).order_by(HomeVisit.start)))


def test_every_family_worker_has_hours_and_visits_past_and_coming(seeded):
    assert "visits" in seeded.output and "absences" in seeded.output
    hours = {}
    for worker in workers():
        rows = db.session.scalars(db.select(WorkingHours).where(
            WorkingHours.user_id == worker.id)).all()
        hours[worker.name] = {row.weekday: (row.start_time, row.end_time) for row in rows}
        visits = [v for v in visits_of(worker) if v.status != "cancelled"]
        past = [v for v in visits if INSTANT - TWO_MONTHS <= v.start < INSTANT]
        coming = [v for v in visits if INSTANT <= v.start <= INSTANT + TWO_MONTHS]
        assert len(past) >= 10, worker.name
        assert len(coming) >= 10, worker.name
        # About two months each way, not more.
        assert all(INSTANT - TWO_MONTHS - timedelta(days=14) <= v.start
                   <= INSTANT + TWO_MONTHS + timedelta(days=14) for v in visits)
    assert all(set(week) >= {1, 2, 3, 4} and not set(week) & {6, 7}
               for week in hours.values())
    assert sum(set(week) == {1, 2, 3, 4} for week in hours.values()) == 1  # a part-timer
    assert (time(12), time(20)) in {window for week in hours.values()
                                    for window in week.values()}
    assert Counter(window for week in hours.values()
                   for window in week.values()).most_common(1)[0][0] == (time(8), time(16))
    absences = list(db.session.scalars(db.select(Absence)))
    assert {absence.kind for absence in absences} == {"leave", "training"}
    assert all(INSTANT < absence.start < INSTANT + TWO_MONTHS and absence.note
               for absence in absences)
    total = count(HomeVisit)
    assert 200 <= total <= 900


def test_no_worker_is_in_two_places_at_once(seeded):
    """Visits that take time (all but cancelled) never overlap one another, a group
    session the worker facilitates, or the worker's absences; only one visit, a
    confirmed evening one, lies outside working hours."""
    outside = []
    for worker in workers():
        taken = [(v.start, v.end, f"visit {v.id}") for v in visits_of(worker)
                 if v.status != "cancelled"]
        sessions = db.session.execute(
            db.select(GroupSession.start, GroupSession.end, GroupSession.id)
            .join(group_facilitators,
                  group_facilitators.c.group_id == GroupSession.group_id)
            .join(GroupSession.group)
            .where(group_facilitators.c.user_id == worker.id,
                   GroupSession.status == "scheduled", PeerGroup.status != "draft")).all()
        busy = sorted(taken + [(start, end, f"session {i}") for start, end, i in sessions])
        for (_s1, end1, one), (start2, _e2, other) in pairwise(busy):
            assert end1 <= start2, f"{worker.name}: {one} overlaps {other}"
        for absence in db.session.scalars(db.select(Absence).where(
                Absence.user_id == worker.id)):
            assert not [label for start, end, label in taken
                        if start < absence.end and absence.start < end]
        hours = {row.weekday: (row.start_time, row.end_time) for row in db.session.scalars(
            db.select(WorkingHours).where(WorkingHours.user_id == worker.id))}
        for start, end, label in taken:
            start, end = start.astimezone(HELSINKI), end.astimezone(HELSINKI)
            window = hours.get(start.isoweekday())
            if not window or not window[0] <= start.time() <= end.time() <= window[1]:
                outside.append(label)
    assert len(outside) == 1


def test_every_visit_passes_the_real_clash_check(seeded, app):
    """Every visit that takes time (all but cancelled ones), checked one by one with
    the calendars' own clash check against everything else on the calendar, is one
    the app would book: no hard clash at all, and no soft one but the confirmed
    evening visit's (outside working hours)."""
    settings = CalendarSettings.from_config(app.config)
    zone = unit_zone()
    visits = list(db.session.scalars(db.select(HomeVisit).where(
        HomeVisit.status != "cancelled").order_by(HomeVisit.start, HomeVisit.id)))
    assert len(visits) >= 200
    soft = {}
    for visit in visits:
        found = find_clashes([worker.id for worker in visit.workers], visit.family_id,
                             visit.start, visit.end, visit.municipality_id, zone=zone,
                             settings=settings, exclude_visit_id=visit.id)
        hard = [clash.message for clash in found if clash.hard]
        assert not hard, (visit.family.reference, visit.kind, visit.start, hard)
        if found:
            soft[visit.id] = sorted({clash.code for clash in found})
    assert list(soft.values()) == [["outside_working_hours"]]
    evening = db.session.get(HomeVisit, next(iter(soft)))
    assert to_local(evening.start, zone).time() >= time(17)


def test_the_calendar_and_the_rosters_agree_with_the_booking_and_group_rules(seeded):
    """Every visit still on the calendar is one the booking rule allows the family
    now (a planning meeting alone among its booked ones), and every seat one
    the group fit rule allowed on the first session's day."""
    for family in db.session.scalars(db.select(Family)):
        booked = [visit for visit in db.session.scalars(db.select(HomeVisit).where(
            HomeVisit.family_id == family.id, HomeVisit.status == "scheduled"))]
        meetings = sum(visit.kind == "planning_meeting" for visit in booked)
        for visit in booked:
            assert booking_refusal(
                status=family.status, track=family.track,
                plan=family_plan_state(family), kind=visit.kind,
                planning_meetings_booked=meetings - (visit.kind == "planning_meeting"),
            ) is None, (family.reference, visit.kind)
    for group in groups():
        first_day = local_day(group.sessions[0].start)
        for enrollment in group.enrollments:
            if enrollment.status in ("enrolled", "waitlisted"):
                check_family_fits(group, enrollment.family, enrollment.members, first_day)


def test_visits_follow_the_plan_rule(seeded):
    visits = list(db.session.scalars(db.select(HomeVisit)))
    kinds = Counter(visit.kind for visit in visits)
    assert kinds["home_visit"] > kinds["review_meeting"] >= 5
    assert kinds["planning_meeting"] >= 3
    for visit in visits:
        family = visit.family
        assert family.status != "closed"
        if visit.kind in ("home_visit", "review_meeting"):
            assert family.plan is not None, family.reference
            assert visit.start.date() >= family.plan.start_date
        else:
            assert family.status in ("planning", "active")
            if family.track == "child_protection":
                assert visit.invited_social_worker_id == family.responsible_social_worker_id
        assert {worker.id for worker in visit.workers} <= {
            worker.id for worker in family.family_workers}
    planning = list(db.session.scalars(db.select(Family).where(Family.status == "planning")))
    assert planning
    meetings = {v.family_id for v in visits if v.kind == "planning_meeting"
                and v.start > INSTANT and v.status == "scheduled"}
    assert all(family.id in meetings for family in planning)
    # Every active family with a worker has its regular series.
    active = db.session.scalars(db.select(Family).where(Family.status == "active")).all()
    with_series = set(db.session.scalars(db.select(VisitSeries.family_id)))
    assert all(family.id in with_series for family in active if family.family_workers)
    assert {series.interval_weeks for series in db.session.scalars(
        db.select(VisitSeries))} == {1, 2}


def test_past_visits_were_held_missed_cancelled_or_moved(seeded):
    visits = list(db.session.scalars(db.select(HomeVisit)))
    past = [v for v in visits if v.end < INSTANT - timedelta(days=1)]
    statuses = Counter(visit.status for visit in past)
    assert statuses["scheduled"] == 0
    assert statuses["done"] > 0.8 * len(past)
    assert statuses["no_show"] >= 2 and statuses["cancelled"] >= 3
    reasons = {v.status_reason for v in visits if v.status in ("cancelled", "no_show")}
    assert {"Perhe sairastui", "Lapsi kuumeessa"} & reasons
    assert all(v.status_reason for v in visits if v.status in ("cancelled", "no_show"))
    noted = [v for v in past if v.notes]
    assert len(noted) >= 20 and all(v.status == "done" for v in noted)
    moved = [v for v in visits if v.changed_by_hand]
    assert len(moved) >= 3 and all(v.sequence >= 1 for v in moved)
    assert any(v.start > INSTANT for v in moved)
    for visit in visits:
        assert visit.created_at <= visit.updated_at <= INSTANT
        assert visit.created_at < visit.start
        if visit.start > INSTANT:
            assert visit.status in ("scheduled", "cancelled")
        if visit.status in ("done", "no_show"):
            assert visit.updated_at >= visit.end
    assert any(v.status == "cancelled" and v.start > INSTANT for v in visits)


# --- an empty database (last: the demo is seeded again after these) ---------

def test_if_empty_lists_only_the_demo_accounts_that_exist(empty, runner):
    from tests.conftest import make_user

    make_user("admin", municipalities=(), email="someone@example.test")
    result = seed(runner, "--if-empty")
    assert result.exit_code == 0, result.output
    assert count(Family) == 0
    assert "@perhetyo.example" not in result.output


def test_now_without_offset_is_helsinki_time_and_nonsense_is_refused(empty, runner):
    result = seed(runner, "--now", "2026-07-01T09:00:00")
    assert result.exit_code == 0, result.output
    assert "as of 2026-07-01" in result.output
    empty_tables()
    result = seed(runner, "--now", "last tuesday")
    assert result.exit_code != 0
    assert "--now" in result.output
