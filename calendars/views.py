"""Pages of calendars and home visits: a worker's week and month, the
coordinators' day of all workers side by side, booking with its clashes and
suggested times, and a visit's own page with its changes.

Each view loads (404), checks access (403), acts through calendars.services
and responds. A refusal on a form is shown on that form (422) after a
rollback; a clash says what it clashes with, and warnings offer to go ahead
anyway.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from accounts.models import User
from accounts.services import staff
from calendars import conflicts, services, working_time
from calendars.events import Event, worker_events
from calendars.forms import (
    DEFAULT_DURATION_MINUTES,
    MAX_REPEATS,
    REPEAT_LABELS,
    VISIT_KIND_LABELS,
    ConfirmForm,
    VisitForm,
)
from calendars.models import HomeVisit
from calendars.sight import Sight
from calendars.slots import Slot, free_slots
from core.clock import get_clock
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.forms import attempt, form_page
from core.http import datetime_filter
from core.input_checks import MAX_ID, read_date, read_whole_number
from core.localtime import local_datetime, local_today, to_local, unit_zone
from core.roles import ADMIN, COORDINATOR, FAMILY_WORKER, login_required, roles_required
from core.unit_of_work import discard, keep_regardless
from core.vocabulary import ONGOING_FAMILY_STATUSES, choices
from extensions import db
from families.models import Family
from families.services import record_listing, shown_address, visible_families_query
from families.views import load_family
from groups.forms import WEEKDAYS
from groups.series import series_rule

bp = Blueprint("calendars", __name__, url_prefix="/calendars")

MIDNIGHT = time(0)
# Suggested times: the next two weeks, the best few, a couple a day at most.
SLOT_DAYS = 14
SLOTS_SHOWN = 8
SLOTS_PER_DAY = 2
# Families whose work goes on: visits can be booked for them.
BOOKABLE_FAMILY_STATUSES = ONGOING_FAMILY_STATUSES
# Short titles shown in a day of the month view before "n more".
MONTH_EVENTS_SHOWN = 3


# --- helpers ---------------------------------------------------------------

def calendar_settings() -> services.CalendarSettings:
    """The calendar rules' settings of this app (working hours, travel, buffers)."""
    return services.CalendarSettings.from_config(current_app.config)


def _today() -> date:
    return local_today(get_clock().now(), unit_zone())


def _id_arg(name) -> int | None:
    """An id from the query string; anything but a plausible id is not found."""
    raw = request.args.get(name, "")
    if raw == "":
        return None
    number = read_whole_number(raw)
    if number is None:
        raise NotFound(_("The page or record was not found."))
    return number


def _parse_day(raw) -> date | None:
    """An ISO date in the years the app takes, or None."""
    return read_date(raw)


def _date_arg(default: date) -> date:
    """The ``date`` of a calendar's address, the default when it is not given."""
    raw = request.args.get("date", "")
    if raw == "":
        return default
    day = _parse_day(raw)
    if day is None:
        message = _("Expected a date such as 2026-12-01.")
        raise ValidationFailed(_("Check the date in the address."), fields={"date": message})
    return day


def _worker_arg() -> User:
    """The worker whose calendar is asked for: the signed-in user by default."""
    worker_id = _id_arg("worker")
    return services.get_worker(current_user, current_user.id if worker_id is None
                               else worker_id)


def load_visit(visit_id) -> HomeVisit:
    """A visit the user may see, its read written to the audit log; else 404."""
    if visit_id > MAX_ID:  # beyond the database's integers: SQLite would overflow
        raise NotFound(_("No such visit."))
    return services.get_visit(current_user, visit_id, clock=get_clock())


# --- clashes on forms ------------------------------------------------------

@dataclass(frozen=True)
class ClashNote:
    """One clash of a refused booking or move, as the form lists it."""

    message: str
    hard: bool
    day: date | None = None


