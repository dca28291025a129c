"""`flask --app app seed-demo`: complete, rule-abiding, reproducible and safe to repeat."""

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import demo
from accounts.models import User
from core.models import AuditEvent, BlackoutDate, Venue
from core.roles import ROLES
from extensions import db
from families.models import Family, Member, Plan, TrackChange
from groups.models import Attendance, Enrollment, GroupSession, PeerGroup

NOW = "2026-11-30T10:00:00+02:00"
TODAY = date(2026, 11, 30)
INSTANT = datetime.fromisoformat(NOW)
HELSINKI = ZoneInfo("Europe/Helsinki")
CHRISTMAS = (date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1))


def seed(runner, *arguments):
    """Run the command and return its result."""
    return runner.invoke(args=["seed-demo", *arguments])


@pytest.fixture
def seeded(app, runner):
    result = seed(runner, "--now", NOW)
    assert result.exit_code == 0, result.output
    return result


def dump():
    """What identifies the demo's families, for comparing two runs."""
    families = db.session.scalars(db.select(Family).order_by(Family.reference))
    return [(family.reference, family.surname, family.track, family.status,
             family.municipality.name, family.referral_date,
             tuple((member.first_name, member.birth_date) for member in family.members),
             family.plan.review_date if family.plan else None)
            for family in families]


def group_dump():
    """What identifies the demo's groups, sessions, places and attendance."""
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


def local_day(instant):
    return instant.astimezone(HELSINKI).date()


def groups():
    return list(db.session.scalars(db.select(PeerGroup).order_by(PeerGroup.name)))


def empty_tables():
    """Empty every table but the municipalities, as the app fixture does."""
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            if table.name != "municipalities":
                connection.execute(table.delete())


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
    assert groups_first
    empty_tables()
    result = seed(runner, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert dump() == first
    assert group_dump() == groups_first


def test_if_empty_on_a_seeded_database_changes_nothing_and_lists_logins(seeded, runner):
    before = (count(User), count(Family), count(AuditEvent))
    result = seed(runner, "--if-empty", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert (count(User), count(Family), count(AuditEvent)) == before
    assert "paakayttaja@perhetyo.example" in result.output
    assert demo.PASSWORD in result.output


def test_if_empty_lists_only_the_demo_accounts_that_exist(app, runner):
    from tests.conftest import make_user

    make_user("admin", municipalities=(), email="someone@example.test")
    result = seed(runner, "--if-empty")
    assert result.exit_code == 0, result.output
    assert count(Family) == 0
    assert "@perhetyo.example" not in result.output


def test_without_if_empty_a_seeded_database_is_refused(seeded, runner):
    before = (count(User), count(Family))
    result = seed(runner, "--now", NOW)
    assert result.exit_code != 0
    assert "empty database" in result.output
    assert (count(User), count(Family)) == before


def test_now_without_offset_is_helsinki_time_and_nonsense_is_refused(app, runner):
    result = seed(runner, "--now", "2026-07-01T09:00:00")
    assert result.exit_code == 0, result.output
    assert "as of 2026-07-01" in result.output
    empty_tables()
    result = seed(runner, "--now", "last tuesday")
    assert result.exit_code != 0
    assert "--now" in result.output


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


def test_places_are_never_over_capacity_and_waiting_lists_have_no_gaps(seeded):
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
    # Withdrawals happened, and the first waiting family moved up into the place.
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
