"""No double booking: what puts time on a worker's calendar, many at once.

Over HTTP, the app runs under gunicorn (four processes) on the suite's
database, and the requests are released together, each on its own
connection. In-process, two service calls race in threads: the first holds its
transaction open until the second is seen waiting for the calendar lock
(PostgreSQL's pg_locks), so the second must read what the first wrote.

Runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set (CI
runs both, and requires PostgreSQL); the tests that read pg_locks need it.
"""

import threading
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time

import pytest
import sqlalchemy as sa

from accounts.models import User
from calendars import services, working_time
from calendars.models import HomeVisit, visit_workers
from calendars.services import CalendarSettings
from core.errors import Conflict, DomainError
from core.localtime import local_datetime
from core.locks import FAMILY_CALENDAR, WORKER_CALENDAR
from extensions import db
from families.models import Family
from groups import series as group_series
from groups import services as group_services
from groups.models import GroupSession, PeerGroup
from tests.conftest import (
    HELSINKI,
    bearer,
    make_family,
    make_group,
    make_user,
    require,
    run_at_once,
)
from tests.servers import WAIT_SECONDS, at_once, gunicorn_app

REQUESTS = 20


@pytest.fixture(scope="module")
def port(_app, database_url):
    """The app under gunicorn, for the tests of this module."""
    with gunicorn_app(database_url) as port:
        yield port


def ahead(weeks: int, weekday: int = 3) -> date:
    """A working day of the given ISO weekday some weeks ahead of the real today
    (the server runs on the real clock, and a series books only dates ahead),
    the week after when that one is a holiday."""
    day = datetime.now(HELSINKI).date() + timedelta(weeks=weeks)
    day += timedelta(days=(weekday - day.isoweekday()) % 7)
    while group_series.days_off_between(day, day):
        day += timedelta(weeks=1)
    return day


def working_days(count: int, weekday: int = 3) -> list[date]:
    """``count`` working days of a weekday, a week apart or more, from two weeks
    ahead."""
    days = [ahead(2, weekday)]
    while len(days) < count:
        days.append(_next_working(days[-1]))
    return days


def _next_working(day: date) -> date:
    day += timedelta(weeks=1)
    while group_series.days_off_between(day, day):
        day += timedelta(weeks=1)
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return local_datetime(day, clock_time(hour, minute), HELSINKI)


def visit_body(family_id, worker_ids, start: datetime, minutes=60, **extra) -> dict:
    # Confirmed: only hard clashes refuse, whatever the day and hours.
    return {"family_id": family_id, "worker_ids": worker_ids, "kind": "home_visit",
            "start": start.isoformat(), "end": (start + timedelta(minutes=minutes)).isoformat(),
            "confirm": True, **extra}


def scheduled_visits(worker_id) -> list[tuple[datetime, datetime, int]]:
    db.session.expire_all()
    return db.session.execute(
        sa.select(HomeVisit.start, HomeVisit.end, HomeVisit.id)
        .join(visit_workers, visit_workers.c.visit_id == HomeVisit.id)
        .where(visit_workers.c.user_id == worker_id, HomeVisit.status == "scheduled")
        .order_by(HomeVisit.start)).all()


def assert_no_overlap(worker_id):
    visits = scheduled_visits(worker_id)
    for before, after in zip(visits, visits[1:], strict=False):
        assert before[1] <= after[0], f"visits {before[2]} and {after[2]} overlap"


def book(app, actor, family, worker_ids, start, minutes=60):
    visit = services.book_visit(
        actor, family, kind="home_visit", start=start,
        end=start + timedelta(minutes=minutes), worker_ids=worker_ids, confirm=True,
        zone=HELSINKI, settings=CalendarSettings.from_config(app.config),
        clock=app.extensions["clock"])
    db.session.commit()
    return visit


def statuses(answers) -> list[int]:
    return sorted(answer.status for answer in answers)


@pytest.fixture
def planned_families(coordinator):
    def make(count):
        return [make_family(coordinator, plan=True) for _ in range(count)]
    return make


# --- over HTTP, under gunicorn ---------------------------------------------

def test_twenty_identical_bookings_give_one_visit(port, coordinator, worker, family):
    headers = bearer(coordinator)
    body = visit_body(family.id, [worker.id], at(ahead(2), 10))

    answers = at_once(port, [("POST", "/api/v1/visits", body, headers)] * REQUESTS)

    assert statuses(answers) == [201] + [409] * (REQUESTS - 1), answers
    assert {answer.code for answer in answers if answer.status == 409} == {"visit_conflict"}
    assert len(scheduled_visits(worker.id)) == 1