@dataclass
class Refusal:
    """The clashes of a refused booking or move; empty when there were none."""

    code: str = ""
    message: str = ""
    clashes: list[ClashNote] = field(default_factory=list)

    @property
    def needs_confirmation(self) -> bool:
        """Only warnings: the same request with confirm books it."""
        return self.code == "confirmation_required"

    def tidy(self, form) -> None:
        """The list of clashes replaces the service's one-sentence summary."""
        if self.clashes:
            form.form_errors[:] = [error for error in form.form_errors
                                   if error != self.message]


def checked(refusal: Refusal, action, *args, **kwargs):
    """Run a booking or a move, keeping what a refusal clashed with for the form.

    The visit's own page (casework) moves visits through it too, so that both
    pages list a refusal's clashes alike.
    """
    try:
        return action(*args, **kwargs)
    except Conflict as error:
        refusal.code, refusal.message = error.code, str(error.message)
        refusal.clashes = [ClashNote(str(detail.get("message", "")),
                                     bool(detail.get("hard")),
                                     _parse_day(detail.get("date")))
                           for detail in error.details]
        raise


# --- calendars -------------------------------------------------------------

@dataclass
class DayAbsence:
    """An absence as one day shows it: its kind, and its hours unless it takes the
    whole day."""

    kind: str
    start: datetime | None = None
    end: datetime | None = None


@dataclass
class CalendarDay:
    """One day of a calendar with its events, and the worker's absences that day."""

    day: date
    events: list[Event]
    today: bool
    absences: list[DayAbsence] = field(default_factory=list)


def _absences_by_day(absences, first: date, last: date) -> dict[date, list[DayAbsence]]:
    """Each absence on every day from ``first`` to ``last`` that it touches."""
    zone = unit_zone()
    by_day: dict[date, list[DayAbsence]] = defaultdict(list)
    for absence in absences:
        day = max(first, to_local(absence.start, zone).date())
        while day <= last:
            opens = local_datetime(day, MIDNIGHT, zone)
            closes = local_datetime(day + timedelta(days=1), MIDNIGHT, zone)
            if absence.start >= closes or absence.end <= opens:
                break
            whole = absence.start <= opens and absence.end >= closes
            by_day[day].append(DayAbsence(absence.kind) if whole else DayAbsence(
                absence.kind, max(absence.start, opens), min(absence.end, closes)))
            day += timedelta(days=1)
    return by_day


def _calendar_days(worker_id: int, first: date, last: date, today: date) -> list[CalendarDay]:
    """The worker's events from ``first`` to ``last`` (inclusive), day by day,
    as the user may see them (the families shown written to the audit log).

    Cancelled events come along: the pages show them struck through, so that
    a worker sees what was called off.
    """
    zone = unit_zone()
    start, end = (local_datetime(first, MIDNIGHT, zone),
                  local_datetime(last + timedelta(days=1), MIDNIGHT, zone))
    sight = Sight(current_user)
    events = sight.show(worker_events(worker_id, start, end, include_cancelled=True))
    record_listing(current_user, sight.families_shown, clock=get_clock())
    by_day: dict[date, list[Event]] = defaultdict(list)
    for event in events:
        # An event that began the evening before is shown on the first day.
        by_day[max(first, to_local(event.start, zone).date())].append(event)
    away = _absences_by_day(conflicts.absences_between([worker_id], start, end).get(
        worker_id, []), first, last)
    count = (last - first).days + 1
    days = [first + timedelta(days=offset) for offset in range(count)]
    return [CalendarDay(day, by_day.get(day, []), day == today, away.get(day, []))
            for day in days]


def _calendar_page(template, view):
    """A worker's week or month: ``view(worker, day, today)`` gives what the
    template shows of the chosen day's period, beside what both show."""
    worker = _worker_arg()
    today = _today()
    day = _date_arg(today)
    return render_template(
        template, worker=worker, own=worker.id == current_user.id, today=today,
        chosen=day, may_book=services.may_book(current_user), **view(worker, day, today))


@bp.get("/week")
@login_required
def week():
    """A worker's week, Monday to Sunday, day by day."""
    return _calendar_page("calendars/week.html", _week)


