"""A home visit's own page and its changes: move, cancel, outcome, notes.

The page shows the visit's reminders beside what calendars hold, so it lives
above both packages; its URLs stay under /calendars beside the worker's
calendar. Each view loads (404), checks access (403), acts through
calendars.services and responds; a refused form comes back with its errors (422).
"""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from calendars import services
from calendars.events import HOME_VISIT
from calendars.forms import CancelForm, DoneForm, MoveForm, NoShowForm, NotesForm
from calendars.models import HomeVisit
from calendars.views import Refusal, calendar_settings, checked, load_visit
from core.clock import get_clock
from core.errors import Forbidden
from core.forms import attempt
from core.localtime import local_datetime, to_local, unit_zone
from core.roles import login_required
from core.unit_of_work import discard, keep_regardless
from reminders.services import of_event

bp = Blueprint("visits", __name__, url_prefix="/calendars")


def _may_change(visit: HomeVisit) -> bool:
    return services.can_book_for(current_user, visit.family) or current_user in visit.workers


def _check_may_change(visit: HomeVisit) -> None:
    if not _may_change(visit):
        raise Forbidden(_("You may not change this visit."))


def _move_data(visit: HomeVisit) -> dict:
    zone = unit_zone()
    start, end = to_local(visit.start, zone), to_local(visit.end, zone)
    return {"day": start.date(), "start": start.time().replace(tzinfo=None),
            "end": end.time().replace(tzinfo=None)}


def _visit_page(visit: HomeVisit, status=200, *, refusal=None, **forms):
    """The visit's page; a refused form comes back filled in with its errors."""
    defaults = {
        "move_form": lambda: MoveForm(formdata=None, data=_move_data(visit)),
        "cancel_form": lambda: CancelForm(formdata=None),
        "no_show_form": lambda: NoShowForm(formdata=None),
        "done_form": lambda: DoneForm(formdata=None),
        "notes_form": lambda: NotesForm(formdata=None, data={"notes": visit.notes}),
    }
    for name, make in defaults.items():
        if forms.get(name) is None:
            forms[name] = make()
    return render_template(
        "casework/visit.html", visit=visit, refusal=refusal or Refusal(),
        place=services.visit_place(current_user, visit),
        may_change=_may_change(visit),
        may_delete=services.can_book_for(current_user, visit.family),
        # The outcome of a visit ahead is not offered, but a refused one is shown.
        show_outcome=visit.start <= get_clock().now() or bool(
            forms["done_form"].errors or forms["no_show_form"].errors),
        visit_day=to_local(visit.start, unit_zone()).date(),
        reminders=of_event(current_user, HOME_VISIT, visit.id, clock=get_clock()),
        **forms), status


@bp.get("/visits/<int:visit_id>", endpoint="visit")
@login_required
def visit_page(visit_id):
    """A visit's details and notes, and the forms that change it."""
    visit = load_visit(visit_id)
    return _visit_page(visit)


def _change(visit_id, form, form_name, changes_of, done_message, refusal=None):
    """Apply one change from a form of the visit's page, or show the page refusing it."""
    visit = load_visit(visit_id)
    _check_may_change(visit)
    refusal = refusal or Refusal()
    if form.validate():
        changes, confirm = changes_of(form)
        if attempt(form, checked, refusal, services.update_visit, current_user, visit,
                   changes, confirm=confirm, zone=unit_zone(), settings=calendar_settings(),
                   clock=get_clock()) is not None:
            flash(done_message, "success")
            return redirect(url_for(".visit", visit_id=visit.id))
        discard()
        visit = load_visit(visit_id)
        refusal.tidy(form)
    keep_regardless()  # the page shows the record: its read stays audited on a refusal
    return _visit_page(visit, 422, refusal=refusal, **{form_name: form})


def _moved(form: MoveForm):
    zone = unit_zone()
    return ({"start": local_datetime(form.day.data, form.start.data, zone),
             "end": local_datetime(form.day.data, form.end.data, zone)},
            bool(form.confirm.data))


@bp.post("/visits/<int:visit_id>/move")
@login_required
def move_visit(visit_id):
    """Move a visit: the same clashes and warnings as booking it."""
    return _change(visit_id, MoveForm(), "move_form", _moved,
                   _("The visit was moved. Calendars show the new time."))


@bp.post("/visits/<int:visit_id>/cancel")
@login_required
def cancel_visit(visit_id):
    """Cancel a visit with the reason; it stays in calendars as cancelled."""
    return _change(visit_id, CancelForm(), "cancel_form",
                   lambda form: ({"status": "cancelled",
                                  "status_reason": form.cancel_reason.data}, False),
                   _("The visit was cancelled."))


@bp.post("/visits/<int:visit_id>/done")
@login_required
def mark_done(visit_id):
    """Record that the visit was held."""
    return _change(visit_id, DoneForm(), "done_form",
                   lambda form: ({"status": "done", "status_reason": ""}, False),
                   _("The visit was marked as done."))


@bp.post("/visits/<int:visit_id>/no-show")
@login_required
def mark_no_show(visit_id):
    """Record that the family was not met, and why if known."""
    return _change(visit_id, NoShowForm(), "no_show_form",
                   lambda form: ({"status": "no_show",
                                  "status_reason": form.no_show_reason.data or ""}, False),
                   _("The visit was recorded as the family not met."))


@bp.post("/visits/<int:visit_id>/notes")
@login_required
def save_notes(visit_id):
    """Keep the worker's notes of the visit (they never leave the system)."""
    return _change(visit_id, NotesForm(), "notes_form",
                   lambda form: ({"notes": form.notes.data or ""}, False),
                   _("The notes were saved."))
