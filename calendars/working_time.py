"""A family worker's working time: the hours of each weekday and the absences
(leave, training), which the clash check reads (`calendars.conflicts`).

A worker without hours of their own works the unit's default
(DEFAULT_WORKING_HOURS). An absence over visits or group sessions already
booked is recorded only when confirmed, and says which ones, so that they can
be moved: the absence itself moves nothing.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from accounts.models import User
from calendars.conflicts import week_hours
from calendars.events import Event, worker_events
from calendars.models import ABSENCE_KINDS, REASON_MAX, Absence, WorkingHours
from calendars.services import can_see_calendar
from calendars.sight import BUSY, Sight
from core.errors import Conflict, NotFound, ValidationFailed
from core.localtime import iso_local
from core.locks import lock_calendars
from core.roles import FAMILY_WORKER
from extensions import db

WEEKDAYS = range(1, 8)  # ISO weekdays, Monday first
MAX_ABSENCE_DAYS = 366


@dataclass(frozen=True)
class WeekHours:
    """When a worker works, weekday by weekday (a weekday missing is not worked),
    and whether these are the unit's default hours."""

    days: dict[int, tuple[time, time]]
    default: bool


def may_manage(actor: User, worker: User) -> bool:
    """A family worker's own working time; that of the workers a coordinator plans
    for (a shared municipality); any for an admin."""
    return worker.role == FAMILY_WORKER and can_see_calendar(actor, worker)


def get_worker(actor: User, worker_id: int) -> User:
    """A family worker whose working time the actor manages, or not found."""
    worker = db.session.get(User, worker_id)
    if worker is None or not may_manage(actor, worker):
        raise NotFound(_("No such worker."))
    return worker


def hours_of(worker: User, default_setting: str) -> WeekHours:
    return WeekHours(*week_hours(worker.id, default_setting))


def set_hours(actor: User, worker: User, days: dict[int, tuple[time, time]]) -> None:
    """Replace the worker's hours; every weekday given must end after it starts."""
    if not may_manage(actor, worker):
        raise NotFound(_("No such worker."))
    errors = {}
    for weekday, (start, end) in days.items():
        if weekday not in WEEKDAYS:
            errors[f"weekday_{weekday}"] = _("A weekday is 1 to 7, from Monday.")
        elif end <= start:
            errors[f"weekday_{weekday}"] = _("The end must be after the start.")
    if not days:
        errors["days"] = _("Give the hours of at least one weekday.")
    if errors:
        raise ValidationFailed(_("Check the fields."), fields=errors)
    db.session.execute(sa.delete(WorkingHours).where(WorkingHours.user_id == worker.id))
    db.session.add_all(WorkingHours(user_id=worker.id, weekday=weekday, start_time=start,
                                    end_time=end) for weekday, (start, end) in days.items())
    db.session.flush()


def use_default_hours(actor: User, worker: User) -> None:
    """Forget the worker's own hours: the unit's default applies again."""
    if not may_manage(actor, worker):
        raise NotFound(_("No such worker."))
    db.session.execute(sa.delete(WorkingHours).where(WorkingHours.user_id == worker.id))


def absences_of(worker: User, since: datetime) -> list[Absence]:
    """The worker's absences that end after ``since``, the earliest first."""
    return list(db.session.scalars(sa.select(Absence).where(
        Absence.user_id == worker.id, Absence.end > since).order_by(Absence.start)))


def booked_during(worker: User, start: datetime, end: datetime, sight: Sight) -> list[Event]:
    """The scheduled visits and sessions of the worker that an absence would
    cover, as the reader of ``sight`` may see them."""
    return sight.show([event for event in worker_events(worker.id, start, end)
                       if event.status == "scheduled"])


def _check_absence(kind: str, start: datetime, end: datetime, note: str) -> None:
    errors = {}
    if kind not in ABSENCE_KINDS:
        errors["kind"] = _("Unknown code.")
    if end <= start:
        errors["end"] = _("The end must be after the start.")
    elif end - start > timedelta(days=MAX_ABSENCE_DAYS):
        errors["end"] = _("An absence lasts at most %(n)d days.", n=MAX_ABSENCE_DAYS)
    if len(note) > REASON_MAX:
        errors["note"] = _("At most %(n)d characters.", n=REASON_MAX)
    if errors:
        raise ValidationFailed(_("Check the fields."), fields=errors)


def add_absence(actor: User, worker: User, *, kind: str, start: datetime, end: datetime,
                note: str = "", confirm: bool = False) -> tuple[Absence, list[Event]]:
    """Record an absence; with visits or sessions booked in it, only when confirmed.

    Returns the absence and what it covers, which the caller shows so that it
    can be moved.
    """
    if not may_manage(actor, worker):
        raise NotFound(_("No such worker."))
    _check_absence(kind, start, end, note)
    # A booking in the absence, committed while this one is read, would be missed;
    # one after it waits for the absence and is refused.
    lock_calendars([worker.id])
    booked = booked_during(worker, start, end, Sight(actor))
    if booked and not confirm:
        raise Conflict(
            ngettext("Please confirm: %(num)d booked visit or group session falls in the "
                     "absence; it stays booked until it is moved.",
                     "Please confirm: %(num)d booked visits or group sessions fall in the "
                     "absence; they stay booked until they are moved.", len(booked)),
            code="confirmation_required", details=[event_detail(event) for event in booked])
    absence = Absence(user_id=worker.id, kind=kind, start=start, end=end, note=note)
    db.session.add(absence)
    db.session.flush()
    return absence, booked


def event_detail(event: Event) -> dict:
    """A booked event in a refusal's details: which one, and when (local time, as
    the API writes every instant)."""
    return {"kind": event.kind, "id": None if event.kind == BUSY else event.id,
            "start": iso_local(event.start),
            "end": iso_local(event.end)}


def get_absence(actor: User, absence_id: int) -> Absence:
    absence = db.session.get(Absence, absence_id)
    if absence is None or not may_manage(actor, absence.user):
        raise NotFound(_("No such absence."))
    return absence


def delete_absence(actor: User, absence: Absence) -> None:
    if not may_manage(actor, absence.user):
        raise NotFound(_("No such absence."))
    db.session.delete(absence)
    db.session.flush()
