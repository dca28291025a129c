"""Peer groups over JSON: groups, sessions, places and the waiting list, attendance."""

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.api import error_responses, json_body, json_request, json_response, query_choice
from core.clock import get_clock
from core.errors import Forbidden, ValidationFailed
from core.localtime import iso_local, unit_zone
from core.roles import login_required
from core.schema import (
    Boolean,
    Choice,
    Date,
    Instant,
    Integer,
    ListOf,
    Nested,
    Object,
    Schema,
    String,
    Time,
)
from core.vocabulary import LANGUAGES, SUPPORT_AREAS, TRACKS
from extensions import db
from families.services import get_family
from groups import services
from groups.models import (
    DESCRIPTION_MAX,
    GROUP_STATUSES,
    NAME_MAX,
    SESSION_STATUSES,
    Enrollment,
    GroupSession,
    PeerGroup,
)

bp = Blueprint("groups_api", __name__, url_prefix="/api/v1")

SERIES = Schema("Series", {
    "weekday": Integer(required=True, description="1-7 from Monday"),
    "start_time": Time(required=True, description='Local time, "17:00"'),
    "duration_minutes": Integer(required=True),
    "first_date": Date(required=True),
    "count": Integer(nullable=True, description="Number of sessions; or give until"),
    "until": Date(nullable=True, description="Last date (inclusive); or give count"),
    "interval_weeks": Integer(description="1 weekly (default), 2 fortnightly"),
    "added_dates": ListOf(Date(), max_items=52, description="Single dates added by hand"),
    "removed_dates": ListOf(Date(), max_items=104,
                            description="Dates of the series left out by hand"),
    "skipped": ListOf(Date(), read_only=True,
                      description="Holidays, blackouts and removed dates, with reasons"),
})

GROUP = Schema("Group", {
    "id": Integer(read_only=True),
    "name": String(NAME_MAX, min_length=1, required=True),
    "public_title": String(NAME_MAX, description=(
        "The only name that leaves the system (feeds, reminders, pages families read);"
        " refused when it holds a word that must not (422, naming the word). Empty:"
        " called a group meeting. Omitted on creation: the name, where it may leave")),
    "description": String(DESCRIPTION_MAX, multiline=True),
    "themes": ListOf(Choice(SUPPORT_AREAS), max_items=len(SUPPORT_AREAS)),
    "min_age_months": Integer(minimum=0),
    "max_age_months": Integer(minimum=0),
    "tracks": ListOf(Choice(TRACKS), required=True, max_items=len(TRACKS)),
    "language": Choice(LANGUAGES),
    "municipalities": ListOf(String(120), required=True, max_items=20),
    "venue": String(120, nullable=True, description="The venue's name"),
    "capacity": Integer(required=True, description="Places, in families"),
    "facilitator_ids": ListOf(Integer(), max_items=10),
    "enrollment_opens": Date(nullable=True),
    "enrollment_closes": Date(nullable=True),
    "status": Choice(GROUP_STATUSES, description="Changed on update; new groups are drafts"),
    "series": Object(SERIES, nullable=True),
    "enrolled": Integer(read_only=True, minimum=0),
    "waiting": Integer(read_only=True, minimum=0),
    "free_places": Integer(read_only=True, minimum=0),
})

SESSION = Schema("Session", {
    "id": Integer(read_only=True),
    "group_id": Integer(read_only=True),
    "start": Instant(),
    "end": Instant(),
    "venue": String(120, nullable=True),
    "status": Choice(SESSION_STATUSES),
    "sequence": Integer(read_only=True, minimum=0),
})

ENROLLMENT = Schema("Enrollment", {
    "id": Integer(read_only=True),
    "family_id": Integer(required=True),
    "group_id": Integer(read_only=True),
    "status": Choice(("enrolled", "waitlisted", "withdrawn", "completed"), read_only=True),
    "position": Integer(read_only=True, nullable=True),
    "member_ids": ListOf(Integer(), required=True, max_items=20),
})

ATTENDANCE_ENTRY = Schema("AttendanceEntry", {
    "member_id": Integer(required=True),
    "present": Boolean(required=True),
})
ATTENDANCE = Schema("Attendance", {
    "attendance": Nested(ATTENDANCE_ENTRY, required=True, max_items=200),
})


def series_plan(fields: dict) -> services.SeriesPlan:
    """A series plan from the parsed series object."""
    rule = services.series_rule(
        weekday=fields.get("weekday"), start_time=fields.get("start_time"),
        duration_minutes=fields.get("duration_minutes"), first_date=fields.get("first_date"),
        count=fields.get("count"), until=fields.get("until"),
        interval_weeks=fields.get("interval_weeks", 1))
    return services.SeriesPlan(rule, tuple(fields.get("added_dates", ())),
                               tuple(fields.get("removed_dates", ())))


def series_json(group: PeerGroup) -> dict | None:
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
    enrolled = services.enrolled_count(group)
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
        "waiting": services.waiting_count(group),
        "free_places": max(group.capacity - enrolled, 0),
    }


