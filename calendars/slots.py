"""Free slots: where a visit fits in its workers' calendars, best first."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from calendars import conflicts
from calendars.services import CalendarSettings
from core.localtime import local_datetime, to_local
from families.models import Family


@dataclass(frozen=True)
class Slot:
    """A start time where a visit fits, with what makes it better or worse."""

    start: datetime
    end: datetime
    travel_minutes: int
    preferred: bool


def search_grid(calendars: conflicts.Calendars, first_day: date, last_day: date,
                duration: timedelta, step: timedelta) -> list[tuple[datetime, datetime]]:
    """The candidate times: working days, inside every worker's hours, on a grid."""
    candidates = []
    day = first_day
    while day <= last_day:
        windows = [worker.hours.get(day.isoweekday()) for worker in calendars.workers]
        if day not in calendars.days_off and windows and None not in windows:
            opens = max(window[0] for window in windows)
            closes = min(window[1] for window in windows)
            moment = datetime.combine(day, opens)
            while moment + duration <= datetime.combine(day, closes):
                start = local_datetime(day, moment.time(), calendars.zone)
                candidates.append((start, start + duration))
                moment += step
        day += timedelta(days=1)
    return candidates


def free_slots(worker_ids, *, first_day: date, last_day: date, duration_minutes: int,
               family: Family | None = None, zone, settings: CalendarSettings,
               now: datetime) -> list[Slot]:
    """Where a visit fits with no clash at all, best first.

    Best is the least travel from and to the neighbouring appointments, then
    inside the family's preferred hours, then the earliest.
    """
    start = local_datetime(first_day, time(0), zone)
    end = local_datetime(last_day + timedelta(days=1), time(0), zone)
    calendars = conflicts.load(worker_ids, family.id if family else None, start, end,
                               zone=zone, travel=settings.travel,
                               default_working_hours=settings.default_working_hours)
    municipality_id = family.municipality_id if family else None
    windows = family.availability if family else []
    duration = timedelta(minutes=duration_minutes)
    slots = []
    for slot_start, slot_end in search_grid(calendars, first_day, last_day, duration,
                                            timedelta(minutes=settings.step_minutes)):
        if slot_start < now or conflicts.clashes(calendars, slot_start, slot_end,
                                                 municipality_id):
            continue
        local_start, local_end = to_local(slot_start, zone), to_local(slot_end, zone)
        preferred = any(window.covers(local_start.isoweekday(), local_start.time(),
                                      local_end.time()) for window in windows)
        slots.append(Slot(slot_start, slot_end,
                          conflicts.travel_around(calendars, slot_start, slot_end,
                                                  municipality_id), preferred))
    return sorted(slots, key=lambda slot: (slot.travel_minutes, not slot.preferred,
                                           slot.start))
