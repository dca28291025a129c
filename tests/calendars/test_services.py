"""Home visits: the plan rule, every kind of clash, travel time, DST and series."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from calendars import services
from calendars.conflicts import TravelPolicy, distance_km
from calendars.models import Absence, WorkingHours
from core.clock import FixedClock
from core.errors import Conflict, Forbidden, RuleViolation, ValidationFailed
from core.recurrence import SeriesRule
from extensions import db
from groups import enrollment as group_enrollment
from tests.conftest import NOW, make_family, make_group, make_user

HELSINKI = ZoneInfo("Europe/Helsinki")
SETTINGS = services.CalendarSettings(TravelPolicy(1.2, 15), "1-5 08:00-16:00", 15)


def at(day, hour, minute=0):
    return datetime(2026, 12, day, hour, minute, tzinfo=HELSINKI)


@pytest.fixture
def worker(app):
    return make_user("family_worker", municipalities=("Mikkeli", "Puumala"))


def book(actor, family, start, minutes=60, workers=None, kind="home_visit", confirm=False,
         clock=None, **extra):
    return services.book_visit(
        actor, family, kind=kind, start=start, end=start + timedelta(minutes=minutes),
        worker_ids=[w.id for w in workers or family.family_workers], confirm=confirm,
        zone=HELSINKI, settings=SETTINGS, clock=clock or FixedClock(NOW), **extra)


def codes(error):
    return [detail["code"] for detail in error.value.details]


# --- the plan rule ---------------------------------------------------------

def test_a_home_visit_needs_a_plan(coordinator, worker):
    family = make_family(coordinator, workers=[worker])
    with pytest.raises(RuleViolation) as error:
        book(coordinator, family, at(2, 10))
    assert error.value.code == "plan_required"


def test_the_planning_meeting_needs_no_plan_and_moves_the_family_to_planning(
        coordinator, worker):
    family = make_family(coordinator, workers=[worker])
    visit = book(coordinator, family, at(2, 10), kind="planning_meeting")
    assert visit.id and family.status == "planning"
    assert visit.place == family.address


def test_a_child_protection_planning_meeting_invites_the_social_worker(
        coordinator, worker, social_worker):
    family = make_family(coordinator, track="child_protection", social_worker=social_worker,
                         workers=[worker])
    visit = book(coordinator, family, at(2, 10), kind="planning_meeting")
    assert visit.invited_social_worker == social_worker


def test_a_family_worker_books_only_for_their_own_families(coordinator, worker):
    other = make_family(coordinator, plan=True)
    with pytest.raises(Forbidden):
        book(worker, other, at(2, 10), workers=[worker])


# --- hard clashes ----------------------------------------------------------

def test_the_workers_other_visit_refuses(coordinator, worker, family):
    book(coordinator, family, at(2, 10))
    other = make_family(coordinator, workers=[worker], plan=True)
    with pytest.raises(Conflict) as error:
        book(coordinator, other, at(2, 10, 30))
    assert error.value.code == "visit_conflict"
    assert codes(error)[0] == "worker_busy"
    assert family.reference in error.value.message


def test_a_group_the_worker_facilitates_refuses(coordinator, worker, family):
    make_group(coordinator, facilitators=[worker])  # Tuesdays 17:00-18:30 from 1 Dec
    with pytest.raises(Conflict) as error:
        book(coordinator, family, at(1, 17, 30), confirm=True)
    assert "worker_in_group" in codes(error)
    assert "Taaperoryhmä" in error.value.message


def test_an_absence_refuses(coordinator, worker, family):
    db.session.add(Absence(user_id=worker.id, kind="training", start=at(3, 8),
                           end=at(3, 16)))
    db.session.commit()
    with pytest.raises(Conflict) as error:
        book(coordinator, family, at(3, 9))
    assert codes(error) == ["worker_absent"]


def test_the_familys_other_visit_refuses(coordinator, worker, family):
    second_worker = make_user("family_worker")
    book(coordinator, family, at(2, 10))
    with pytest.raises(Conflict) as error:
        book(coordinator, family, at(2, 10, 30), workers=[second_worker])
    assert codes(error) == ["family_busy"]


def test_the_familys_group_session_refuses(coordinator, worker, family, clock):
    group = make_group(coordinator)
    group_enrollment.enroll(coordinator, group, family, [m.id for m in family.members],
                            zone=HELSINKI, clock=clock)
    db.session.commit()
    with pytest.raises(Conflict) as error:
        book(coordinator, family, at(8, 17), confirm=True)
    assert "family_busy" in codes(error)


# --- soft clashes ----------------------------------------------------------

def test_outside_working_hours_warns_and_books_when_confirmed(coordinator, worker, family):
    with pytest.raises(Conflict) as error:
        book(coordinator, family, at(2, 17))
    assert error.value.code == "confirmation_required"
    assert codes(error) == ["outside_working_hours"]
    assert book(coordinator, family, at(2, 17), confirm=True).id


def test_the_workers_own_hours_count(coordinator, worker, family):
    db.session.add(WorkingHours(user_id=worker.id, weekday=3, start_time=time(12),
                                end_time=time(20)))
    db.session.commit()
    assert book(coordinator, family, at(2, 18)).id  # Wednesday 18:00 is inside
    with pytest.raises(Conflict):
        book(coordinator, family, at(3, 10))  # Thursday is not worked


def test_a_public_holiday_warns(coordinator, worker, family):
    with pytest.raises(Conflict) as error:
        book(coordinator, family, datetime(2026, 12, 24, 10, tzinfo=HELSINKI))
    assert "day_off" in codes(error)
    assert "Jouluaatto" in error.value.message


def test_travel_between_municipalities_needs_a_buffer(coordinator, worker, family):
    book(coordinator, family, at(2, 9))  # Mikkeli, until 10:00
    other_coordinator = make_user("coordinator", municipalities=("Puumala",))
    far = make_family(other_coordinator, municipality="Puumala", workers=[worker], plan=True)
    with pytest.raises(Conflict) as error:
        book(other_coordinator, far, at(2, 10, 30))
    assert error.value.code == "confirmation_required"
    assert codes(error) == ["travel_buffer"]
    # The Mikkeli family is out of the Puumala coordinator's sight: its visit
    # is busy time, with neither its municipality nor how far away it is.
    assert "Mikkeli" not in error.value.message and "minutes" not in error.value.message
    admin = make_user("admin", municipalities=())
    with pytest.raises(Conflict) as error:
        book(admin, far, at(2, 10, 30))
    assert "Mikkeli" in error.value.message and "Puumala" in error.value.message
    # Mikkeli-Puumala is about 51 km between centroids: 62 minutes at 1.2 min/km.
    assert book(other_coordinator, far, at(2, 11, 15)).id


def test_the_same_municipality_needs_no_buffer(coordinator, worker, family):
    book(coordinator, family, at(2, 9))
    neighbour = make_family(coordinator, workers=[worker], plan=True)
    assert book(coordinator, neighbour, at(2, 10)).id


def test_distance_between_centroids():
    mikkeli, puumala = (61.688, 27.273), (61.523, 28.178)
    assert 48 < distance_km(mikkeli, puumala) < 52


# --- time ------------------------------------------------------------------

def test_a_booking_across_the_change_to_summer_time_keeps_local_time(coordinator, worker):
    clock = FixedClock(datetime(2027, 3, 20, 9, tzinfo=HELSINKI))
    family = make_family(coordinator, workers=[worker], plan=True)
    before = book(coordinator, family, datetime(2027, 3, 25, 10, tzinfo=HELSINKI),
                  clock=clock)
    after = book(coordinator, family, datetime(2027, 3, 30, 10, tzinfo=HELSINKI),
                 clock=clock)
    db.session.commit()
    db.session.expire_all()
    assert before.start.hour == 8 and after.start.hour == 7  # UTC
    assert after.start.astimezone(HELSINKI).hour == 10


def test_a_series_keeps_local_time_over_dst_and_skips_holidays(coordinator, worker):
    clock = FixedClock(datetime(2027, 3, 1, 9, tzinfo=HELSINKI))
    family = make_family(coordinator, workers=[worker], plan=True)
    rule = SeriesRule(weekday=5, start_time=time(10), duration_minutes=60,
                      first_date=date(2027, 3, 19), count=3)
    visits, skipped = services.book_series(
        coordinator, family, kind="home_visit", rule=rule, worker_ids=[worker.id],
        zone=HELSINKI, settings=SETTINGS, clock=clock)
    local = [visit.start.astimezone(HELSINKI) for visit in visits]
    # Good Friday 26 March 2027 is skipped; clocks change on 28 March.
    assert [start.date() for start in local] == [date(2027, 3, 19), date(2027, 4, 2),
                                                 date(2027, 4, 9)]
    assert all(start.time() == time(10) for start in local)
    assert [(s.day, s.reason) for s in skipped] == [(date(2027, 3, 26), "Pitkäperjantai")]


def test_a_series_clashing_on_a_date_is_refused_with_the_date(coordinator, worker, family):
    book(coordinator, family, at(10, 10))
    rule = SeriesRule(weekday=4, start_time=time(10), duration_minutes=60,
                      first_date=date(2026, 12, 3), count=3)
    with pytest.raises(Conflict) as error:
        services.book_series(coordinator, family, kind="home_visit", rule=rule,
                             worker_ids=[worker.id], zone=HELSINKI, settings=SETTINGS,
                             clock=FixedClock(at(1, 8)))
    assert "2026-12-10" in error.value.message


# --- changing visits -------------------------------------------------------

def test_moving_raises_the_sequence_and_is_checked(coordinator, worker, family, clock):
    first = book(coordinator, family, at(2, 9))
    second = book(coordinator, family, at(2, 13))
    services.update_visit(coordinator, second, {"start": at(3, 13)}, zone=HELSINKI,
                          settings=SETTINGS, clock=clock)
    assert second.sequence == 1 and second.end == at(3, 14)
    with pytest.raises(Conflict):
        services.update_visit(coordinator, second, {"start": at(2, 9, 30)}, zone=HELSINKI,
                              settings=SETTINGS, clock=clock)
    assert first.sequence == 0


def test_cancel_raises_the_sequence_but_notes_and_done_do_not(coordinator, worker, family,
                                                             clock):
    visit = book(coordinator, family, at(2, 9))
    services.update_visit(coordinator, visit, {"notes": "Keskusteltiin unirytmistä."},
                          zone=HELSINKI, settings=SETTINGS, clock=clock)
    services.update_visit(coordinator, visit, {"status": "done"}, zone=HELSINKI,
                          settings=SETTINGS, clock=FixedClock(at(2, 10)))
    services.update_visit(coordinator, visit, {"status": "scheduled"}, zone=HELSINKI,
                          settings=SETTINGS, clock=clock)  # marked done by mistake
    assert visit.sequence == 0
    services.update_visit(coordinator, visit, {"status": "cancelled",
                                               "status_reason": "Perhe sairaana"},
                          zone=HELSINKI, settings=SETTINGS, clock=clock)
    assert visit.sequence == 1 and visit.status_reason == "Perhe sairaana"


def test_a_cancelled_visit_frees_the_time(coordinator, worker, family, clock):
    visit = book(coordinator, family, at(2, 9))
    services.update_visit(coordinator, visit, {"status": "cancelled"}, zone=HELSINKI,
                          settings=SETTINGS, clock=clock)
    assert book(coordinator, family, at(2, 9)).id


@pytest.mark.parametrize(("minutes", "field"), [(0, "end"), (-30, "end"), (9 * 60, "end")])
def test_bad_times_are_field_errors(coordinator, worker, family, minutes, field):
    with pytest.raises(ValidationFailed) as error:
        book(coordinator, family, at(2, 9), minutes=minutes)
    assert field in error.value.fields


def test_visit_workers_are_one_or_two_family_workers(coordinator, worker, family):
    with pytest.raises(ValidationFailed):
        book(coordinator, family, at(2, 9), workers=[coordinator])
    with pytest.raises(ValidationFailed):
        book(coordinator, family, at(2, 9), workers=[worker, make_user("family_worker"),
                                                     make_user("family_worker")])


def test_a_visit_ahead_cannot_be_marked_done(coordinator, worker, family, clock):
    visit = book(coordinator, family, at(2, 9))
    for status in ("done", "no_show"):
        with pytest.raises(ValidationFailed) as error:
            services.update_visit(coordinator, visit, {"status": status}, zone=HELSINKI,
                                  settings=SETTINGS, clock=clock)
        assert error.value.code == "visit_not_started"


def test_a_visit_held_or_missed_is_not_cancelled(coordinator, worker, family):
    visit = book(coordinator, family, at(2, 9))
    later = FixedClock(datetime(2026, 12, 3, 12, tzinfo=HELSINKI))
    for outcome in ("done", "no_show"):
        services.update_visit(coordinator, visit, {"status": outcome}, zone=HELSINKI,
                              settings=SETTINGS, clock=later)
        with pytest.raises(ValidationFailed) as error:
            services.update_visit(coordinator, visit, {"status": "cancelled"},
                                  zone=HELSINKI, settings=SETTINGS, clock=later)
        assert error.value.code == "visit_held" and visit.status == outcome
    services.update_visit(coordinator, visit, {"status": "scheduled"}, zone=HELSINKI,
                          settings=SETTINGS, clock=later)  # a wrong outcome is corrected
    assert visit.status == "scheduled"