def test_twenty_overlapping_bookings_for_twenty_families_give_one_visit(
        port, coordinator, worker, planned_families):
    # Each family is booked once, so only the worker's calendar is shared.
    families = planned_families(REQUESTS)
    headers = bearer(coordinator)
    first = at(ahead(2), 9)
    requests = [("POST", "/api/v1/visits",
                 visit_body(family.id, [worker.id], first + timedelta(minutes=3 * number)),
                 headers) for number, family in enumerate(families)]

    answers = at_once(port, requests)

    assert statuses(answers) == [201] + [409] * (REQUESTS - 1), answers
    assert len(scheduled_visits(worker.id)) == 1


def test_a_move_racing_a_booking_leaves_no_overlap(app, port, coordinator, worker,
                                                   planned_families):
    moving_family, booking_family = planned_families(2)
    headers = bearer(coordinator)
    for day in working_days(5):
        visit = book(app, coordinator, moving_family, [worker.id], at(day, 9))
        answers = at_once(port, [
            ("PATCH", f"/api/v1/visits/{visit.id}",
             {"start": at(day, 13).isoformat(), "confirm": True}, headers),
            ("POST", "/api/v1/visits",
             visit_body(booking_family.id, [worker.id], at(day, 13, 30)), headers)])

        assert statuses(answers) == [200, 409] or statuses(answers) == [201, 409], answers
        assert_no_overlap(worker.id)


def test_a_series_racing_a_booking_leaves_no_overlap(port, coordinator, worker,
                                                     planned_families):
    series_family, booking_family = planned_families(2)
    headers = bearer(coordinator)
    for first in working_days(11)[::5]:
        series = {"family_id": series_family.id, "worker_ids": [worker.id],
                  "kind": "home_visit", "confirm": True,
                  "series": {"weekday": first.isoweekday(), "start_time": "10:00",
                             "duration_minutes": 60, "first_date": first.isoformat(),
                             "count": 4}}
        answers = at_once(port, [
            ("POST", "/api/v1/visits", series, headers),
            ("POST", "/api/v1/visits",
             visit_body(booking_family.id, [worker.id], at(first, 10, 30)), headers)])

        assert statuses(answers) == [201, 409], answers
        assert_no_overlap(worker.id)


def test_adding_a_worker_racing_a_booking_leaves_no_overlap(app, port, coordinator, worker,
                                                            planned_families):
    second_worker = make_user("family_worker")
    visit_family, booking_family = planned_families(2)
    headers = bearer(coordinator)
    for day in working_days(5):
        visit = book(app, coordinator, visit_family, [worker.id], at(day, 10))
        answers = at_once(port, [
            ("PATCH", f"/api/v1/visits/{visit.id}",
             {"worker_ids": [worker.id, second_worker.id], "confirm": True}, headers),
            ("POST", "/api/v1/visits",
             visit_body(booking_family.id, [second_worker.id], at(day, 10, 15)), headers)])

        assert statuses(answers) in ([200, 409], [201, 409]), answers
        assert_no_overlap(second_worker.id)


# --- in-process threads, on either database --------------------------------

def test_simultaneous_service_bookings_give_one_visit(app, coordinator, worker,
                                                      planned_families):
    """Without the lock SQLite would take both: its driver begins the transaction
    only at the first write, after the clash check has read."""
    families = planned_families(8)
    start = at(ahead(3), 11)
    actor_id, worker_id = coordinator.id, worker.id

    def job(family_id):
        return lambda: book(app, db.session.get(User, actor_id),
                            db.session.get(Family, family_id), [worker_id], start).id

    results = run_at_once(app, [job(family.id) for family in families])

    refused = [result for result in results if isinstance(result, Exception)]
    assert len(refused) == len(families) - 1, results
    assert all(isinstance(error, Conflict) and error.code == "visit_conflict"
               for error in refused), refused
    assert len(scheduled_visits(worker.id)) == 1


# --- one path against another: the second waits for the first (PostgreSQL) ---

def waiting_for_calendar() -> bool:
    """Whether some transaction waits for a calendar lock now."""
    with db.engine.connect() as connection:
        return bool(connection.scalar(sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND classid IN (:family, :worker) AND objsubid = 2"),
            {"family": FAMILY_CALENDAR, "worker": WORKER_CALENDAR}))


