"""What a visit would clash with: the same rules for booking, moving and free slots.

Hard clashes refuse (the worker or the family is elsewhere, the worker is
away); soft ones warn and need a confirmation (outside working hours, on a
day off, too little time to travel between municipalities). A calendar is
loaded once for a range (``load``) and checked in memory (``clashes``), so a
free-slot search asks the same question as a booking, many times, cheaply.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from accounts.models import User
from calendars.events import HOME_VISIT, Event, family_events, worker_events
from calendars.models import Absence, WorkingHours
from calendars.sight import BUSY, Sight
from calendars.sight import busy_time as busy_time_of
from core.localtime import to_local
from core.models import Municipality
from core.vocabulary import ABSENCE_KINDS
from extensions import db
from groups.series import days_off_between

EARTH_RADIUS_KM = 6371.0
# The labels of the kinds of absence, from core.vocabulary.
ABSENCE_LABELS = ABSENCE_KINDS


@dataclass(frozen=True)
class TravelPolicy:
    """Minutes of travel between municipalities, from their centroids."""

    minutes_per_km: float = 1.2
    minimum_minutes: int = 15


@dataclass(frozen=True)
class Clash:
    """One reason a visit does not fit, said so that people can act on it."""

    code: str
    hard: bool
    message: str
    event: Event | None = None
    worker_id: int | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "hard": self.hard, "message": self.message,
                "worker_id": self.worker_id,
                "event": {"kind": self.event.kind,
                          "id": None if self.event.kind == BUSY else self.event.id}
                if self.event else None}


@dataclass
class WorkerCalendar:
    user_id: int
    name: str
    events: list[Event]
    absences: list[Absence]
    # weekday -> (start, end); a weekday missing is not worked.
    hours: dict[int, tuple[time, time]]


@dataclass
class Calendars:
    """Everything a clash check needs for a range of time, loaded once."""

    zone: object
    travel: TravelPolicy
    workers: list[WorkerCalendar]
    family_id: int | None = None
    family_events: list[Event] = field(default_factory=list)
    days_off: dict[date, str] = field(default_factory=dict)
    places: dict[int, tuple[str, float, float]] = field(default_factory=dict)
    # Whose families the messages may name; without one, none (busy time only).
    sight: Sight | None = None

    def shown(self, event: Event) -> Event:
        """The event as the messages may name it."""
        return self.sight.shown(event) if self.sight else busy_time_of(event)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def travel_minutes(calendars: Calendars, origin: int | None, target: int | None) -> int:
    """Minutes to allow between appointments in two municipalities (0 in the same)."""
    if origin is None or target is None or origin == target:
        return 0
    _, *a = calendars.places[origin]
    _, *b = calendars.places[target]
    return max(calendars.travel.minimum_minutes,
               math.ceil(distance_km(tuple(a), tuple(b)) * calendars.travel.minutes_per_km))


def default_hours(setting: str) -> dict[int, tuple[time, time]]:
    """Working hours from a setting such as "1-5 08:00-16:00"."""
    days, _, hours = setting.partition(" ")
    first, _, last = days.partition("-")
    start, _, end = hours.partition("-")
    return {weekday: (time.fromisoformat(start), time.fromisoformat(end))
            for weekday in range(int(first), int(last or first) + 1)}


def week_hours(user_id: int, default_setting: str) -> tuple[dict[int, tuple[time, time]],
                                                             bool]:
    """A worker's hours by weekday, and whether they are the unit's default (from
    ``default_setting``, such as "1-5 08:00-16:00"), which apply until the worker
    has hours of their own."""
    rows = db.session.scalars(sa.select(WorkingHours).where(
        WorkingHours.user_id == user_id)).all()
    if not rows:
        return default_hours(default_setting), True
    return {row.weekday: (row.start_time, row.end_time) for row in rows}, False


def absences_between(worker_ids, start: datetime, end: datetime) -> dict[int, list[Absence]]:
    """The absences of some workers that overlap a stretch of time, by worker."""
    found: dict[int, list[Absence]] = {}
    if worker_ids:
        for absence in db.session.scalars(sa.select(Absence).where(
                Absence.user_id.in_(list(worker_ids)), Absence.start < end,
                Absence.end > start).order_by(Absence.start)):
            found.setdefault(absence.user_id, []).append(absence)
    return found


def load(worker_ids, family_id, start: datetime, end: datetime, *, zone,
         travel: TravelPolicy, default_working_hours: str,
         exclude_visit_id: int | None = None, reader: User | None = None) -> Calendars:
    """Load the calendars of workers (and a family) around a range of time.

    A day is added on each side so that the appointment before and after the
    range count for travel. Clash messages name the families of the events
    only to a ``reader`` who may see them; to anyone else they are busy time.
    """
    window_start, window_end = start - timedelta(days=1), end + timedelta(days=1)
    workers = []
    worker_ids = list(dict.fromkeys(worker_ids))
    away = absences_between(worker_ids, window_start, window_end)
    for user_id in worker_ids:
        user = db.session.get(User, user_id)
        hours, _default = week_hours(user_id, default_working_hours)
        events = [event for event in worker_events(user_id, window_start, window_end)
                  if not _is(event, exclude_visit_id)]
        workers.append(WorkerCalendar(user_id, user.name if user else str(user_id),
                                      events, away.get(user_id, []), hours))
    family = []
    if family_id is not None:
        family = [event for event in family_events(family_id, window_start, window_end)
                  if not _is(event, exclude_visit_id)]
    first_day, last_day = (to_local(window_start, zone).date(),
                           to_local(window_end, zone).date())
    places = {row.id: (row.name, row.latitude, row.longitude)
              for row in db.session.scalars(sa.select(Municipality))}
    sight = None
    if reader is not None:
        sight = Sight(reader, [*family, *(e for w in workers for e in w.events)])
    return Calendars(zone=zone, travel=travel, workers=workers, family_id=family_id,
                     family_events=family,
                     days_off=days_off_between(first_day, last_day), places=places,
                     sight=sight)


def _is(event: Event, visit_id: int | None) -> bool:
    return visit_id is not None and event.kind == HOME_VISIT and event.id == visit_id


def describe(event: Event, zone) -> str:
    """A short, staff-facing name of an event (as shown) for clash messages."""
    when = to_local(event.start, zone).strftime("%H:%M")
    if event.kind == BUSY:
        return _("other work at %(time)s", time=when)
    if event.kind == HOME_VISIT:
        return _("the visit to %(reference)s at %(time)s",
                 reference=event.family_reference, time=when)
    return _("the group %(name)s at %(time)s", name=event.group_name, time=when)


def clashes(calendars: Calendars, start: datetime, end: datetime,
            municipality_id: int | None) -> list[Clash]:
    """Every reason a visit from ``start`` to ``end`` in a municipality would not fit."""
    zone = calendars.zone
    local_start, local_end = to_local(start, zone), to_local(end, zone)
    found = []
    day_off = calendars.days_off.get(local_start.date())
    if day_off:
        found.append(Clash("day_off", False, _("%(day)s is a day off: %(reason)s.",
                                               day=local_start.strftime("%d.%m.%Y"),
                                               reason=day_off)))
    for worker in calendars.workers:
        found.extend(_worker_clashes(calendars, worker, start, end, local_start, local_end,
                                     municipality_id))
    for event in calendars.family_events:
        if event.active and event.overlaps(start, end):
            shown = calendars.shown(event)
            found.append(Clash("family_busy", True, _(
                "The family already has %(event)s.", event=describe(shown, zone)), shown))
    return found


def _worker_clashes(calendars, worker, start, end, local_start, local_end,
                    municipality_id):
    zone = calendars.zone
    for event in worker.events:
        if event.active and event.overlaps(start, end):
            code = "worker_busy" if event.kind == HOME_VISIT else "worker_in_group"
            shown = calendars.shown(event)
            yield Clash(code, True, _("%(name)s has %(event)s.", name=worker.name,
                                      event=describe(shown, zone)), shown, worker.user_id)
    for absence in worker.absences:
        if absence.start < end and start < absence.end:
            kind = ABSENCE_LABELS.get(absence.kind, absence.kind)
            yield Clash("worker_absent", True, _("%(name)s is away (%(kind)s).",
                                                 name=worker.name, kind=str(kind).lower()),
                        worker_id=worker.user_id)
    hours = worker.hours.get(local_start.isoweekday())
    inside = (hours is not None and local_start.date() == local_end.date()
              and hours[0] <= local_start.time() and local_end.time() <= hours[1])
    if not inside:
        yield Clash("outside_working_hours", False, _(
            "Outside %(name)s's working hours.", name=worker.name),
            worker_id=worker.user_id)
    yield from _travel_clashes(calendars, worker, start, end, municipality_id)


def _travel_clashes(calendars, worker, start, end, municipality_id):
    """Too little time to travel from the appointment before or to the one after."""
    if municipality_id is None:
        return
    active = [event for event in worker.events if event.active]
    before = max((event for event in active if event.end <= start),
                 key=lambda event: event.end, default=None)
    after = min((event for event in active if event.start >= end),
                key=lambda event: event.start, default=None)
    for other, gap in ((before, start - before.end if before else None),
                       (after, after.start - end if after else None)):
        if other is None:
            continue
        needed = travel_minutes(calendars, other.municipality_id, municipality_id)
        if needed and gap < timedelta(minutes=needed):
            shown = calendars.shown(other)
            if shown.kind == BUSY:
                # Neither where the other work is nor how far away it is.
                yield Clash("travel_buffer", False, _(
                    "%(name)s may not have time to travel to or from %(event)s.",
                    name=worker.name, event=describe(shown, calendars.zone)),
                    shown, worker.user_id)
                continue
            yield Clash("travel_buffer", False, _(
                "%(name)s needs about %(needed)d minutes to travel between %(a)s and %(b)s,"
                " but there are only %(gap)d minutes around %(event)s.",
                name=worker.name, needed=needed, a=other.municipality,
                b=calendars.places[municipality_id][0], gap=int(gap.total_seconds() // 60),
                event=describe(shown, calendars.zone)), shown, worker.user_id)


def travel_around(calendars: Calendars, start: datetime, end: datetime,
                  municipality_id: int | None) -> int:
    """Travel minutes from the appointments before and after, summed over workers."""
    total = 0
    for worker in calendars.workers:
        active = [event for event in worker.events if event.active]
        day = to_local(start, calendars.zone).date()
        before = max((e for e in active if e.end <= start
                      and to_local(e.end, calendars.zone).date() == day),
                     key=lambda e: e.end, default=None)
        after = min((e for e in active if e.start >= end
                     and to_local(e.start, calendars.zone).date() == day),
                    key=lambda e: e.start, default=None)
        for other in (before, after):
            if other is not None:
                total += travel_minutes(calendars, other.municipality_id, municipality_id)
    return total
