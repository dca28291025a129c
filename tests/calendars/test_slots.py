"""Free slots, property-tested against the booking's own clash check.

For random busy calendars: no slot returned has a clash, and every start on
the search grid without a clash is returned.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calendars import services
from calendars.conflicts import TravelPolicy
from calendars.models import Absence, HomeVisit
from calendars.slots import free_slots
from core.localtime import local_datetime
from extensions import db
from tests.conftest import NOW, make_family, make_user

HELSINKI = ZoneInfo("Europe/Helsinki")
SETTINGS = services.CalendarSettings(TravelPolicy(1.2, 15), "1-5 08:00-16:00", 15)
MONDAY = date(2026, 12, 7)
WEDNESDAY = date(2026, 12, 9)

busy_items = st.lists(st.tuples(
    st.sampled_from(["visit_here", "visit_far", "absence"]),
    st.integers(0, 2),                      # day of the week
    st.integers(7 * 4, 16 * 4),             # start, in quarters of an hour
    st.integers(2, 12),                     # length, in quarters of an hour
), max_size=7)


@pytest.fixture
def calendar_people(coordinator):
    worker = make_user("family_worker", municipalities=("Mikkeli", "Puumala"))
    far_coordinator = make_user("coordinator", municipalities=("Puumala",))
    return {
        "worker": worker,
        "family": make_family(coordinator, workers=[worker], plan=True),
        "here": make_family(coordinator, workers=[worker], plan=True),
        "far": make_family(far_coordinator, municipality="Puumala", workers=[worker],
                           plan=True),
    }


def grid(duration: timedelta):
    """The search grid, written out independently: weekdays 08-16 every 15 minutes."""
    day = MONDAY
    while day <= WEDNESDAY:
        moment = datetime.combine(day, time(8))
        while moment + duration <= datetime.combine(day, time(16)):
            start = local_datetime(day, moment.time(), HELSINKI)
            yield start, start + duration
            moment += timedelta(minutes=15)
        day += timedelta(days=1)


# One set of people for all examples; each example clears the calendars first.
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(busy=busy_items, quarters=st.integers(2, 8), with_family=st.booleans())
def test_free_slots_are_exactly_the_clash_free_grid_starts(app, calendar_people, busy,
                                                           quarters, with_family):
    db.session.execute(db.delete(HomeVisit))
    db.session.execute(db.delete(Absence))
    worker = calendar_people["worker"]
    for kind, day, start_quarter, length in busy:
        start = local_datetime(MONDAY + timedelta(days=day), time(0), HELSINKI) + \
            timedelta(minutes=15 * start_quarter)
        end = start + timedelta(minutes=15 * length)
        if kind == "absence":
            db.session.add(Absence(user_id=worker.id, kind="leave", start=start, end=end))
        else:
            family = calendar_people["here" if kind == "visit_here" else "far"]
            db.session.add(HomeVisit(
                family=family, kind="home_visit", start=start, end=end,
                municipality=family.municipality, workers=[worker], created_at=NOW,
                updated_at=NOW))
    db.session.commit()
    family = calendar_people["family"] if with_family else None
    duration = timedelta(minutes=15 * quarters)

    slots = free_slots([worker.id], first_day=MONDAY, last_day=WEDNESDAY,
                       duration_minutes=15 * quarters, family=family,
                       zone=HELSINKI, settings=SETTINGS, now=NOW)

    clash_free = {
        start for start, end in grid(duration)
        if not services.find_clashes([worker.id], family.id if family else None, start,
                                     end, family.municipality_id if family else None,
                                     zone=HELSINKI, settings=SETTINGS)}
    assert {slot.start for slot in slots} == clash_free
    assert len(slots) == len(clash_free)
    assert [slot.travel_minutes for slot in slots] == sorted(
        slot.travel_minutes for slot in slots)


def test_preferred_hours_come_first_at_equal_travel(app, calendar_people):
    from families.models import AvailabilityWindow

    family = calendar_people["family"]
    family.availability.append(AvailabilityWindow(weekday=3, start_time=time(13),
                                                  end_time=time(15)))
    db.session.commit()
    slots = free_slots([calendar_people["worker"].id], first_day=MONDAY,
                       last_day=WEDNESDAY, duration_minutes=60, family=family,
                       zone=HELSINKI, settings=SETTINGS, now=NOW)
    first = slots[0].start.astimezone(HELSINKI)
    assert (first.date(), first.time()) == (date(2026, 12, 9), time(13))
    assert slots[0].preferred and not slots[-1].preferred


def test_two_workers_share_only_their_common_free_time(app, calendar_people, coordinator):
    worker = calendar_people["worker"]
    colleague = make_user("family_worker")
    family = make_family(coordinator, workers=[colleague], plan=True)
    start = local_datetime(MONDAY, time(8), HELSINKI)
    db.session.add(HomeVisit(family=family, kind="home_visit", start=start,
                             end=start + timedelta(hours=8), municipality=family.municipality,
                             workers=[colleague], created_at=NOW, updated_at=NOW))
    db.session.commit()
    slots = free_slots([worker.id, colleague.id], first_day=MONDAY,
                       last_day=MONDAY + timedelta(days=1), duration_minutes=60,
                       zone=HELSINKI, settings=SETTINGS, now=NOW)
    assert slots and all(slot.start.astimezone(HELSINKI).date() != MONDAY for slot in slots)
