"""Peer groups over JSON: groups, sessions, seats and the waiting list, attendance."""

from typing import NamedTuple

from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import fields, pre_dump

from core.api import API_ROOT, Blueprint, check_fields, checks, created, loads, refuse_fields
from core.clock import get_clock
from core.errors import Forbidden
from core.fields import (
    Body,
    Boolean,
    Changes,
    Choice,
    Date,
    Instant,
    Integer,
    List,
    Nested,
    Query,
    Text,
    Time,
    With,
    ids,
    names,
)
from core.localtime import unit_zone
from core.roles import login_required
from core.vocabulary import LANGUAGES, SUPPORT_AREAS, TRACKS
from extensions import db
from families.api import visible_family
from groups import attendance as group_attendance
from groups import enrollment as group_enrollment
from groups import permissions, services
from groups import series as group_series
from groups.models import (
    DESCRIPTION_MAX,
    GROUP_STATUSES,
    NAME_MAX,
    SESSION_STATUSES,
)

bp = Blueprint("groups_api", __name__, url_prefix=API_ROOT)

ENROLLMENT_STATUSES = ("enrolled", "waitlisted", "withdrawn", "completed")


class SeriesSchema(Body):
    """A group's weekly session series in local wall-clock time."""

    weekday = Integer(required=True, description="1-7 from Monday")
    start_time = Time(required=True, description='Local time, "17:00"')
    duration_minutes = Integer(required=True)
    first_date = Date(required=True)
    count = Integer(allow_none=True, description="Number of sessions; or give until")
    until = Date(allow_none=True, description="Last date (inclusive); or give count")
    interval_weeks = Integer(description="1 weekly (default), 2 fortnightly")
    added_dates = List(Date(), max_items=52, load_only=True,
                       description="Single dates added by hand")
    removed_dates = List(Date(), max_items=104, load_only=True,
                         description="Dates of the series left out by hand")


class GroupSchema(Body):
    """A peer group with its series and its seats."""

    id = Integer(dump_only=True)
    name = Text(NAME_MAX, min_length=1, required=True)
    public_title = Text(NAME_MAX, description=(
        "The only name that leaves the system (feeds, reminders, pages families read);"
        " refused when it holds a word that must not (422, naming the word). Empty:"
        " called a group meeting. Omitted on creation: the name, where it may leave"))
    description = Text(DESCRIPTION_MAX, multiline=True)
    themes = List(Choice(SUPPORT_AREAS), max_items=len(SUPPORT_AREAS))
    min_age_months = Integer(minimum=0)
    max_age_months = Integer(minimum=0)
    tracks = List(Choice(TRACKS), required=True, max_items=len(TRACKS))
    language = Choice(LANGUAGES)
    municipalities = List(Text(120), required=True, max_items=20)
    venue = Text(120, allow_none=True, description="The venue's name")
    capacity = Integer(required=True, description="Seats, in families")
    facilitator_ids = List(Integer(), max_items=10)
    enrollment_opens = Date(allow_none=True)
    enrollment_closes = Date(allow_none=True)
    status = Choice(GROUP_STATUSES, description="Changed on update; new groups are drafts")
    series = Nested(SeriesSchema, allow_none=True)
    enrolled = Integer(dump_only=True, minimum=0)
    waiting = Integer(dump_only=True, minimum=0)
    free_places = Integer(dump_only=True, minimum=0)

    def read_municipalities(self, group):
        return names(group.municipalities)

    def read_venue(self, group):
        return group.venue.name if group.venue else None

    def read_facilitator_ids(self, group):
        return ids(group.facilitators)

    def read_series(self, group):
        return group.series[0] if group.series else None

    @pre_dump
    def _with_seat_counts(self, group, **_kwargs):
        return With(group, **group_enrollment.seat_counts(group)._asdict())


class GroupChangesSchema(Changes, GroupSchema):
    """A change of a group: any of its fields."""


class SessionSchema(Body):
    """One session of a group."""

    id = Integer(dump_only=True)
    group_id = Integer(dump_only=True)
    start = Instant()
    end = Instant()
    venue = Text(120, allow_none=True)
    status = Choice(SESSION_STATUSES)
    sequence = Integer(dump_only=True, minimum=0)

    def read_venue(self, session):
        return session.venue.name if session.venue else None


class SessionChangesSchema(Changes, SessionSchema):
    """A change of a session: any of its fields."""


