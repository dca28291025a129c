"""Pages of peer groups: list, detail, form, series preview, sessions, attendance, seats.

Each view loads (404), checks access (403), acts through the rules of groups/ and
responds. A refusal on a form is shown on that form (422) after a rollback;
other refusals are pages of the app's error handler.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from accounts.services import staff
from core.clock import get_clock
from core.errors import Forbidden, NotFound, ValidationFailed
from core.forms import attempt, form_page
from core.http import current_locale
from core.input_checks import MAX_ID
from core.localtime import local_datetime, to_local, unit_zone
from core.models import Venue
from core.places import all_municipalities
from core.roles import ADMIN, FAMILY_WORKER, login_required
from core.unit_of_work import discard, keep_regardless
from core.vocabulary import ENROLLING_STATUSES, choices
from extensions import db
from families.models import Family
from families.services import record_listing, visible_families_query
from families.views import load_family
from groups import attendance as group_attendance
from groups import enrollment as group_enrollment
from groups import permissions, services
from groups import series as group_series
from groups.forms import (
    GROUP_STATUS_LABELS,
    SERIES_FIELDS,
    ChooseFamilyForm,
    ConfirmForm,
    GroupForm,
    GroupSearchForm,
    SeatForm,
    StatusForm,
)
from groups.models import (
    GROUP_STATUSES,
    Enrollment,
    GroupSession,
    PeerGroup,
    SessionSeries,
)

bp = Blueprint("groups", __name__, url_prefix="/groups")

# Status changes that end the group for its families: asked again before done.
CONFIRMED_STATUSES = ("finished", "cancelled")
# Sensible starting values for a new group.
NEW_GROUP_DATA = {"language": "fi", "min_age_months": 0, "max_age_months": 72,
                  "capacity": 8, "duration_minutes": 90, "interval_weeks": 1,
                  "count": 10, "tracks": ["preventive"]}


@bp.app_template_filter("attendance_rate")
def attendance_rate(rate):
    """A share of attendance as a percentage in the locale's form; a dash for none."""
    return "–" if rate is None else format_percent(rate)


@bp.app_template_global()
def series_instants(series: SessionSeries) -> tuple[datetime, datetime]:
    """A series' start and end on its first date, to show its times with |time."""
    start = local_datetime(series.first_date, series.start_time, unit_zone())
    return start, start + timedelta(minutes=series.duration_minutes)


# --- helpers ---------------------------------------------------------------

def _group_to_manage(group_id) -> PeerGroup:
    """A group (else 404) that the user may change (else 403)."""
    group = services.get_group(group_id)
    if not permissions.can_manage(current_user, group):
        raise Forbidden(_("You may not change this group."))
    return group


def _municipality_names(group: PeerGroup | None = None) -> list[tuple[str, str]]:
    """An admin serves every municipality, a coordinator their own; an edited
    group keeps showing those it already serves."""
    if current_user.role == ADMIN:
        places = all_municipalities()
    else:
        places = list(current_user.municipalities)
        if group is not None:
            places += [place for place in group.municipalities if place not in places]
    return [(place.name, place.name) for place in sorted(places, key=lambda p: p.name)]


def venue_names() -> list[tuple[str, str]]:
    """Every venue as a choice of a form, by name: a group's and a session's."""
    venues = db.session.scalars(sa.select(Venue).order_by(Venue.name))
    return [(venue.name, venue.name) for venue in venues]


@dataclass
class SessionRow:
    """A session as the group's page lists it."""

    session: GroupSession
    moved: bool
    added: bool


def _session_rows(group: PeerGroup, zone) -> list[SessionRow]:
    """Mark the sessions moved or added by hand, away from the series."""
    series = group.series[0] if group.series else None
    rows = []
    for session in group.sessions:
        start = to_local(session.start, zone)
        moved = session.series_date is not None and series is not None and (
            start.date() != session.series_date
            or start.time().replace(tzinfo=None) != series.start_time)
        # Added by hand: set apart from the series from the start, never changed since.
        added = session.changed_by_hand and session.sequence == 0
        rows.append(SessionRow(session, moved, added))
    return rows