def _week(worker: User, day: date, today: date) -> dict:
    monday = day - timedelta(days=day.weekday())
    sunday = monday + timedelta(days=6)
    return dict(
        days=_calendar_days(worker.id, monday, sunday, today), monday=monday,
        sunday=sunday, week_number=monday.isocalendar().week,
        previous=monday - timedelta(days=7), following=monday + timedelta(days=7),
        may_manage_time=working_time.may_manage(current_user, worker))


@bp.get("/month")
@login_required
def month():
    """A worker's month as a grid of weeks, each day linking to its week."""
    return _calendar_page("calendars/month.html", _month)


def _month(worker: User, day: date, today: date) -> dict:
    first = day.replace(day=1)
    following = (first + timedelta(days=31)).replace(day=1)
    last = following - timedelta(days=1)
    grid_first = first - timedelta(days=first.weekday())
    grid_last = last + timedelta(days=6 - last.weekday())
    days = _calendar_days(worker.id, grid_first, grid_last, today)
    weekdays = [(format_date(grid_first + timedelta(days=n), "EEE"), WEEKDAYS[n + 1])
                for n in range(7)]
    return dict(
        weeks=[days[n:n + 7] for n in range(0, len(days), 7)], first=first,
        month_title=format_date(first, "LLLL yyyy"), weekdays=weekdays,
        previous=(first - timedelta(days=1)).replace(day=1), following=following,
        shown=MONTH_EVENTS_SHOWN)


@dataclass
class WorkerDay:
    """One family worker's events of a day, a column of the day view."""

    worker: User
    events: list[Event]
    absences: list[DayAbsence] = field(default_factory=list)


def _workers_of_coordinator() -> list[User]:
    """Family workers who share a municipality with the user; an admin's are all."""
    workers = staff(FAMILY_WORKER)
    if current_user.role == ADMIN:
        return workers
    mine = set(current_user.municipalities)
    return [worker for worker in workers if mine & set(worker.municipalities)]


@bp.get("/day", endpoint="day")
@roles_required(ADMIN, COORDINATOR)
def coordinators_day():
    """All family workers of the coordinator's municipalities side by side for a day."""
    zone, today = unit_zone(), _today()
    day = _date_arg(today)
    start = local_datetime(day, MIDNIGHT, zone)
    end = local_datetime(day + timedelta(days=1), MIDNIGHT, zone)
    workers = _workers_of_coordinator()
    away = conflicts.absences_between([worker.id for worker in workers], start, end)
    sight = Sight(current_user)
    columns = [WorkerDay(worker, sight.show(worker_events(worker.id, start, end,
                                                         include_cancelled=True)),
                         _absences_by_day(away.get(worker.id, []), day, day).get(day, []))
               for worker in workers]
    record_listing(current_user, sight.families_shown, clock=get_clock())
    return render_template(
        "calendars/day.html", day=day, columns=columns, today=today,
        previous=day - timedelta(days=1), following=day + timedelta(days=1))


# --- booking ---------------------------------------------------------------

def _bookable_families(given: Family | None) -> list[Family]:
    """Families whose work goes on and for whom the user may book visits."""
    if not services.may_book(current_user):
        return [given] if given else []
    query = (visible_families_query(current_user)
             .where(Family.status.in_(BOOKABLE_FAMILY_STATUSES))
             .order_by(Family.surname, Family.reference))
    families = [family for family in db.session.scalars(query)
                if services.can_book_for(current_user, family)]
    if given is not None and given not in families:
        families.insert(0, given)
    return families


def _worker_choices(family: Family | None) -> list[User]:
    """Family workers to choose from: colleagues of the user's municipalities (an
    admin's are all) and the family's own workers."""
    workers = _workers_of_coordinator()
    if current_user.role == FAMILY_WORKER and current_user not in workers:
        workers.insert(0, current_user)
    if family is not None:
        workers += [worker for worker in family.family_workers
                    if worker not in workers and worker.active]
    return sorted(workers, key=lambda worker: worker.name)