def session_json(session: GroupSession) -> dict:
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
    return {
        "id": enrollment.id,
        "family_id": enrollment.family_id,
        "group_id": enrollment.group_id,
        "status": enrollment.status,
        "position": enrollment.position,
        "member_ids": [member.id for member in enrollment.members],
    }


def schedule_json(schedule, zone) -> dict:
    return {
        "occurrences": [{"date": o.day.isoformat(), "start": iso_local(o.start, zone),
                         "end": iso_local(o.end, zone)} for o in schedule.occurrences],
        "skipped": [{"date": s.day.isoformat(), "reason": s.reason}
                    for s in schedule.skipped],
    }


def _group_fields(payload, *, partial):
    fields = GROUP.parse(payload, partial=partial)
    if fields.get("series") is not None:
        fields["series"] = series_plan(fields["series"])
    elif "series" in fields:
        if not partial:
            del fields["series"]
        else:
            raise ValidationFailed(_("Check the fields."),
                                   fields={"series": _("A group's series cannot be removed.")})
    return fields


@bp.get("/groups")
@login_required
def list_groups():
    query = services.search_groups(
        municipality=request.args.get("municipality") or None,
        status=query_choice("status", GROUP_STATUSES),
        theme=query_choice("theme", SUPPORT_AREAS),
        with_free_places=request.args.get("free") in ("1", "true"),
        text=request.args.get("q", "")[:100])
    return jsonify([group_json(group) for group in db.session.scalars(query)])


@bp.post("/groups")
@login_required
def create_group():
    if not services.can_manage(current_user):
        raise Forbidden(_("Groups are made by coordinators."))
    fields = _group_fields(json_body(), partial=False)
    if "status" in fields:
        raise ValidationFailed(_("Check the fields."),
                               fields={"status": _("A new group starts as a draft.")})
    group = services.create_group(current_user, zone=unit_zone(), clock=get_clock(),
                                  **fields)
    response = jsonify(group_json(group))
    response.status_code = 201
    response.headers["Location"] = url_for(".get_group", group_id=group.id)
    return response


@bp.post("/groups/series-preview")
@login_required
def preview_series():
    """The dates a series would have and the ones it would skip; nothing is saved."""
    plan = series_plan(SERIES.parse(json_body()))
    zone = unit_zone()
    return jsonify(schedule_json(services.preview(plan, zone), zone))


@bp.get("/groups/<int:group_id>")
@login_required
def get_group(group_id):
    return jsonify(group_json(services.get_group(group_id)))


@bp.patch("/groups/<int:group_id>")
@login_required
def update_group(group_id):
    fields = _group_fields(json_body(), partial=True)
    group = services.get_group(group_id)
    services.update_group(current_user, group, fields, zone=unit_zone(), clock=get_clock())
    return jsonify(group_json(group))


@bp.get("/groups/<int:group_id>/sessions")
@login_required
def list_sessions(group_id):
    group = services.get_group(group_id)
    return jsonify([session_json(session) for session in group.sessions])


@bp.patch("/sessions/<int:session_id>")
@login_required
def update_session(session_id):
    fields = SESSION.parse(json_body(), partial=True)
    session = services.get_session(session_id)
    services.change_session(current_user, session, clock=get_clock(), **fields)
    return jsonify(session_json(session))


@bp.get("/groups/<int:group_id>/enrollments")
@login_required
def list_enrollments(group_id):
    """The roster (by arrival) and the waiting list (by position)."""
    group = services.get_group(group_id)
    if not services.can_see_roster(current_user, group):
        raise Forbidden(_("The roster is for the group's organisers and facilitators."))
    entries = services.roster(group) + services.waiting_list(group)
    return jsonify([enrollment_json(enrollment) for enrollment in entries])


@bp.post("/groups/<int:group_id>/enrollments")
@login_required
def create_enrollment(group_id):
    fields = ENROLLMENT.parse(json_body())
    group = services.get_group(group_id)
    family = get_family(current_user, fields["family_id"], clock=get_clock())
    enrollment = services.enroll(current_user, group, family, fields["member_ids"],
                                 zone=unit_zone(), clock=get_clock())
    return jsonify(enrollment_json(enrollment)), 201


@bp.delete("/enrollments/<int:enrollment_id>")
@login_required
def delete_enrollment(enrollment_id):
    """Withdraw; answers the withdrawn enrollment and whoever moved up."""
    enrollment = services.get_enrollment(enrollment_id)
    get_family(current_user, enrollment.family_id, clock=get_clock())
    promoted = services.withdraw(current_user, enrollment, clock=get_clock())
    return jsonify({**enrollment_json(enrollment),
                    "promoted": [enrollment_json(entry) for entry in promoted]})