# --- the list --------------------------------------------------------------

@dataclass
class GroupRow:
    """A group as the list shows it."""

    group: PeerGroup
    next_session: GroupSession | None
    enrolled: int
    waiting: int


@bp.get("/")
@login_required
def list_groups():
    """Groups filtered by municipality, status, theme, free seats and name."""
    form = GroupSearchForm(formdata=request.args)
    form.municipality.choices = choices(
        [(m.name, m.name) for m in all_municipalities()], _("All municipalities"))
    filters, status = {}, 200
    if form.validate():
        filters = {"text": form.q.data or "", "municipality": form.municipality.data or None,
                   "status": form.status.data or None, "theme": form.theme.data or None,
                   "with_free_seats": form.free.data}
    else:
        status = 422
    query = services.search_groups(**filters).options(
        selectinload(PeerGroup.series), selectinload(PeerGroup.sessions))
    now = get_clock().now()
    rows = []
    for group in db.session.scalars(query):
        upcoming = group_series.upcoming_sessions(group, now)
        rows.append(GroupRow(group, upcoming[0] if upcoming else None,
                             group_enrollment.enrolled_count(group),
                             group_enrollment.waiting_count(group)))
    filter_args = {key: value for key, value in request.args.items() if value}
    return render_template("groups/list.html", form=form, rows=rows,
                           filter_args=filter_args,
                           may_create=permissions.can_manage(current_user)), status


# --- the group's page ------------------------------------------------------

@bp.get("/<int:group_id>")
@login_required
def detail(group_id):
    """A group with its sessions; the roster, waiting list and attendance for
    its organisers and facilitators; the managers' actions."""
    group = services.get_group(group_id)
    zone = unit_zone()
    may_manage = permissions.can_manage(current_user, group)
    context = {"group": group, "may_manage": may_manage,
               "sessions": _session_rows(group, zone),
               "enrolled": group_enrollment.enrolled_count(group),
               "waiting": group_enrollment.waiting_count(group),
               "may_see_roster": permissions.can_see_roster(current_user, group)}
    shown: list[Family] = []
    if context["may_see_roster"]:
        roster, waiting_list = group_enrollment.roster(group), group_enrollment.waiting_list(group)
        entries = roster + waiting_list
        shown += [entry.family for entry in entries]
        ids = [entry.family_id for entry in entries]
        visible = set(db.session.scalars(visible_families_query(current_user).where(
            Family.id.in_(ids)).with_only_columns(Family.id))) if ids else set()
        context.update(
            roster=roster, waiting_list=waiting_list,
            rates=group_attendance.attendance_rates(group), visible_family_ids=visible,
            may_withdraw={entry.id for entry in entries
                          if permissions.can_enroll(current_user, group, entry.family)})
    if group.status in ENROLLING_STATUSES and (
            may_manage or current_user.role == FAMILY_WORKER):
        families = list(db.session.scalars(
            visible_families_query(current_user).where(Family.status == "active")
            .order_by(Family.surname, Family.reference)))
        if families:
            choose_form = ChooseFamilyForm(formdata=None)
            choose_form.family_id.choices = choices(
                [(family.id, f"{family.surname} {family.reference}") for family in families],
                _("Choose a family"))
            context["choose_form"] = choose_form
            shown += families
    if may_manage:
        context["next_statuses"] = [status for status in GROUP_STATUSES
                                    if status in services.TRANSITIONS[group.status]]
        context["confirmed_statuses"] = CONFIRMED_STATUSES
    record_listing(current_user, shown, clock=get_clock())
    return render_template("groups/detail.html", **context)


