"""Peer groups over JSON: groups, sessions, places and the waiting list, attendance."""

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import fields

from core.api import API_ROOT, Blueprint, checks, loads
from core.clock import get_clock
from core.errors import Forbidden, ValidationFailed
from core.fields import (
    Body,
    Boolean,
    Choice,
    Date,
    Instant,
    Integer,
    List,
    Nested,
    Query,
    Text,
    Time,
)
from core.localtime import iso_local, unit_zone
from core.roles import login_required
from core.vocabulary import LANGUAGES, SUPPORT_AREAS, TRACKS
from extensions import db
from families.services import get_family
from groups import attendance as group_attendance
from groups import enrollment as group_enrollment
from groups import permissions, services
from groups import series as group_series
from groups.models import (
    DESCRIPTION_MAX,
    GROUP_STATUSES,
    NAME_MAX,
    SESSION_STATUSES,
    Enrollment,
    GroupSession,
    PeerGroup,
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
    """A peer group with its series and its places."""

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
    capacity = Integer(required=True, description="Places, in families")
    facilitator_ids = List(Integer(), max_items=10)
    enrollment_opens = Date(allow_none=True)
    enrollment_closes = Date(allow_none=True)
    status = Choice(GROUP_STATUSES, description="Changed on update; new groups are drafts")
    series = Nested(SeriesSchema, allow_none=True)
    enrolled = Integer(dump_only=True, minimum=0)
    waiting = Integer(dump_only=True, minimum=0)
    free_places = Integer(dump_only=True, minimum=0)


class GroupChangesSchema(GroupSchema):
    """A change of a group: any of its fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class SessionSchema(Body):
    """One session of a group."""

    id = Integer(dump_only=True)
    group_id = Integer(dump_only=True)
    start = Instant()
    end = Instant()
    venue = Text(120, allow_none=True)
    status = Choice(SESSION_STATUSES)
    sequence = Integer(dump_only=True, minimum=0)


class SessionChangesSchema(SessionSchema):
    """A change of a session: any of its fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class EnrollmentSchema(Body):
    """A family's place in a group, or its position on the waiting list."""

    id = Integer(dump_only=True)
    family_id = Integer(required=True)
    group_id = Integer(dump_only=True)
    status = Choice(ENROLLMENT_STATUSES, dump_only=True)
    position = Integer(dump_only=True, allow_none=True)
    member_ids = List(Integer(), required=True, max_items=20)


class WithdrawalSchema(EnrollmentSchema):
    """A withdrawn enrollment and the waiting ones that moved up to a place."""

    promoted = fields.List(fields.Nested(EnrollmentSchema), dump_only=True)


class AttendanceEntrySchema(Body):
    member_id = Integer(required=True)
    present = Boolean(required=True)


class AttendanceSchema(Body):
    """Who of a family's attending members came to a session."""

    attendance = Nested(AttendanceEntrySchema, many=True, required=True, max_items=200)


class AttendanceRecordedSchema(Body):
    """What was recorded, and the session's figures."""

    session_id = fields.Integer(required=True)
    present = fields.Integer(required=True)
    recorded = fields.Integer(required=True)
    attendance = fields.List(fields.Nested(AttendanceEntrySchema), required=True)


class Occurrence(Body):
    date = Date()
    start = Instant()
    end = Instant()


class SkippedDate(Body):
    """A date a series leaves out (a holiday, a blackout, removed by hand), with why."""

    date = Date()
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


def series_json(group: PeerGroup) -> dict | None:
    """A group's series as answered, or None."""
    if not group.series:
        return None
    series = group.series[0]
    return {
        "weekday": series.weekday,
        "start_time": series.start_time.strftime("%H:%M"),
        "duration_minutes": series.duration_minutes,
        "first_date": series.first_date.isoformat(),
        "count": series.count,
        "until": series.until.isoformat() if series.until else None,
        "interval_weeks": series.interval_weeks,
    }


def group_json(group: PeerGroup) -> dict:
    """A group as answered, with its places."""
    enrolled = group_enrollment.enrolled_count(group)
    return {
        "id": group.id,
        "name": group.name,
        "public_title": group.public_title,
        "description": group.description,
        "themes": list(group.themes),
        "min_age_months": group.min_age_months,
        "max_age_months": group.max_age_months,
        "tracks": list(group.tracks),
        "language": group.language,
        "municipalities": [m.name for m in group.municipalities],
        "venue": group.venue.name if group.venue else None,
        "capacity": group.capacity,
        "facilitator_ids": [user.id for user in group.facilitators],
        "enrollment_opens": group.enrollment_opens.isoformat()
        if group.enrollment_opens else None,
        "enrollment_closes": group.enrollment_closes.isoformat()
        if group.enrollment_closes else None,
        "status": group.status,
        "series": series_json(group),
        "enrolled": enrolled,
        "waiting": group_enrollment.waiting_count(group),
        "free_places": max(group.capacity - enrolled, 0),
    }


def session_json(session: GroupSession) -> dict:
    """A session as answered."""
    return {
        "id": session.id,
        "group_id": session.group_id,
        "start": iso_local(session.start),
        "end": iso_local(session.end),
        "venue": session.venue.name if session.venue else None,
        "status": session.status,
        "sequence": session.sequence,
    }


def enrollment_json(enrollment: Enrollment) -> dict:
    """An enrollment as answered."""
    return {
        "id": enrollment.id,
        "family_id": enrollment.family_id,
        "group_id": enrollment.group_id,
        "status": enrollment.status,
        "position": enrollment.position,
        "member_ids": [member.id for member in enrollment.members],
    }


def schedule_json(schedule, zone) -> dict:
    """A previewed schedule: its occurrences and the dates skipped, with why."""
    return {
        "occurrences": [{"date": o.day.isoformat(), "start": iso_local(o.start, zone),
                         "end": iso_local(o.end, zone)} for o in schedule.occurrences],
        "skipped": [{"date": s.day.isoformat(), "reason": s.reason}
                    for s in schedule.skipped],
    }


def _group_fields(fields, *, partial):
    if fields.get("series") is not None:
        fields["series"] = series_plan(fields["series"])
    elif "series" in fields:
        if not partial:
            del fields["series"]
        else:
            raise ValidationFailed(_("Check the fields."),
                                   fields={"series": _("A group's series cannot be removed.")})
    return fields


def _may_create_groups():
    if not permissions.can_manage(current_user):
        raise Forbidden(_("Groups are made by coordinators."))


def _managed_group(group_id):
    group = services.get_group(group_id)
    if not permissions.can_manage(current_user, group):
        raise Forbidden(_("You may not change this group."))
    return group


def _managed_session(session_id):
    session = group_series.get_session(session_id)
    if not permissions.can_manage(current_user, session.group):
        raise Forbidden(_("You may not change this group."))
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
    """Groups by municipality, status, theme, free places and name."""
    query = services.search_groups(
        municipality=arguments.get("municipality"),
        status=arguments.get("status"),
        theme=arguments.get("theme"),
        with_free_seats=arguments.get("free") in ("1", "true"),
        text=arguments.get("q", "")[:100])
    return [group_json(group) for group in db.session.scalars(query)]


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
    if "status" in fields:
        raise ValidationFailed(_("Check the fields."),
                               fields={"status": _("A new group starts as a draft.")})
    group = services.create_group(current_user, zone=unit_zone(), clock=get_clock(),
                                  **fields)
    return group_json(group), 201, {"Location": url_for(".get_group", group_id=group.id)}


@bp.post("/groups/series-preview")
@bp.doc(summary="The dates a series would have, and those it skips")
@login_required
@bp.arguments(SeriesSchema)
@bp.response(200, ScheduleSchema)
@bp.errors(401)
def preview_series(fields):
    """The dates a series would have and the ones it would skip; nothing is saved."""
    zone = unit_zone()
    return schedule_json(group_series.preview(series_plan(fields), zone), zone)


@bp.get("/groups/<int:group_id>")
@bp.doc(summary="A group")
@login_required
@loads(services.get_group)
@bp.response(200, GroupSchema)
@bp.errors(401, 404)
def get_group(group):
    """One group."""
    return group_json(group)


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
    return group_json(group)


@bp.get("/groups/<int:group_id>/sessions")
@bp.doc(summary="The group's sessions")
@login_required
@loads(services.get_group)
@bp.response(200, SessionSchema(many=True))
@bp.errors(401, 404)
def list_sessions(group):
    """The group's sessions in order."""
    return [session_json(session) for session in group.sessions]


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
    return session_json(session)


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
    entries = group_enrollment.roster(group) + group_enrollment.waiting_list(group)
    return [enrollment_json(enrollment) for enrollment in entries]


@bp.post("/groups/<int:group_id>/enrollments")
@bp.doc(summary="Give a family a place, or a waiting position")
@login_required
@loads(services.get_group)
@bp.arguments(EnrollmentSchema)
@bp.response(201, EnrollmentSchema, description="Created")
@bp.errors(401, 403, 404, 409)
def create_enrollment(group, fields):
    """Enroll a family's members, or put the family on the waiting list."""
    family = get_family(current_user, fields["family_id"], clock=get_clock())
    enrollment = group_enrollment.enroll(current_user, group, family, fields["member_ids"],
                                         zone=unit_zone(), clock=get_clock())
    return enrollment_json(enrollment)


@bp.delete("/enrollments/<int:enrollment_id>")
@bp.doc(summary="Withdraw; the first waiting family moves up")
@login_required
@loads(group_enrollment.get_enrollment)
@bp.response(200, WithdrawalSchema)
@bp.errors(401, 403, 404, 409)
def delete_enrollment(enrollment):
    """Withdraw; answers the withdrawn enrollment and whoever moved up."""
    get_family(current_user, enrollment.family_id, clock=get_clock())
    promoted = group_enrollment.withdraw(current_user, enrollment, clock=get_clock())
    return {**enrollment_json(enrollment),
            "promoted": [enrollment_json(entry) for entry in promoted]}


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
    return {"session_id": session.id, "present": present, "recorded": recorded,
            "attendance": entries}
