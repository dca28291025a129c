"""Property-based tests of seats and the waiting list.

Random sequences of enroll, withdraw and capacity change run against the
services and the database, beside a plain model of the rules: the group is
never over capacity, positions run 1..n without gaps, and the waiting list is
first come, first promoted.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import Conflict, RuleViolation
from extensions import db
from groups import enrollment, services
from groups.models import Enrollment
from tests.conftest import HELSINKI, make_family, make_group

FAMILIES = 6

enrolls = st.tuples(st.just("enroll"), st.integers(0, FAMILIES - 1))
withdrawals = st.tuples(st.just("withdraw"), st.integers(0, FAMILIES - 1))
capacity_changes = st.tuples(st.just("capacity"), st.integers(1, 5))
# Enrollments weigh most, so that groups fill and waiting lists form.
operations = st.lists(st.one_of(enrolls, enrolls, enrolls, withdrawals, withdrawals,
                                capacity_changes), min_size=3, max_size=30)


class Model:
    """The rules in a few lines: seats in order, a queue, a capacity."""

    def __init__(self, capacity):
        self.capacity, self.enrolled, self.waiting = capacity, [], []

    def enroll(self, family):
        if family in self.enrolled or family in self.waiting:
            return "conflict"
        (self.enrolled if len(self.enrolled) < self.capacity else self.waiting).append(family)
        return "ok"

    def withdraw(self, family):
        if family in self.waiting:
            self.waiting.remove(family)
        elif family in self.enrolled:
            self.enrolled.remove(family)
            self._promote()
        else:
            return "conflict"
        return "ok"

    def set_capacity(self, capacity):
        if capacity < len(self.enrolled):
            return "refused"
        self.capacity = capacity
        self._promote()
        return "ok"

    def _promote(self):
        while self.waiting and len(self.enrolled) < self.capacity:
            self.enrolled.append(self.waiting.pop(0))


@pytest.fixture
def families(coordinator):
    """Made once per test; each example starts from an empty roster of a new group."""
    return [make_family(coordinator, plan=True) for _ in range(FAMILIES)]


# The fixtures are made once for all examples, on purpose: each example clears
# the enrollments and makes a group of its own.
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations, capacity=st.integers(1, 3))
def test_seats_follow_the_rules_under_any_sequence(app, coordinator, clock, families,
                                                   steps, capacity):
    db.session.execute(db.delete(Enrollment))
    group = make_group(coordinator, capacity=capacity)
    model = Model(capacity)
    active = {}

    for action, argument in steps:
        if action == "enroll":
            family = families[argument]
            expected = model.enroll(argument)
            try:
                active[argument] = enrollment.enroll(
                    coordinator, group, family, [m.id for m in family.members],
                    zone=HELSINKI, clock=clock)
                outcome = "ok"
            except Conflict:
                outcome = "conflict"
        elif action == "withdraw":
            expected = model.withdraw(argument)
            if argument in active:
                enrollment.withdraw(coordinator, active.pop(argument), clock=clock)
                outcome = "ok"
            else:
                outcome = "conflict"
        else:
            expected = model.set_capacity(argument)
            try:
                services.update_group(coordinator, group, {"capacity": argument},
                                      zone=HELSINKI, clock=clock)
                outcome = "ok"
            except RuleViolation:
                db.session.rollback()
                outcome = "refused"
        db.session.commit()
        assert outcome == expected, (action, argument)

        db.session.expire_all()
        enrolled = enrollment.roster(group)
        waiting = enrollment.waiting_list(group)
        assert len(enrolled) <= group.capacity
        assert [e.position for e in waiting] == list(range(1, len(waiting) + 1))
        index = {family.id: number for number, family in enumerate(families)}
        assert sorted(index[e.family_id] for e in enrolled) == sorted(model.enrolled)
        assert [index[e.family_id] for e in waiting] == model.waiting