@bp.route("/<int:group_id>/status", methods=["GET", "POST"])
@login_required
def change_status(group_id):
    """Move a group to its next status; ending it is asked again first (GET)."""
    group = _group_to_manage(group_id)
    status = request.values.get("status", "")
    if status not in services.TRANSITIONS[group.status]:
        raise ValidationFailed(_("Not allowed from the current status."),
                               fields={"status": _("Not allowed from the current status.")})
    if request.method == "GET":
        # The token of this confirmation form; CSRFProtect checks it on the POST.
        form = StatusForm(formdata=None, data={"status": status})
        return render_template("groups/status_confirm.html", group=group, form=form,
                               status=status)
    services.update_group(current_user, group, {"status": status},
                          zone=unit_zone(), clock=get_clock())
    flash(_("The group's status is now: %(status)s.",
            status=GROUP_STATUS_LABELS[group.status]), "success")
    return redirect(url_for(".detail", group_id=group.id))


# --- creating and editing --------------------------------------------------

def _fill_group_choices(form: GroupForm, group: PeerGroup | None = None) -> None:
    """Choices that come from the database: municipalities, venues, facilitators."""
    form.municipalities.choices = choices(_municipality_names(group))
    form.venue.choices = choices(venue_names(), _("No venue"))
    workers = staff(FAMILY_WORKER)
    if group is not None:
        workers += [user for user in group.facilitators if user not in workers]
    form.facilitator_ids.choices = choices([(user.id, user.name) for user in workers])
    if form.status is not None and group is not None:
        allowed = [group.status] + [status for status in GROUP_STATUSES
                                    if status in services.TRANSITIONS[group.status]]
        form.status.choices = choices([(status, GROUP_STATUS_LABELS[status])
                                       for status in allowed])


def _series_plan(form: GroupForm) -> group_series.SeriesPlan:
    """The series on the form, or the service's field errors."""
    rule = group_series.series_rule(**form.series_fields())
    return group_series.SeriesPlan(rule, tuple(form.added_dates.data or ()), form.removed_days())


def _series_complete(form: GroupForm) -> bool:
    """Whether the fields a series cannot do without are filled in; marks those missing."""
    complete = True
    for name in ("weekday", "start_time", "duration_minutes", "first_date"):
        field = getattr(form, name)
        if field.data is None:
            if not field.errors:
                field.errors = [*field.errors, _("This field is required.")]
            complete = False
    return complete


def _series_given(form: GroupForm) -> bool:
    return any(getattr(form, name).data not in (None, [], "")
               for name in SERIES_FIELDS if name != "interval_weeks")


def _preview_page(form: GroupForm, template_context: dict):
    """Show the dates of the form's series (200), or why it has none (422)."""
    if form.validate_series() and _series_complete(form):
        plan = attempt(form, _series_plan, form)
        if plan is not None:
            schedule = group_series.preview(plan, unit_zone(), language=current_locale())
            # The dates ticked for removal join the removed dates, which keep them out.
            form.removed_dates.raw_data = None
            form.removed_dates.data = list(plan.removed)
            form.remove_dates.data = []
            return render_template("groups/group_form.html", form=form, schedule=schedule,
                                   **template_context), 200
    return render_template("groups/group_form.html", form=form, schedule=None,
                           **template_context), 422


def _new_group_data() -> dict:
    data = dict(NEW_GROUP_DATA)
    places = _municipality_names()
    if current_user.municipalities and places:
        data["municipalities"] = [current_user.municipalities[0].name]
    data["start_time"] = datetime.strptime("17:00", "%H:%M").time()
    return data


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_group():
    """Create a group as a draft, with its session series and a preview of its dates."""
    if not permissions.can_manage(current_user):
        raise Forbidden(_("Your role does not allow organising groups."))
    form = GroupForm(data=_new_group_data() if request.method == "GET" else None)
    del form.status  # a new group starts as a draft
    _fill_group_choices(form)
    context = {"group": None}
    if form.is_submitted() and form.preview.data:
        return _preview_page(form, context)
    if form.validate_on_submit() and _series_complete(form):
        plan = attempt(form, _series_plan, form)
        group = plan and attempt(form, services.create_group, current_user, series=plan,
                                 zone=unit_zone(), clock=get_clock(), **form.group_fields())
        if group is not None:
            flash(_("The group %(name)s was created as a draft. Open it for enrollment"
                    " when it is ready.", name=group.name), "success")
            return redirect(url_for(".detail", group_id=group.id))
        discard()
    return form_page("groups/group_form.html", form, schedule=None, **context)