@bp.put("/sessions/<int:session_id>/attendance")
@login_required
def put_attendance(session_id):
    session = services.get_session(session_id)
    if not services.can_record_attendance(current_user, session.group):
        raise Forbidden(_("Only the group's facilitators record attendance."))
    entries = ATTENDANCE.parse(json_body())["attendance"]
    services.record_attendance(current_user, session,
                               {entry["member_id"]: entry["present"] for entry in entries},
                               clock=get_clock())
    rates = services.attendance_rates(session.group)
    present, recorded = rates.by_session.get(session.id, (0, 0))
    return jsonify({"session_id": session.id, "present": present, "recorded": recorded,
                    "attendance": entries})


_GROUP_ID = [{"name": "group_id", "in": "path", "required": True,
              "schema": {"type": "integer"}}]
_SESSION_ID = [{"name": "session_id", "in": "path", "required": True,
                "schema": {"type": "integer"}}]

SCHEDULE_SCHEMA = {
    "type": "object",
    "properties": {
        "occurrences": {"type": "array", "items": {"type": "object", "properties": {
            "date": {"type": "string", "format": "date"},
            "start": {"type": "string", "format": "date-time"},
            "end": {"type": "string", "format": "date-time"}}}},
        "skipped": {"type": "array", "items": {"type": "object", "properties": {
            "date": {"type": "string", "format": "date"},
            "reason": {"type": "string"}}}},
    },
}

OPENAPI = {
    "schemas": {
        "Group": GROUP.json_schema(),
        "Series": SERIES.json_schema(),
        "Session": SESSION.json_schema(),
        "Enrollment": ENROLLMENT.json_schema(),
        "AttendanceEntry": ATTENDANCE_ENTRY.json_schema(),
        "Attendance": ATTENDANCE.json_schema(),
        "Schedule": SCHEDULE_SCHEMA,
    },
    "paths": {
        "/groups": {
            "get": {"summary": "Peer groups",
                    "parameters": [
                        {"name": "municipality", "in": "query", "schema": {"type": "string"}},
                        {"name": "status", "in": "query",
                         "schema": {"type": "string", "enum": list(GROUP_STATUSES)}},
                        {"name": "theme", "in": "query",
                         "schema": {"type": "string", "enum": list(SUPPORT_AREAS)}},
                        {"name": "free", "in": "query",
                         "schema": {"type": "string", "enum": ["true", "false", "1", "0"]}},
                        {"name": "q", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": json_response("Group", array=True),
                                  **error_responses(401, 422)}},
            "post": {"summary": "Create a group (a draft) with its session series",
                     "requestBody": json_request("Group"),
                     "responses": {"201": json_response("Group", "Created"),
                                   **error_responses(400, 401, 403, 422)}},
        },
        "/groups/series-preview": {
            "post": {"summary": "The dates a series would have, and those it skips",
                     "requestBody": json_request("Series"),
                     "responses": {"200": json_response("Schedule"),
                                   **error_responses(400, 401, 422)}},
        },
        "/groups/{group_id}": {
            "parameters": _GROUP_ID,
            "get": {"summary": "A group",
                    "responses": {"200": json_response("Group"), **error_responses(401, 404)}},
            "patch": {"summary": "Change a group, its capacity, series or status",
                      "requestBody": json_request("Group"),
                      "responses": {"200": json_response("Group"),
                                    **error_responses(400, 401, 403, 404, 409, 422)}},
        },
        "/groups/{group_id}/sessions": {
            "parameters": _GROUP_ID,
            "get": {"summary": "The group's sessions",
                    "responses": {"200": json_response("Session", array=True),
                                  **error_responses(401, 404)}},
        },
        "/sessions/{session_id}": {
            "parameters": _SESSION_ID,
            "patch": {"summary": "Move, cancel or restore one session",
                      "requestBody": json_request("Session"),
                      "responses": {"200": json_response("Session"),
                                    **error_responses(400, 401, 403, 404, 422)}},
        },
        "/groups/{group_id}/enrollments": {
            "parameters": _GROUP_ID,
            "get": {"summary": "The roster and the waiting list",
                    "responses": {"200": json_response("Enrollment", array=True),
                                  **error_responses(401, 403, 404)}},
            "post": {"summary": "Give a family a place, or a waiting position",
                     "requestBody": json_request("Enrollment"),
                     "responses": {"201": json_response("Enrollment", "Created"),
                                   **error_responses(400, 401, 403, 404, 409, 422)}},
        },
        "/enrollments/{enrollment_id}": {
            "parameters": [{"name": "enrollment_id", "in": "path", "required": True,
                            "schema": {"type": "integer"}}],
            "delete": {"summary": "Withdraw; the first waiting family moves up",
                       "responses": {"200": json_response("Enrollment"),
                                     **error_responses(401, 403, 404, 409)}},
        },
        "/sessions/{session_id}/attendance": {
            "parameters": _SESSION_ID,
            "put": {"summary": "Record who attended",
                    "requestBody": json_request("Attendance"),
                    "responses": {"200": {"description": "Recorded"},
                                  **error_responses(400, 401, 403, 404, 409, 422)}},
        },
    },
}