def one_after_the_other(app, first, second):
    """Run ``first`` and hold its transaction open; run ``second`` until it waits
    for a calendar lock; then commit the first. Returns what each returned or
    raised (the second, after the first committed)."""
    if db.engine.dialect.name != "postgresql":
        require("POSTGRES", "the calendar locks are seen in PostgreSQL's pg_locks")
    first_done, release = threading.Event(), threading.Event()
    results = {}

    def run(name, job, done=None):
        with app.app_context():
            try:
                results[name] = job()
                if done is not None:
                    done.set()
                    assert release.wait(timeout=WAIT_SECONDS)
                db.session.commit()
            except Exception as error:  # reported to the test, which asserts on it
                db.session.rollback()
                results[name] = error
                if done is not None:
                    done.set()
            finally:
                db.session.remove()

    holder = threading.Thread(target=run, args=("first", first, first_done))
    holder.start()
    assert first_done.wait(timeout=WAIT_SECONDS)
    assert not isinstance(results.get("first"), Exception), results.get("first")
    waiter = threading.Thread(target=run, args=("second", second))
    waiter.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while not waiting_for_calendar() and waiter.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    waited = waiter.is_alive() and waiting_for_calendar()
    release.set()
    holder.join(timeout=WAIT_SECONDS)
    waiter.join(timeout=WAIT_SECONDS)
    assert not holder.is_alive() and not waiter.is_alive()
    assert waited, f"the second did not wait for the first: {results}"
    return results["first"], results["second"]


def in_session(model, object_id):
    return db.session.get(model, object_id)


def refused_as(result, code):
    assert isinstance(result, DomainError), result
    assert result.code == code, result
    return result


@pytest.fixture
def race(app, coordinator, worker, planned_families):
    """What the racing jobs need, by id: each job loads its own objects."""
    first_family, second_family = planned_families(2)
    settings = CalendarSettings.from_config(app.config)
    clock = app.extensions["clock"]

    class Race:
        day = ahead(4, weekday=2)  # a Tuesday, when the test groups meet at 17:00

        @staticmethod
        def book(family, worker_ids, start, minutes=60):
            def job():
                return services.book_visit(
                    in_session(User, coordinator.id), in_session(Family, family.id),
                    kind="home_visit", start=start, end=start + timedelta(minutes=minutes),
                    worker_ids=worker_ids, confirm=True, zone=HELSINKI, settings=settings,
                    clock=clock).id
            return job

        @staticmethod
        def update(visit_id, changes):
            def job():
                return services.update_visit(
                    in_session(User, coordinator.id), in_session(HomeVisit, visit_id),
                    changes, confirm=True, zone=HELSINKI, settings=settings, clock=clock).id
            return job

        @staticmethod
        def update_group(group_id, changes):
            def job():
                return group_services.update_group(
                    in_session(User, coordinator.id), in_session(PeerGroup, group_id),
                    changes, zone=HELSINKI, clock=clock).id
            return job

    Race.first_family, Race.second_family = first_family, second_family
    return Race


def test_a_booking_waits_for_a_booking_and_sees_it(app, worker, race):
    first, second = one_after_the_other(
        app, race.book(race.first_family, [worker.id], at(race.day, 10)),
        race.book(race.second_family, [worker.id], at(race.day, 10, 30)))
    assert isinstance(first, int)
    refused_as(second, "visit_conflict")


def test_a_booking_waits_for_a_move_and_sees_it(app, coordinator, worker, race):
    visit = book(app, coordinator, race.first_family, [worker.id], at(race.day, 8))
    first, second = one_after_the_other(
        app, race.update(visit.id, {"start": at(race.day, 14)}),
        race.book(race.second_family, [worker.id], at(race.day, 14, 15)))
    refused_as(second, "visit_conflict")


def test_a_move_waits_for_a_booking_and_sees_it(app, coordinator, worker, race):
    visit = book(app, coordinator, race.first_family, [worker.id], at(race.day, 8))
    first, second = one_after_the_other(
        app, race.book(race.second_family, [worker.id], at(race.day, 14, 15)),
        race.update(visit.id, {"start": at(race.day, 14)}))
    refused_as(second, "visit_conflict")