def _group_data(group: PeerGroup) -> dict:
    """A group's details and series as the form's initial data."""
    data = {
        "name": group.name, "public_title": group.public_title,
        "description": group.description,
        "themes": list(group.themes), "min_age_months": group.min_age_months,
        "max_age_months": group.max_age_months, "tracks": list(group.tracks),
        "language": group.language,
        "municipalities": [place.name for place in group.municipalities],
        "venue": group.venue.name if group.venue else None, "capacity": group.capacity,
        "facilitator_ids": [user.id for user in group.facilitators],
        "enrollment_opens": group.enrollment_opens,
        "enrollment_closes": group.enrollment_closes, "status": group.status,
        "added_dates": [], "removed_dates": [],
    }
    if not group.series:
        return data
    series = group.series[0]
    added, removed = series.plan_parts()
    data.update(weekday=series.weekday, start_time=series.start_time,
                duration_minutes=series.duration_minutes, first_date=series.first_date,
                count=series.count, until=series.until, interval_weeks=series.interval_weeks,
                added_dates=list(added), removed_dates=list(removed))
    return data


def _differs(new, old) -> bool:
    if isinstance(new, list) or isinstance(old, list):
        return sorted(new or [], key=str) != sorted(old or [], key=str)
    return new != old


@bp.route("/<int:group_id>/edit", methods=["GET", "POST"])
@login_required
def edit_group(group_id):
    """Change a group, its capacity, series or status; only what changed is sent."""
    group = _group_to_manage(group_id)
    zone, clock = unit_zone(), get_clock()
    initial = _group_data(group)
    form = GroupForm(data=initial if request.method == "GET" else None)
    _fill_group_choices(form, group)
    context = {"group": group}
    if form.is_submitted() and form.preview.data:
        return _preview_page(form, context)
    if form.validate_on_submit() and (not (group.series or _series_given(form))
                                      or _series_complete(form)):
        changes = {name: value for name, value in form.group_fields().items()
                   if _differs(value, initial.get(name))}
        series = {**form.series_fields(), "added_dates": list(form.added_dates.data or []),
                  "removed_dates": list(form.removed_days())}
        if any(_differs(value, initial.get(name)) for name, value in series.items()):
            changes["series"] = attempt(form, _series_plan, form)
        if changes.get("series", True) is not None and attempt(
                form, services.update_group, current_user, group, changes, zone=zone,
                clock=clock):
            flash(_("The group's details were saved."), "success")
            return redirect(url_for(".detail", group_id=group.id))
        discard()
        group = services.get_group(group_id)
        context["group"] = group
    return form_page("groups/group_form.html", form, schedule=None, **context)


# --- seats and the waiting list --------------------------------------------

def _flash_placement(enrollment: Enrollment) -> None:
    if enrollment.status == "waitlisted":
        flash(_("The group %(group)s is full. The family is number %(position)d on the"
                " waiting list.", group=enrollment.group.name,
                position=enrollment.position), "success")
    else:
        flash(_("The family %(reference)s has a place in %(group)s.",
                reference=enrollment.family.reference, group=enrollment.group.name),
              "success")


def _enroll(form: SeatForm, group: PeerGroup, family: Family) -> bool:
    """Enroll the family with the form's members and say where it stands; on a
    refusal, roll back and leave the reason on the form."""
    enrollment = attempt(form, group_enrollment.enroll, current_user, group, family,
                         form.member_ids.data, zone=unit_zone(), clock=get_clock())
    if enrollment is None:
        discard()
        return False
    _flash_placement(enrollment)
    return True


