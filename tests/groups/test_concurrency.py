"""Seats under concurrency: many requests at once, each on its own connection.

Runs on the suite's database: SQLite by default, PostgreSQL when
TEST_DATABASE_URL is set (CI runs both, and requires PostgreSQL).
"""


import pytest

from accounts.models import User
from core.errors import DomainError
from extensions import db
from families.models import Family
from groups import enrollment as group_enrollment
from groups.models import Enrollment, PeerGroup
from tests.conftest import HELSINKI, make_family, make_group, run_at_once

FAMILIES = 20
CAPACITY = 5


@pytest.fixture
def crowded_group(app, coordinator):
    group = make_group(coordinator, capacity=CAPACITY)
    families = [make_family(coordinator, plan=True) for _ in range(FAMILIES)]
    return group.id, coordinator.id, [family.id for family in families]


def enroll_job(app, group_id, actor_id, family_id):
    def job():
        actor = db.session.get(User, actor_id)
        family = db.session.get(Family, family_id)
        enrollment = group_enrollment.enroll(actor, db.session.get(PeerGroup, group_id), family,
                                             [member.id for member in family.members],
                                             zone=HELSINKI, clock=app.extensions["clock"])
        return enrollment.id
    return job


def withdraw_job(app, actor_id, enrollment_id):
    def job():
        actor = db.session.get(User, actor_id)
        enrollment = db.session.get(Enrollment, enrollment_id)
        return [e.id for e in group_enrollment.withdraw(actor, enrollment,
                                                        clock=app.extensions["clock"])]
    return job


def snapshot(group_id):
    db.session.expire_all()
    rows = db.session.scalars(db.select(Enrollment).where(
        Enrollment.group_id == group_id).order_by(Enrollment.id)).all()
    enrolled = [row for row in rows if row.status == "enrolled"]
    waiting = sorted((row for row in rows if row.status == "waitlisted"),
                     key=lambda row: row.position)
    return rows, enrolled, waiting


def test_simultaneous_enrollments_fill_exactly_the_free_seats(app, crowded_group):
    group_id, actor_id, family_ids = crowded_group
    results = run_at_once(app, [enroll_job(app, group_id, actor_id, family_id)
                                for family_id in family_ids])

    assert [r for r in results if isinstance(r, Exception)] == []
    rows, enrolled, waiting = snapshot(group_id)
    assert len(rows) == FAMILIES
    assert len(enrolled) == CAPACITY
    assert [row.position for row in waiting] == list(range(1, FAMILIES - CAPACITY + 1))
    assert len({row.family_id for row in rows}) == FAMILIES


def test_simultaneous_withdrawals_promote_each_waiting_family_once(app, crowded_group):
    group_id, actor_id, family_ids = crowded_group
    run_at_once(app, [enroll_job(app, group_id, actor_id, family_id)
                      for family_id in family_ids])
    _, enrolled, waiting = snapshot(group_id)
    first_in_line = [row.id for row in waiting[:CAPACITY]]

    results = run_at_once(app, [withdraw_job(app, actor_id, row.id) for row in enrolled])

    assert [r for r in results if isinstance(r, Exception)] == []
    promoted = sorted(enrollment_id for result in results for enrollment_id in result)
    assert promoted == sorted(first_in_line)
    rows, enrolled_now, waiting_now = snapshot(group_id)
    assert sorted(row.id for row in enrolled_now) == sorted(first_in_line)
    assert [row.position for row in waiting_now] == list(
        range(1, FAMILIES - 2 * CAPACITY + 1))
    assert sum(row.status == "withdrawn" for row in rows) == CAPACITY


def test_the_same_family_fired_twice_gets_one_seat(app, crowded_group):
    group_id, actor_id, family_ids = crowded_group
    results = run_at_once(app, [enroll_job(app, group_id, actor_id, family_ids[0])
                                for _ in range(4)])

    refusals = [r for r in results if isinstance(r, DomainError)]
    assert len(refusals) == 3
    assert {r.code for r in refusals} == {"already_in_group"}
    rows, _, _ = snapshot(group_id)
    assert len(rows) == 1

