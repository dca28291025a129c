"""`flask --app app seed-demo`: complete, rule-abiding, reproducible and safe to repeat."""

from datetime import date, timedelta

import pytest

import demo
from accounts.models import User
from core.models import AuditEvent, BlackoutDate, Venue
from core.roles import ROLES
from extensions import db
from families.models import Family, Member, Plan, TrackChange

NOW = "2026-11-30T10:00:00+02:00"
TODAY = date(2026, 11, 30)


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
    empty_tables()
    result = seed(runner, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert dump() == first


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