def _time_arg(raw) -> time | None:
    try:
        return datetime.strptime(raw or "", "%H:%M").time()
    except ValueError:
        return None


def _small_int_arg(name, low, high) -> int | None:
    return read_whole_number(request.args.get(name, ""), low, high)


def _booking_data(family: Family | None) -> dict:
    """The form's first values: from the address (a suggested time's link) or
    sensible defaults. Values that do not parse are left out, not refused."""
    args = request.args
    kind = args.get("kind")
    if kind not in VISIT_KIND_LABELS:
        kind = "planning_meeting" if family is not None and family.plan is None \
            else "home_visit"
    worker_ids = [number for number in (read_whole_number(raw)
                                        for raw in args.getlist("worker"))
                  if number is not None]
    if not worker_ids and family is not None:
        worker_ids = [worker.id for worker in family.family_workers][:services.MAX_WORKERS]
    if not worker_ids and current_user.role == FAMILY_WORKER:
        worker_ids = [current_user.id]
    return {
        "family_id": family.id if family else None,
        "kind": kind,
        "day": _parse_day(args.get("date")),
        "start": _time_arg(args.get("start")),
        "duration_minutes": _small_int_arg("duration", 1, services.MAX_VISIT_MINUTES)
        or DEFAULT_DURATION_MINUTES,
        "worker_ids": worker_ids,
        "place": args.get("place", "")[:200],
        "repeat": _small_int_arg("repeat", 1, 2),
        "count": _small_int_arg("count", 2, MAX_REPEATS),
    }


@dataclass(frozen=True)
class SuggestedTime:
    """A free slot with the link that fills it into the form."""

    start: datetime
    end: datetime
    preferred: bool
    travel_minutes: int
    url: str


def _spread(slots: list[Slot], zone) -> list[Slot]:
    """The best slots that do not overlap, a few a day: alternatives to choose
    from rather than the same morning in steps of a quarter of an hour."""
    chosen: list[Slot] = []
    per_day: dict[date, int] = defaultdict(int)
    for slot in slots:
        day = to_local(slot.start, zone).date()
        if per_day[day] >= SLOTS_PER_DAY or any(
                slot.start < other.end and other.start < slot.end for other in chosen):
            continue
        chosen.append(slot)
        per_day[day] += 1
        if len(chosen) == SLOTS_SHOWN:
            break
    return chosen


def _suggested_times(form: VisitForm, family: Family | None) -> list[SuggestedTime] | None:
    """Free times for the form's workers (and family) over the next two weeks,
    best first; None when the form does not yet say whose times to look for."""
    worker_ids = form.worker_ids.data or []
    if form.worker_ids.errors or not worker_ids or form.duration_minutes.errors:
        return None
    zone, clock = unit_zone(), get_clock()
    today = _today()
    duration = form.duration()
    slots = free_slots(worker_ids, first_day=today,
                       last_day=today + timedelta(days=SLOT_DAYS - 1),
                       duration_minutes=duration, family=family, zone=zone,
                       settings=calendar_settings(), now=clock.now())
    suggested = []
    for slot in _spread(slots, zone):
        local = to_local(slot.start, zone)
        url = url_for(".new_visit", family=family.id if family else None,
                      kind=form.kind.data or None, worker=worker_ids, duration=duration,
                      date=local.date().isoformat(), start=local.strftime("%H:%M"),
                      place=form.place.data or None, repeat=form.repeat.data or None,
                      count=form.count.data or None)
        suggested.append(SuggestedTime(slot.start, slot.end, slot.preferred,
                                       slot.travel_minutes, url))
    return suggested


