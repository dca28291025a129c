"""The rules of home visits: booking, moving, cancelling and series (free slots are
in ``calendars.slots``, feed subscriptions in ``calendars.feeds.tokens``)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from accounts.models import User
from calendars import conflicts
from calendars.conflicts import Clash, TravelPolicy
from calendars.models import VISIT_KINDS, VISIT_STATUSES, HomeVisit, VisitSeries
from calendars.signals import visits_changed
from core import audit
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.locks import lock_calendars
from core.places import municipality_named
from core.recurrence import SeriesRule, materialise
from core.roles import ADMIN, COORDINATOR, FAMILY_WORKER
from extensions import db
from families.models import Family
from families.services import can_see as can_see_family
from families.services import ensure_bookable, may_see_address, visible_families_query
from groups.series import days_off_between

MAX_VISIT_MINUTES = 8 * 60
MAX_WORKERS = 2


@dataclass(frozen=True)
class CalendarSettings:
    """The settings the calendar rules need, read at the edge from the config."""

    travel: TravelPolicy
    default_working_hours: str
    step_minutes: int

    @classmethod
    def from_config(cls, config) -> "CalendarSettings":
        return cls(TravelPolicy(config["TRAVEL_MINUTES_PER_KM"],
                                config["TRAVEL_MINIMUM_MINUTES"]),
                   config["DEFAULT_WORKING_HOURS"], config["FREE_SLOT_STEP_MINUTES"])


# --- who may do what -------------------------------------------------------

def can_see_visit(user: User, visit: HomeVisit) -> bool:
    """Those who see the family (a visit shows its family, so it is answered as the
    family's page is), and the visit's own workers, who must know where to go;
    calendars.sight shows events by the same rule."""
    return can_see_family(user, visit.family) or any(
        worker.id == user.id for worker in visit.workers)


def may_book(user: User) -> bool:
    """Whether the user's role books visits at all (for some family)."""
    return user.role in (ADMIN, COORDINATOR, FAMILY_WORKER)


def can_book_for(user: User, family: Family) -> bool:
    """Coordinators and admins for the families they see; workers for their own."""
    if not can_see_family(user, family):
        return False
    if user.role in (ADMIN, COORDINATOR):
        return True
    return user.role == FAMILY_WORKER and user in family.family_workers


def can_see_calendar(user: User, worker: User) -> bool:
    """One's own calendar; coordinators those of workers in their municipalities."""
    if user.id == worker.id or user.role == ADMIN:
        return True
    return user.role == COORDINATOR and bool(
        set(user.municipalities) & set(worker.municipalities))


def get_visit(actor: User, visit_id: int, *, clock) -> HomeVisit:
    """A visit the actor may see (its read is audited), or not found."""
    visit = db.session.get(HomeVisit, visit_id)
    if visit is None or not can_see_visit(actor, visit):
        raise NotFound(_("No such visit."))
    audit.record(actor, "visit.read", "family", visit.family_id, at=clock.now(),
                 detail={"visit_id": visit.id})
    return visit


def get_worker(actor: User, user_id: int) -> User:
    """A family worker whose calendar the actor may see, or not found."""
    worker = db.session.get(User, user_id)
    if worker is None or not can_see_calendar(actor, worker):
        raise NotFound(_("No such worker."))
    return worker


# --- checks ----------------------------------------------------------------

def _workers(worker_ids) -> list[User]:
    ids = list(dict.fromkeys(worker_ids))
    message = _("A visit has one or two workers, who are active family workers.")
    if not 1 <= len(ids) <= MAX_WORKERS:
        raise ValidationFailed(message, fields={"worker_ids": message})
    workers = [db.session.get(User, user_id) for user_id in ids]
    if any(w is None or not w.active or w.role != FAMILY_WORKER for w in workers):
        raise ValidationFailed(message, fields={"worker_ids": message})
    return workers


def _check_times(start: datetime, end: datetime) -> None:
    if end <= start:
        message = _("The end must be after the start.")
        raise ValidationFailed(message, fields={"end": message})
    if end - start > timedelta(minutes=MAX_VISIT_MINUTES):
        message = _("A visit lasts at most %(n)d hours.", n=MAX_VISIT_MINUTES // 60)
        raise ValidationFailed(message, fields={"end": message})


def _check_kind(kind: str) -> None:
    if kind not in VISIT_KINDS:
        message = _("Unknown kind of visit.")
        raise ValidationFailed(message, fields={"kind": message})


def find_clashes(worker_ids, family_id, start: datetime, end: datetime,
                 municipality_id: int | None, *, zone, settings: CalendarSettings,
                 exclude_visit_id=None, reader: User | None = None) -> list[Clash]:
    """What a visit at this time would clash with (booking and moving use this).

    The messages name an event's family only to a ``reader`` who may see it.
    """
    calendars = conflicts.load(worker_ids, family_id, start, end, zone=zone,
                               travel=settings.travel,
                               default_working_hours=settings.default_working_hours,
                               exclude_visit_id=exclude_visit_id, reader=reader)
    return conflicts.clashes(calendars, start, end, municipality_id)


def _refuse_or_warn(clashes: list[Clash], confirm: bool) -> None:
    """Hard clashes refuse; soft ones need the caller's confirmation."""
    hard = [clash for clash in clashes if clash.hard]
    if hard:
        raise Conflict(_("The time clashes: %(reasons)s",
                         reasons=" ".join(clash.message for clash in hard)),
                       code="visit_conflict", fields={"start": hard[0].message},
                       details=[clash.as_dict() for clash in clashes])
    if clashes and not confirm:
        raise Conflict(_("Please confirm: %(reasons)s",
                         reasons=" ".join(clash.message for clash in clashes)),
                       code="confirmation_required",
                       details=[clash.as_dict() for clash in clashes])


# --- the place of a visit ----------------------------------------------------

def visit_place(reader: User | None, visit: HomeVisit) -> str | None:
    """Where the visit is, for a reader; None where it is not disclosed.

    A visit's place is copied from the family's address when none is given, so
    for a family whose address is under non-disclosure every place of its
    visits is treated as the address: shown only to those who may see it
    (``families.services.may_see_address``), and never to a channel
    (``reader`` None: feeds, messages, reports).
    """
    if visit.family.address_non_disclosure and not may_see_address(reader, visit.family):
        return None
    return visit.place


# --- booking ---------------------------------------------------------------

def _ensure_bookable(family: Family, kind: str, *, occurrences=1,
                     exclude_visit_id=None) -> None:
    """The booking rule (``families.services.booking_refusal``) with the family's
    planning meetings on the calendar counted; called with the family's calendar
    locked, so two bookings at once cannot both take the one planning meeting."""
    booked = 0
    if kind == "planning_meeting":
        query = sa.select(sa.func.count(HomeVisit.id)).where(
            HomeVisit.family_id == family.id, HomeVisit.kind == "planning_meeting",
            HomeVisit.status == "scheduled")
        if exclude_visit_id is not None:
            query = query.where(HomeVisit.id != exclude_visit_id)
        booked = db.session.scalar(query)
    ensure_bookable(family, kind, planning_meetings_booked=booked,
                    occurrences=occurrences)


def on_calendar_after(visit: HomeVisit, *, kind: str, status: str) -> bool:
    """Whether a change keeps a visit booked or brings it back onto the calendar,
    so that the booking rule applies to it: a scheduled visit changed in any
    way, a cancelled one restored (to any outcome), or a kind changed. Marking
    a booked visit done, missed or cancelled records what happened instead."""
    if status == "cancelled":
        return False
    return status == "scheduled" or visit.status == "cancelled" or kind != visit.kind


def book_visit(actor: User, family: Family, *, kind, start: datetime, end: datetime,
               worker_ids, place=None, municipality=None, notes="", confirm=False,
               zone, settings: CalendarSettings, clock) -> HomeVisit:
    """Book one visit after checking the plan rule and the calendars."""
    if not can_book_for(actor, family):
        raise Forbidden(_("You may not book visits for this family."))
    _check_kind(kind)
    ensure_bookable(family, kind)
    _check_times(start, end)
    workers = _workers(worker_ids)
    place_municipality = municipality_named(municipality) if municipality \
        else family.municipality
    lock_calendars([w.id for w in workers], family.id)
    _ensure_bookable(family, kind)
    _refuse_or_warn(find_clashes([w.id for w in workers], family.id, start, end,
                                 place_municipality.id, zone=zone, settings=settings,
                                 reader=actor),
                    confirm)
    visit = _new_visit(actor, family, kind, start, end, workers, place,
                       place_municipality, notes, clock.now())
    db.session.flush()
    audit.record(actor, "visit.create", "family", family.id, at=clock.now(),
                 detail={"visit_id": visit.id})
    visits_changed.send("calendars", visit_ids=[visit.id], now=clock.now())
    return visit


def _new_visit(actor, family, kind, start, end, workers, place, municipality, notes, now,
               series=None, series_date=None) -> HomeVisit:
    visit = HomeVisit(
        family=family, kind=kind, start=start, end=end, workers=workers,
        place=(place or family.address or "").strip(), municipality=municipality,
        notes=(notes or "").strip(), created_by_id=actor.id, created_at=now,
        updated_at=now, series=series, series_date=series_date,
        invited_social_worker=(family.responsible_social_worker
                               if kind == "planning_meeting" else None))
    db.session.add(visit)
    if kind == "planning_meeting" and family.status == "referred":
        family.status = "planning"
    return visit


def book_series(actor: User, family: Family, *, kind, rule: SeriesRule, worker_ids,
                place=None, removed=(), confirm=False, zone, settings: CalendarSettings,
                clock) -> tuple[list[HomeVisit], list]:
    """Book regular visits in local time; holidays and blackouts are skipped.

    Every date is checked as a single booking would be; a hard clash on any
    date refuses the whole series and names the dates, which can be removed.
    """
    if not can_book_for(actor, family):
        raise Forbidden(_("You may not book visits for this family."))
    _check_kind(kind)
    ensure_bookable(family, kind)
    workers = _workers(worker_ids)
    horizon = rule.until or rule.first_date + timedelta(weeks=2 * (rule.count or 1) + 60)
    calendar = days_off_between(rule.first_date, horizon)
    removed = set(removed)
    schedule = materialise(rule, zone, lambda day: _("removed by hand") if day in removed
                           else calendar.get(day))
    now = clock.now()
    occurrences = [o for o in schedule.occurrences if o.start >= now]
    if not occurrences:
        message = _("The series has no dates ahead.")
        raise ValidationFailed(message, fields={"first_date": message})
    lock_calendars([w.id for w in workers], family.id)
    _ensure_bookable(family, kind, occurrences=len(occurrences))
    calendars = conflicts.load([w.id for w in workers], family.id, occurrences[0].start,
                               occurrences[-1].end, zone=zone, travel=settings.travel,
                               default_working_hours=settings.default_working_hours,
                               reader=actor)
    hard, soft = [], []
    for occurrence in occurrences:
        for clash in conflicts.clashes(calendars, occurrence.start, occurrence.end,
                                       family.municipality_id):
            entry = {"date": occurrence.day.isoformat(), **clash.as_dict()}
            (hard if clash.hard else soft).append(entry)
    if hard:
        days = sorted({entry["date"] for entry in hard})
        raise Conflict(_("The series clashes on %(days)s. Remove those dates or choose"
                         " another time.", days=", ".join(days)),
                       code="visit_conflict", details=hard + soft)
    if soft and not confirm:
        raise Conflict(_("Please confirm: %(reasons)s", reasons=" ".join(
            f"{entry['date']}: {entry['message']}" for entry in soft)),
            code="confirmation_required", details=soft)
    series = VisitSeries(family_id=family.id, kind=kind, weekday=rule.weekday,
                         start_time=rule.start_time, duration_minutes=rule.duration_minutes,
                         first_date=rule.first_date, count=rule.count, until=rule.until,
                         interval_weeks=rule.interval_weeks, created_at=now)
    db.session.add(series)
    visits = [_new_visit(actor, family, kind, o.start, o.end, workers, place,
                         family.municipality, "", now, series, o.day)
              for o in occurrences]
    db.session.flush()
    audit.record(actor, "visit.create", "family", family.id, at=now,
                 detail={"series_id": series.id, "visits": len(visits)})
    visits_changed.send("calendars", visit_ids=[visit.id for visit in visits], now=now)
    return visits, schedule.skipped


def update_visit(actor: User, visit: HomeVisit, changes: dict, *, confirm=False, zone,
                 settings: CalendarSettings, clock) -> HomeVisit:
    """Move a visit, change its workers, place, kind, status or notes.

    A change a calendar must see raises the visit's ``sequence``; notes and
    marking a visit done do not.
    """
    if not can_book_for(actor, visit.family) and actor not in visit.workers:
        raise Forbidden(_("You may not change this visit."))
    now = clock.now()
    start = changes.get("start", visit.start)
    end = changes.get("end")
    if end is None:
        end = start + (visit.end - visit.start) if "start" in changes else visit.end
    _check_times(start, end)
    kind = changes.get("kind", visit.kind)
    _check_kind(kind)
    workers = _workers(changes["worker_ids"]) if "worker_ids" in changes else visit.workers
    municipality = (municipality_named(changes["municipality"]) if changes.get("municipality")
                    else visit.municipality)
    status = changes.get("status", visit.status)
    if status not in VISIT_STATUSES:
        raise ValidationFailed(_("Unknown status."), fields={"status": _("Unknown status.")})
    if status in ("done", "no_show") and status != visit.status and start > now:
        message = _("A visit is marked done or missed once its time has come.")
        raise ValidationFailed(message, code="visit_not_started", fields={"status": message})
    if status == "cancelled" and visit.status in ("done", "no_show"):
        # Its outcome is part of the family's record and of the reports.
        message = _("A visit held or missed is not cancelled; correct its outcome instead.")
        raise ValidationFailed(message, code="visit_held", fields={"status": message})
    moved = (start, end) != (visit.start, visit.end)
    rebooked = (moved or "worker_ids" in changes or municipality != visit.municipality
                or (status == "scheduled" and visit.status == "cancelled"))
    if on_calendar_after(visit, kind=kind, status=status):
        lock_calendars([w.id for w in workers], visit.family_id)
        _ensure_bookable(visit.family, kind, exclude_visit_id=visit.id)
    if rebooked and status == "scheduled":
        lock_calendars([w.id for w in workers], visit.family_id)
        _refuse_or_warn(find_clashes([w.id for w in workers], visit.family_id, start, end,
                                     municipality.id, zone=zone, settings=settings,
                                     exclude_visit_id=visit.id, reader=actor), confirm)
    seen_by_calendars = (rebooked or kind != visit.kind or status != visit.status
                         and "cancelled" in (status, visit.status)
                         or changes.get("place", visit.place) != visit.place)
    visit.start, visit.end, visit.kind, visit.workers = start, end, kind, workers
    visit.municipality, visit.status = municipality, status
    if "place" in changes:
        visit.place = (changes["place"] or visit.family.address or "").strip()
    if "status_reason" in changes:
        visit.status_reason = (changes["status_reason"] or "").strip()
    if "notes" in changes:
        visit.notes = (changes["notes"] or "").strip()
    if moved:
        visit.changed_by_hand = True
    if seen_by_calendars:
        visit.sequence += 1
    visit.updated_at = now
    db.session.flush()
    audit.record(actor, "visit.update", "family", visit.family_id, at=now,
                 detail={"visit_id": visit.id, "fields": sorted(changes)})
    visits_changed.send("calendars", visit_ids=[visit.id], now=now)
    return visit


def delete_visit(actor: User, visit: HomeVisit, *, clock) -> None:
    """Remove a visit booked by mistake (a cancelled one is kept as cancelled)."""
    if not can_book_for(actor, visit.family):
        raise Forbidden(_("You may not change this visit."))
    audit.record(actor, "visit.delete", "family", visit.family_id, at=clock.now(),
                 detail={"visit_id": visit.id})
    visit_id = visit.id
    db.session.delete(visit)
    db.session.flush()
    visits_changed.send("calendars", visit_ids=[visit_id], now=clock.now())


def visits_query(actor: User, *, start: datetime, end: datetime, worker_id=None,
                 family_id=None) -> sa.Select:
    """Visits in a range that the actor may see (can_see_visit): those of the
    families they see, and those they work at."""
    visible = visible_families_query(actor).with_only_columns(Family.id)
    query = sa.select(HomeVisit).where(HomeVisit.start < end, HomeVisit.end > start)
    query = query.where(sa.or_(HomeVisit.family_id.in_(visible),
                               HomeVisit.workers.any(User.id == actor.id)))
    if worker_id:
        query = query.where(HomeVisit.workers.any(User.id == worker_id))
    if family_id:
        query = query.where(HomeVisit.family_id == family_id)
    return query.order_by(HomeVisit.start)