class EnrollmentSchema(Body):
    """A family's seat in a group, or its position on the waiting list."""

    id = Integer(dump_only=True)
    family_id = Integer(required=True)
    group_id = Integer(dump_only=True)
    status = Choice(ENROLLMENT_STATUSES, dump_only=True)
    position = Integer(dump_only=True, allow_none=True)
    member_ids = List(Integer(), required=True, max_items=20)

    def read_member_ids(self, enrollment):
        return ids(enrollment.members)


class WithdrawalSchema(EnrollmentSchema):
    """A withdrawn enrollment and the waiting ones that moved up to a seat."""

    promoted = fields.List(fields.Nested(EnrollmentSchema), dump_only=True)


class AttendanceEntrySchema(Body):
    member_id = Integer(required=True)
    present = Boolean(required=True)


class AttendanceSchema(Body):
    """Who of a family's attending members came to a session."""

    attendance = Nested(AttendanceEntrySchema, many=True, required=True, max_items=200)


class AttendanceRecorded(NamedTuple):
    """What was recorded of a session, and its figures."""

    session_id: int
    present: int
    recorded: int
    attendance: list[dict]


class AttendanceRecordedSchema(Body):
    """What was recorded, and the session's figures."""

    session_id = fields.Integer(required=True)
    present = fields.Integer(required=True)
    recorded = fields.Integer(required=True)
    attendance = fields.List(fields.Nested(AttendanceEntrySchema), required=True)


class Occurrence(Body):
    date = Date(attribute="day")
    start = Instant()
    end = Instant()


class SkippedDate(Body):
    """A date a series leaves out (a holiday, a blackout, removed by hand), with why."""

    date = Date(attribute="day")
    reason = fields.String()


class ScheduleSchema(Body):
    """The dates a series would have, and those it skips with the reason."""

    occurrences = fields.List(fields.Nested(Occurrence))
    skipped = fields.List(fields.Nested(SkippedDate))


class GroupListQuery(Query):
    municipality = fields.String()
    status = Choice(GROUP_STATUSES)
    theme = Choice(SUPPORT_AREAS)
    # Any other value is "false", as it always was.
    free = fields.String(metadata={"enum": ["true", "false", "1", "0"]})
    q = fields.String()


def series_plan(fields: dict) -> group_series.SeriesPlan:
    """A series plan from the parsed series object."""
    rule = group_series.series_rule(
        weekday=fields.get("weekday"), start_time=fields.get("start_time"),
        duration_minutes=fields.get("duration_minutes"), first_date=fields.get("first_date"),
        count=fields.get("count"), until=fields.get("until"),
        interval_weeks=fields.get("interval_weeks", 1))
    return group_series.SeriesPlan(rule, tuple(fields.get("added_dates", ())),
                                   tuple(fields.get("removed_dates", ())))


def _group_fields(fields, *, partial):
    if fields.get("series") is not None:
        fields["series"] = series_plan(fields["series"])
    elif "series" in fields:
        if not partial:
            del fields["series"]
        else:
            check_fields({"series": _("A group's series cannot be removed.")})
    return fields


def _may_create_groups():
    if not permissions.can_manage(current_user):
        raise Forbidden(_("Groups are made by coordinators."))


def _check_manages(group) -> None:
    if not permissions.can_manage(current_user, group):
        raise Forbidden(_("You may not change this group."))


def _managed_group(group_id):
    group = services.get_group(group_id)
    _check_manages(group)
    return group


def _managed_session(session_id):
    session = group_series.get_session(session_id)
    _check_manages(session.group)
    return session


def _attendance_session(session_id):
    session = group_series.get_session(session_id)
    if not permissions.can_record_attendance(current_user, session.group):
        raise Forbidden(_("Only the group's facilitators record attendance."))
    return session


@bp.get("/groups")
@bp.doc(summary="Peer groups")
@login_required
@bp.arguments(GroupListQuery, location="query")
@bp.response(200, GroupSchema(many=True))
@bp.errors(401)
def list_groups(arguments):
    """Groups by municipality, status, theme, free seats and name."""
    query = services.search_groups(
        municipality=arguments.get("municipality"),
        status=arguments.get("status"),
        theme=arguments.get("theme"),
        with_free_seats=arguments.get("free") in ("1", "true"),
        text=arguments.get("q", "")[:100])
    return db.session.scalars(query).all()


@bp.post("/groups")
@bp.doc(summary="Create a group (a draft) with its session series")
@login_required
@checks(_may_create_groups)
@bp.arguments(GroupSchema)
@bp.response(201, GroupSchema, description="Created")
@bp.errors(401, 403)
def create_group(fields):
    """Create a draft group and materialise its series."""
    fields = _group_fields(fields, partial=False)
    refuse_fields(fields, status=_("A new group starts as a draft."))
    group = services.create_group(current_user, zone=unit_zone(), clock=get_clock(),
                                  **fields)
    return created(group, ".get_group", group_id=group.id)