def _book(form: VisitForm, family: Family, refusal: Refusal):
    """Book the form's visit or series; the first visit booked, or None when refused."""
    zone = unit_zone()
    day = form.day.data
    start = local_datetime(day, form.start.data, zone)
    end = (local_datetime(day, form.end.data, zone) if form.end.data is not None
           else start + timedelta(minutes=form.duration()))
    common = dict(kind=form.kind.data, worker_ids=form.worker_ids.data,
                  place=(form.place.data or "").strip() or None,
                  confirm=bool(form.confirm.data), zone=zone, settings=calendar_settings(),
                  clock=get_clock())
    if not form.repeat.data:
        return attempt(form, checked, refusal, services.book_visit, current_user, family,
                       start=start, end=end, **common)
    if form.count.data is None:
        form.count.errors = [*form.count.errors, _("Give the number of visits.")]
        return None
    rule = attempt(form, series_rule, weekday=day.isoweekday(), start_time=form.start.data,
                   duration_minutes=int((end - start).total_seconds() // 60),
                   first_date=day, count=form.count.data, interval_weeks=form.repeat.data)
    booked = rule and attempt(form, checked, refusal, services.book_series, current_user,
                              family, rule=rule, **common)
    if not booked:
        return None
    visits, skipped = booked
    flash(ngettext("%(num)d visit was booked.", "%(num)d visits were booked.",
                   len(visits)), "success")
    for entry in skipped:
        flash(_("%(date)s was skipped: %(reason)s", date=format_date(entry.day),
                reason=entry.reason), "info")
    return visits[0]


@bp.route("/visits/new", methods=["GET", "POST"])
@login_required
def new_visit():
    """Book a visit or a series: clashes refuse, warnings ask for a confirmation,
    and free times of the chosen workers are suggested."""
    family_id = _id_arg("family")
    family = load_family(family_id) if family_id is not None else None
    if family is not None and not services.can_book_for(current_user, family):
        raise Forbidden(_("You may not book visits for this family."))
    if family is None and not services.may_book(current_user):
        raise Forbidden(_("Your role does not allow booking visits."))
    form = VisitForm(data=_booking_data(family) if request.method == "GET" else None)
    families = _bookable_families(family)
    form.family_id.choices = choices(
        [(item.id, f"{item.surname} {item.reference}") for item in families],
        _("Choose a family"))
    form.worker_ids.choices = choices([(worker.id, worker.name)
                                       for worker in _worker_choices(family)])
    refusal, status = Refusal(), 200
    if form.is_submitted() and form.suggest.data:
        if not form.validate_suggestion():
            status = 422
        if form.family_id.data and not form.family_id.errors:
            family = load_family(form.family_id.data)
    elif form.validate_on_submit():
        family = load_family(form.family_id.data)
        visit = _book(form, family, refusal)
        if visit is not None:
            if not form.repeat.data:
                flash(_("The visit to %(reference)s on %(when)s was booked.",
                      reference=family.reference, when=datetime_filter(visit.start)),
                      "success")
            return redirect(url_for("visits.visit", visit_id=visit.id))
        discard()
        family = load_family(form.family_id.data)
        refusal.tidy(form)
        status = 422
    elif form.is_submitted():
        status = 422
    suggestions = _suggested_times(form, family)
    # The choice of family lists them by surname and reference.
    record_listing(current_user, families, clock=get_clock())
    keep_regardless()  # the page shows them: their reads stay audited on a refusal
    return render_template("calendars/visit_form.html", form=form, family=family,
                           family_address=shown_address(current_user, family)
                           if family else None,
                           refusal=refusal, suggestions=suggestions,
                           repeat_labels=REPEAT_LABELS), status


# --- removing a visit booked by mistake ------------------------------------

@bp.route("/visits/<int:visit_id>/delete", methods=["GET", "POST"])
@login_required
def delete_visit(visit_id):
    """Ask for confirmation (GET), then remove a visit booked by mistake (POST)."""
    visit = load_visit(visit_id)
    if not services.can_book_for(current_user, visit.family):
        raise Forbidden(_("You may not change this visit."))
    form = ConfirmForm()
    if form.validate_on_submit():
        family_id = visit.family_id
        services.delete_visit(current_user, visit, clock=get_clock())
        flash(_("The visit was deleted."), "success")
        return redirect(url_for("casework.detail", family_id=family_id))
    keep_regardless()  # the page shows the record: its read stays audited on a refusal
    return form_page("calendars/visit_delete.html", form, visit=visit)