def test_a_booking_waits_for_a_series_and_sees_it(app, coordinator, worker, race):
    rule = group_series.series_rule(weekday=race.day.isoweekday(),
                                    start_time=clock_time(10), duration_minutes=60,
                                    first_date=race.day, count=3)
    settings = CalendarSettings.from_config(app.config)

    def series():
        visits, _ = services.book_series(
            in_session(User, coordinator.id), in_session(Family, race.first_family.id),
            kind="home_visit", rule=rule, worker_ids=[worker.id], confirm=True,
            zone=HELSINKI, settings=settings, clock=app.extensions["clock"])
        return [visit.id for visit in visits]

    first, second = one_after_the_other(
        app, series,
        race.book(race.second_family, [worker.id], at(race.day, 10)))
    assert len(first) == 3
    refused_as(second, "visit_conflict")


def test_a_booking_waits_for_a_worker_added_to_a_visit_and_sees_it(app, coordinator, worker,
                                                                   race):
    second_worker = make_user("family_worker")
    visit = book(app, coordinator, race.first_family, [worker.id], at(race.day, 10))
    first, second = one_after_the_other(
        app, race.update(visit.id, {"worker_ids": [worker.id, second_worker.id]}),
        race.book(race.second_family, [second_worker.id], at(race.day, 10)))
    refused_as(second, "visit_conflict")


def test_a_booking_waits_for_a_facilitator_added_to_a_group_and_sees_it(
        app, coordinator, worker, race):
    group = make_group(coordinator, first_date=race.day, count=4)
    first, second = one_after_the_other(
        app, race.update_group(group.id, {"facilitator_ids": [worker.id]}),
        race.book(race.second_family, [worker.id], at(race.day, 17, 30)))
    refused_as(second, "visit_conflict")
    assert "worker_in_group" in {detail["code"] for detail in second.details}


def test_a_booking_waits_for_a_group_opened_and_sees_it(app, coordinator, worker, race):
    group = make_group(coordinator, first_date=race.day, count=4, status="draft",
                       facilitators=[worker])
    first, second = one_after_the_other(
        app, race.update_group(group.id, {"status": "open"}),
        race.book(race.second_family, [worker.id], at(race.day + timedelta(weeks=1), 17)))
    refused_as(second, "visit_conflict")


def test_a_booking_waits_for_a_session_moved_and_sees_it(app, coordinator, worker, race):
    group = make_group(coordinator, first_date=race.day, count=4, facilitators=[worker])
    session_id = db.session.scalar(sa.select(GroupSession.id).where(
        GroupSession.group_id == group.id).order_by(GroupSession.start))

    def move_session():
        return group_series.change_session(
            in_session(User, coordinator.id), in_session(GroupSession, session_id),
            start=at(race.day, 12), clock=app.extensions["clock"]).id

    first, second = one_after_the_other(
        app, move_session, race.book(race.second_family, [worker.id], at(race.day, 12)))
    refused_as(second, "visit_conflict")


def test_a_booking_waits_for_a_new_group_of_its_facilitator(app, coordinator, worker, race):
    def new_group():
        plan = group_series.SeriesPlan(group_series.series_rule(
            weekday=2, start_time=clock_time(17), duration_minutes=90,
            first_date=race.day, count=4))
        return group_services.create_group(
            in_session(User, coordinator.id), name="Vauvaryhmä", capacity=5,
            municipalities=["Mikkeli"], tracks=["preventive"], facilitator_ids=[worker.id],
            series=plan, zone=HELSINKI, clock=app.extensions["clock"]).id

    first, second = one_after_the_other(
        app, new_group, race.book(race.second_family, [worker.id], at(race.day, 17)))
    # A draft's sessions are on no calendar yet: the booking is taken, after the group.
    assert isinstance(first, int) and isinstance(second, int)


def training_day(coordinator, worker, race):
    """A job recording the worker's whole race day as training, unconfirmed."""
    def absence():
        found, _ = working_time.add_absence(
            in_session(User, coordinator.id), in_session(User, worker.id), kind="training",
            start=at(race.day, 8), end=at(race.day, 16))
        return found.id
    return absence


def test_a_booking_waits_for_an_absence_and_sees_it(app, coordinator, worker, race):
    first, second = one_after_the_other(
        app, training_day(coordinator, worker, race),
        race.book(race.second_family, [worker.id], at(race.day, 10)))
    refused_as(second, "visit_conflict")
    assert "worker_absent" in {detail["code"] for detail in second.details}


def test_an_absence_waits_for_a_booking_and_sees_it(app, coordinator, worker, race):
    first, second = one_after_the_other(
        app, race.book(race.second_family, [worker.id], at(race.day, 10)),
        training_day(coordinator, worker, race))
    refused_as(second, "confirmation_required")
    assert [detail["id"] for detail in second.details] == [first]
