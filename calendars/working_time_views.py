"""The working-time page of a family worker: their hours, weekday by weekday, and
their absences, each with the visits and sessions still booked in it.

A worker keeps their own; a coordinator those of the workers in their
municipalities; an admin anyone's. An absence over booked visits or sessions
asks for a confirmation and then lists them on the page until they are moved.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from accounts.models import User
from calendars import working_time
from calendars.conflicts import ABSENCE_LABELS
from calendars.events import Event
from calendars.forms import (
    AbsenceForm,
    DefaultHoursForm,
    DeleteAbsenceForm,
    WorkingHoursForm,
)
from calendars.models import Absence
from calendars.sight import Sight
from core.clock import get_clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.input_checks import read_whole_number
from core.localtime import local_datetime, to_local, unit_zone
from core.roles import login_required
from core.unit_of_work import discard
from families.services import record_listing
from groups.forms import WEEKDAYS

bp = Blueprint("working_time", __name__, url_prefix="/calendars/working-time")

MIDNIGHT = time(0)


@dataclass
class AbsenceRow:
    """An absence as the page lists it, with what is still booked in it."""

    absence: Absence
    booked: list[Event]

    @property
    def last_whole_day(self) -> date | None:
        """The last day of an absence of whole days (midnight to midnight), else None."""
        start, end = to_local(self.absence.start), to_local(self.absence.end)
        if start.time() == end.time() == MIDNIGHT:
            return end.date() - timedelta(days=1)
        return None


def _worker() -> User:
    """The worker of the page (``?worker=``): the signed-in user by default."""
    raw = request.args.get("worker", "")
    worker_id = read_whole_number(raw) if raw else current_user.id
    if worker_id is None:
        raise NotFound(_("No such worker."))
    return working_time.get_worker(current_user, worker_id)


def _page_url(worker: User) -> str:
    if worker.id == current_user.id:
        return url_for(".page")
    return url_for(".page", worker=worker.id)


def _stored_hours_form(hours: working_time.WeekHours) -> WorkingHoursForm:
    """The hours form showing the hours as stored, whatever else was sent."""
    form = WorkingHoursForm(formdata=None)
    for weekday, row in zip(WEEKDAYS, form.days, strict=True):
        row.start.data, row.end.data = hours.days.get(weekday, (None, None))
    return form


def _render(worker: User, *, hours_form=None, absence_form=None, booked=(), status=200):
    """The page; a form not given shows what is stored (or nothing, for a new absence)."""
    now = get_clock().now()
    sight = Sight(current_user)
    rows = [AbsenceRow(absence, working_time.booked_during(worker, absence.start,
                                                           absence.end, sight))
            for absence in working_time.absences_of(worker, now)]
    booked = sight.show(booked)
    record_listing(current_user, sight.families_shown, clock=get_clock())
    hours = working_time.hours_of(worker, current_app.config["DEFAULT_WORKING_HOURS"])
    return render_template(
        "calendars/working_time.html", worker=worker, own=worker.id == current_user.id,
        hours=hours, hours_form=hours_form or _stored_hours_form(hours),
        default_form=DefaultHoursForm(),
        absence_form=absence_form or AbsenceForm(formdata=None),
        delete_form=DeleteAbsenceForm(), absences=rows, booked=booked,
        weekdays=WEEKDAYS, absence_labels=ABSENCE_LABELS,
        page_url=_page_url(worker)), status


@bp.get("")
@login_required
def page():
    return _render(_worker())


@bp.post("/hours")
@login_required
def save_hours():
    worker = _worker()
    form = WorkingHoursForm()
    if form.validate_on_submit():
        days = {weekday: (row.start.data, row.end.data)
                for weekday, row in zip(WEEKDAYS, form.days, strict=True)
                if row.start.data is not None}
        try:
            working_time.set_hours(current_user, worker, days)
        except ValidationFailed as error:
            discard()
            _attach_day_errors(form, error)
        else:
            flash(_("The working hours were saved."), "success")
            return redirect(_page_url(worker))
    return _render(worker, hours_form=form, status=422)


def _attach_day_errors(form: WorkingHoursForm, error: ValidationFailed) -> None:
    """A service's errors by weekday, on that weekday's row; the rest on the form."""
    for name, message in error.fields.items():
        weekday = int(name.removeprefix("weekday_")) if name.startswith("weekday_") else None
        if weekday in WEEKDAYS:
            form.days[weekday - 1].end.errors.append(message)
        else:
            form.form_errors.append(message)


@bp.post("/default-hours")
@login_required
def default_hours():
    worker = _worker()
    if DefaultHoursForm().validate_on_submit():
        working_time.use_default_hours(current_user, worker)
        flash(_("The unit's default working hours apply again."), "success")
    return redirect(_page_url(worker))


def _absence_times(form: AbsenceForm) -> tuple[datetime, datetime]:
    """From the first day's start time (midnight without one) to the last day's end
    time (the end of the day without one), in the unit's time zone."""
    zone = unit_zone()
    start = local_datetime(form.first_day.data, form.start_time.data or MIDNIGHT, zone)
    if form.end_time.data is None:
        end = local_datetime(form.last_day.data + timedelta(days=1), MIDNIGHT, zone)
    else:
        end = local_datetime(form.last_day.data, form.end_time.data, zone)
    return start, end


@bp.post("/absences")
@login_required
def add_absence():
    worker = _worker()
    form = AbsenceForm()
    booked = []
    if form.validate_on_submit():
        start, end = _absence_times(form)
        try:
            _absence, covered = working_time.add_absence(
                current_user, worker, kind=form.kind.data, start=start, end=end,
                note=form.note.data or "", confirm=form.confirm.data)
        except Conflict as error:
            discard()
            booked = working_time.booked_during(worker, start, end, Sight(current_user))
            form.form_errors.append(str(error.message))
        except ValidationFailed as error:
            discard()
            _attach_absence_errors(form, error)
        else:
            if covered:
                flash(ngettext("The absence was recorded. %(num)d visit or session is still "
                               "booked in it: move it.",
                               "The absence was recorded. %(num)d visits or sessions are "
                               "still booked in it: move them.", len(covered)), "warning")
            else:
                flash(_("The absence was recorded."), "success")
            return redirect(_page_url(worker))
    return _render(worker, absence_form=form, booked=booked, status=422)


def _attach_absence_errors(form: AbsenceForm, error: ValidationFailed) -> None:
    fields = {"kind": form.kind, "end": form.last_day, "note": form.note}
    for name, message in error.fields.items():
        if name in fields:
            fields[name].errors = [*fields[name].errors, message]
        else:
            form.form_errors.append(message)


@bp.post("/absences/<int:absence_id>/delete")
@login_required
def delete_absence(absence_id):
    absence = working_time.get_absence(current_user, absence_id)
    worker = absence.user
    if DeleteAbsenceForm().validate_on_submit():
        working_time.delete_absence(current_user, absence)
        flash(_("The absence was removed."), "success")
    return redirect(_page_url(worker))
