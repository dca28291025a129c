"""The working-time rules: who keeps whose, and what an absence covers."""

from datetime import date, datetime, time

import pytest

from calendars import services, working_time
from calendars.sight import Sight
from core.clock import FixedClock
from core.errors import Conflict, NotFound, ValidationFailed
from extensions import db
from tests.calendars.test_feeds import HELSINKI, SETTINGS, book
from tests.conftest import NOW, make_family, make_group, make_user


def test_an_absence_covers_scheduled_visits_and_facilitated_sessions_only(coordinator,
                                                                          worker):
    family = make_family(coordinator, workers=[worker], plan=True)
    kept = book(coordinator, family, worker, datetime(2026, 12, 8, 10, tzinfo=HELSINKI))
    cancelled = book(coordinator, family, worker, datetime(2026, 12, 9, 10, tzinfo=HELSINKI))
    services.update_visit(coordinator, cancelled, {"status": "cancelled",
                                                   "status_reason": "Sairas"},
                          zone=HELSINKI, settings=SETTINGS, clock=FixedClock(NOW))
    make_group(coordinator, facilitators=[worker], first_date=date(2026, 12, 8),
               count=1)
    db.session.commit()
    start, end = datetime(2026, 12, 7, tzinfo=HELSINKI), datetime(2026, 12, 12,
                                                                 tzinfo=HELSINKI)
    covered = working_time.booked_during(worker, start, end, Sight(worker))
    assert {(event.kind, event.id) for event in covered if event.kind == "home_visit"} \
        == {("home_visit", kept.id)}
    assert [event.kind for event in covered].count("group_session") == 1

    with pytest.raises(Conflict) as refused:
        working_time.add_absence(worker, worker, kind="leave", start=start, end=end)
    assert refused.value.code == "confirmation_required"
    assert {detail["id"] for detail in refused.value.details} == {e.id for e in covered}
    absence, booked = working_time.add_absence(worker, worker, kind="leave", start=start,
                                               end=end, confirm=True)
    assert absence.id and booked == covered


def test_only_the_worker_their_coordinators_and_admins_keep_their_working_time(
        coordinator, worker):
    social_worker = make_user("social_worker")
    other_worker = make_user("family_worker")
    far_coordinator = make_user("coordinator", municipalities=("Puumala",))
    admin = make_user("admin", municipalities=())
    for allowed in (worker, coordinator, admin):
        assert working_time.get_worker(allowed, worker.id) == worker
    for refused in (social_worker, other_worker, far_coordinator):
        with pytest.raises(NotFound):
            working_time.get_worker(refused, worker.id)
        with pytest.raises(NotFound):
            working_time.set_hours(refused, worker, {1: (time(8), time(16))})
    with pytest.raises(NotFound):  # a coordinator has no working hours to keep
        working_time.get_worker(admin, coordinator.id)


def test_hours_replace_the_old_ones_and_the_default_comes_back(worker):
    default = working_time.hours_of(worker, "1-5 08:00-16:00")
    assert default.default and default.days[5] == (time(8), time(16)) and 6 not in default.days
    working_time.set_hours(worker, worker, {1: (time(7), time(15)), 6: (time(9), time(13))})
    working_time.set_hours(worker, worker, {2: (time(10), time(18))})
    assert working_time.hours_of(worker, "1-5 08:00-16:00") == working_time.WeekHours(
        {2: (time(10), time(18))}, default=False)
    working_time.use_default_hours(worker, worker)
    assert working_time.hours_of(worker, "1-5 08:00-16:00").default


@pytest.mark.parametrize("days, field", [
    ({}, "days"), ({0: (time(8), time(16))}, "weekday_0"),
    ({8: (time(8), time(16))}, "weekday_8"), ({3: (time(16), time(8))}, "weekday_3"),
    ({3: (time(8), time(8))}, "weekday_3"),
])
def test_bad_hours_are_refused_by_weekday(worker, days, field):
    with pytest.raises(ValidationFailed) as refused:
        working_time.set_hours(worker, worker, days)
    assert field in refused.value.fields
