"""A group session's own page: move it, cancel or restore it, record attendance.

The page shows the session's reminders to the families with a seat beside what
groups hold, so it lives above both packages; its URL stays under /groups.
The view loads (404), checks access (403), acts through groups.services and
responds; a refused form comes back with its errors (422).
"""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from calendars.events import GROUP_SESSION
from core.clock import get_clock
from core.errors import Forbidden, ValidationFailed
from core.forms import attempt
from core.localtime import local_datetime, to_local, unit_zone
from core.roles import login_required
from core.unit_of_work import discard, keep_regardless
from core.vocabulary import choices
from extensions import db
from families.services import record_listing
from groups import attendance as group_attendance
from groups import permissions as group_permissions
from groups import series as group_series
from groups.forms import AttendanceForm, SessionForm, SessionStatusForm
from groups.models import Attendance, GroupSession
from groups.views import venue_names
from reminders.services import of_event

bp = Blueprint("sessions", __name__, url_prefix="/groups")

SESSION_ACTIONS = ("move", "cancel", "restore", "record")


def _session_data(session: GroupSession, zone) -> dict:
    start, end = to_local(session.start, zone), to_local(session.end, zone)
    return {"day": start.date(), "start": start.time().replace(tzinfo=None),
            "end": end.time().replace(tzinfo=None),
            "venue": session.venue_override.name if session.venue_override else ""}


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
@login_required
def session_page(session_id):
    """One session: move it, change its venue, cancel or restore it, record attendance."""
    session = group_series.get_session(session_id)
    group = session.group
    zone, clock = unit_zone(), get_clock()
    action = None
    if request.method == "POST":
        action = next((name for name in SESSION_ACTIONS if name in request.form), None)
        if action is None:
            raise ValidationFailed(_("Choose what to do with the session."))
    may_manage = group_permissions.can_manage(current_user, group)
    may_record = group_permissions.can_record_attendance(current_user, group)
    if action in ("move", "cancel", "restore") and not may_manage:
        raise Forbidden(_("You may not change this group."))
    if action == "record" and not may_record:
        raise Forbidden(_("Only the group's facilitators record attendance."))

    move_form = SessionForm() if action == "move" else SessionForm(
        formdata=None, data=_session_data(session, zone))
    move_form.venue.choices = choices(venue_names(), _("The group's venue"))
    status_form = SessionStatusForm(formdata=None)
    attendance_form = AttendanceForm() if action == "record" else None

    if action == "move" and move_form.validate():
        day = move_form.day.data
        start = local_datetime(day, move_form.start.data, zone)
        end = local_datetime(day, move_form.end.data, zone)
        if attempt(move_form, group_series.change_session, current_user, session, start=start,
                   end=end, venue=move_form.venue.data or None, clock=clock):
            flash(_("The session was changed. Calendars show the new details."), "success")
            return redirect(url_for(".session_page", session_id=session.id))
        discard()
        session = group_series.get_session(session_id)
        group = session.group
    elif action in ("cancel", "restore"):
        status_form = SessionStatusForm()
        if status_form.validate():
            group_series.change_session(
                current_user, session,
                status="cancelled" if action == "cancel" else "scheduled", clock=clock)
            flash(_("The session was cancelled.") if action == "cancel"
                  else _("The session was restored."), "success")
            return redirect(url_for(".session_page", session_id=session.id))

    show_attendance = may_record and session.status == "scheduled" and \
        session.start <= clock.now()
    if action == "record" and not show_attendance:
        # Not started or cancelled: the service says which.
        group_attendance.record_attendance(current_user, session, {}, clock=clock)
    expected = group_attendance.expected_members(session) if show_attendance else []
    if show_attendance:
        if attendance_form is None:
            recorded = db.session.scalars(sa.select(Attendance).where(
                Attendance.session_id == session.id, Attendance.present.is_(True)))
            attendance_form = AttendanceForm(
                formdata=None, data={"present": [row.member_id for row in recorded]})
        attendance_form.present.choices = [
            (member.id, f"{member.first_name} ({member.family.surname})")
            for member in expected]
        if action == "record" and attendance_form.validate():
            chosen = set(attendance_form.present.data or ())
            if attempt(attendance_form, group_attendance.record_attendance, current_user, session,
                       {member.id: member.id in chosen for member in expected},
                       clock=clock) is not None:
                flash(_("The attendance was saved."), "success")
                return redirect(url_for(".session_page", session_id=session.id))
            discard()
    record_listing(current_user, [member.family for member in expected], clock=clock)
    if expected:
        keep_regardless()  # the page shows them: their reads stay audited on a refusal
    return render_template("casework/session.html",
                           session=session, group=group, move_form=move_form,
                           status_form=status_form,
                           attendance_form=attendance_form if show_attendance else None,
                           may_manage=may_manage, rates=group_attendance.attendance_rates(group),
                           reminders=of_event(current_user, GROUP_SESSION, session.id,
                                              clock=clock)), \
        422 if action else 200