@bp.post("/groups/series-preview")
@bp.doc(summary="The dates a series would have, and those it skips")
@login_required
@bp.arguments(SeriesSchema)
@bp.response(200, ScheduleSchema)
@bp.errors(401)
def preview_series(fields):
    """The dates a series would have and the ones it would skip; nothing is saved."""
    return group_series.preview(series_plan(fields), unit_zone())


@bp.get("/groups/<int:group_id>")
@bp.doc(summary="A group")
@login_required
@loads(services.get_group)
@bp.response(200, GroupSchema)
@bp.errors(401, 404)
def get_group(group):
    """One group."""
    return group


@bp.patch("/groups/<int:group_id>")
@bp.doc(summary="Change a group, its capacity, series or status")
@login_required
@loads(_managed_group)
@bp.arguments(GroupChangesSchema)
@bp.response(200, GroupSchema)
@bp.errors(401, 403, 404, 409)
def update_group(group, fields):
    """Change a group's details, capacity, series or status."""
    fields = _group_fields(fields, partial=True)
    services.update_group(current_user, group, fields, zone=unit_zone(), clock=get_clock())
    return group


@bp.get("/groups/<int:group_id>/sessions")
@bp.doc(summary="The group's sessions")
@login_required
@loads(services.get_group)
@bp.response(200, SessionSchema(many=True))
@bp.errors(401, 404)
def list_sessions(group):
    """The group's sessions in order."""
    return group.sessions


@bp.patch("/sessions/<int:session_id>")
@bp.doc(summary="Move, cancel or restore one session")
@login_required
@loads(_managed_session)
@bp.arguments(SessionChangesSchema)
@bp.response(200, SessionSchema)
@bp.errors(401, 403, 404)
def update_session(session, fields):
    """Move one session, change its venue, cancel or restore it."""
    group_series.change_session(current_user, session, clock=get_clock(), **fields)
    return session


@bp.get("/groups/<int:group_id>/enrollments")
@bp.doc(summary="The roster and the waiting list")
@login_required
@loads(services.get_group)
@bp.response(200, EnrollmentSchema(many=True))
@bp.errors(401, 403, 404)
def list_enrollments(group):
    """The roster (by arrival) and the waiting list (by position)."""
    if not permissions.can_see_roster(current_user, group):
        raise Forbidden(_("The roster is for the group's organisers and facilitators."))
    return group_enrollment.roster(group) + group_enrollment.waiting_list(group)


@bp.post("/groups/<int:group_id>/enrollments")
@bp.doc(summary="Give a family a seat, or a waiting position")
@login_required
@loads(services.get_group)
@bp.arguments(EnrollmentSchema)
@bp.response(201, EnrollmentSchema, description="Created")
@bp.errors(401, 403, 404, 409)
def create_enrollment(group, fields):
    """Enroll a family's members, or put the family on the waiting list."""
    family = visible_family(fields["family_id"])
    enrollment = group_enrollment.enroll(current_user, group, family, fields["member_ids"],
                                         zone=unit_zone(), clock=get_clock())
    return enrollment


@bp.delete("/enrollments/<int:enrollment_id>")
@bp.doc(summary="Withdraw; the first waiting family moves up")
@login_required
@loads(group_enrollment.get_enrollment)
@bp.response(200, WithdrawalSchema)
@bp.errors(401, 403, 404, 409)
def delete_enrollment(enrollment):
    """Withdraw; answers the withdrawn enrollment and whoever moved up."""
    visible_family(enrollment.family_id)
    promoted = group_enrollment.withdraw(current_user, enrollment, clock=get_clock())
    return With(enrollment, promoted=promoted)


@bp.put("/sessions/<int:session_id>/attendance")
@bp.doc(summary="Record who attended")
@login_required
@loads(_attendance_session)
@bp.arguments(AttendanceSchema)
@bp.response(200, AttendanceRecordedSchema, description="Recorded")
@bp.errors(401, 403, 404, 409)
def put_attendance(session, fields):
    """Record who of the enrolled members came to the session."""
    entries = fields["attendance"]
    group_attendance.record_attendance(current_user, session,
                                       {entry["member_id"]: entry["present"] for entry in entries},
                                       clock=get_clock())
    rates = group_attendance.attendance_rates(session.group)
    present, recorded = rates.by_session.get(session.id, (0, 0))
    return AttendanceRecorded(session.id, present, recorded, entries)