def _member_choices(family: Family) -> list[tuple[int, str]]:
    return [(member.id, member.first_name) for member in family.members]


@bp.route("/<int:group_id>/place", methods=["GET", "POST"])
@login_required
def place_family(group_id):
    """Place a family from the group's page: choose the family, then its members."""
    group = services.get_group(group_id)
    family_id = request.args.get("family_id", type=int)
    if family_id is None:
        return redirect(url_for(".detail", group_id=group.id))
    if not 1 <= family_id <= MAX_ID:  # no such row; PostgreSQL would refuse the number
        raise NotFound(_("No such family."))
    family = load_family(family_id)
    if not permissions.can_enroll(current_user, group, family):
        raise Forbidden(_("You may not place this family in this group."))
    form = SeatForm(data={"member_ids": [m.id for m in family.members]}
                    if request.method == "GET" else None)
    del form.group_id  # the group is this one
    form.member_ids.choices = _member_choices(family)
    if form.validate_on_submit():
        if _enroll(form, group, family):
            return redirect(url_for(".detail", group_id=group.id))
        group, family = services.get_group(group_id), load_family(family_id)
    keep_regardless()  # the page shows the record: its read stays audited on a refusal
    return form_page("groups/seat.html", form, group=group, family=family, groups=None)


def _groups_taking(family: Family) -> list[PeerGroup]:
    """Groups taking families now that are for the family's track and the user's to fill."""
    query = services.search_groups().options(selectinload(PeerGroup.series))
    return [group for group in db.session.scalars(query)
            if group.status in ENROLLING_STATUSES and family.track in group.tracks
            and permissions.can_enroll(current_user, group, family)]


@bp.route("/families/<int:family_id>/place", methods=["GET", "POST"])
@login_required
def place_in_group(family_id):
    """Place a family from its own page: choose the group and who attends."""
    family = load_family(family_id)
    if not permissions.can_enroll(current_user, None, family):
        raise Forbidden(_("You may not place this family in a group."))
    groups = _groups_taking(family)
    initial = {"group_id": request.args.get("group_id", type=int),
               "member_ids": [member.id for member in family.members]}
    form = SeatForm(data=initial if request.method == "GET" else None)
    form.group_id.choices = choices([(group.id, group.name) for group in groups],
                                    _("Choose a group"))
    form.member_ids.choices = _member_choices(family)
    if form.validate_on_submit():
        if _enroll(form, services.get_group(form.group_id.data), family):
            return redirect(url_for("casework.detail", family_id=family.id))
        family = load_family(family_id)
    keep_regardless()  # the page shows the record: its read stays audited on a refusal
    return form_page("groups/seat.html", form, group=None, family=family, groups=groups)


@bp.route("/enrollments/<int:enrollment_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(enrollment_id):
    """Ask for confirmation (GET), then end the seat or the waiting (POST)."""
    enrollment = group_enrollment.get_enrollment(enrollment_id)
    family = load_family(enrollment.family_id)
    group = enrollment.group
    if not permissions.can_enroll(current_user, group, family):
        raise Forbidden(_("You may not change this family's place."))
    back_to_family = request.args.get("from") == "family"
    back = url_for("casework.detail", family_id=family.id) if back_to_family else \
        url_for(".detail", group_id=group.id)
    form = ConfirmForm()
    if form.validate_on_submit():
        promoted = group_enrollment.withdraw(current_user, enrollment, clock=get_clock())
        flash(_("The family %(reference)s was withdrawn from %(group)s.",
                reference=family.reference, group=group.name), "success")
        for entry in promoted:
            flash(_("The family %(reference)s moved up from the waiting list and has a"
                    " place.", reference=entry.family.reference), "success")
        return redirect(back)
    keep_regardless()  # the page shows the record: its read stays audited on a refusal
    return form_page("groups/withdraw.html", form, enrollment=enrollment, family=family,
                      group=group, back=back, from_family=back_to_family)
