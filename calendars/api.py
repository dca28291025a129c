"""Home visits and calendars over JSON: visits, a worker's events and free slots,
working hours and absences."""

from datetime import time, timedelta

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from calendars import services, working_time
from calendars.events import HOME_VISIT, Event, worker_events
from calendars.models import (
    ABSENCE_KINDS,
    FEED_OWNER_TYPES,
    FEED_PRIVACY_LEVELS,
    PLACE_MAX,
    REASON_MAX,
    VISIT_KINDS,
    VISIT_STATUSES,
    Absence,
    HomeVisit,
)
from calendars.sight import BUSY, shown_to
from core.api import (
    error_responses,
    json_body,
    json_request,
    json_response,
    query_date,
    query_int,
)
from core.clock import get_clock
from core.errors import Forbidden, ValidationFailed
from core.localtime import iso_local, local_datetime, local_today, unit_zone
from core.roles import login_required
from core.schema import (
    Boolean,
    Choice,
    Date,
    FieldError,
    Instant,
    Integer,
    ListOf,
    Nested,
    Object,
    Schema,
    String,
    Time,
)
from extensions import db
from families.services import get_family, record_listing
from groups.services import series_rule

bp = Blueprint("calendars_api", __name__, url_prefix="/api/v1")

MIDNIGHT = time(0)
MAX_RANGE_DAYS = 366
MAX_SLOT_RANGE_DAYS = 62

VISIT_SERIES = Schema("VisitSeries", {
    "weekday": Integer(required=True, description="1-7 from Monday"),
    "start_time": Time(required=True),
    "duration_minutes": Integer(required=True),
    "first_date": Date(required=True),
    "count": Integer(nullable=True),
    "until": Date(nullable=True),
    "interval_weeks": Integer(),
    "removed_dates": ListOf(Date(), max_items=104),
})

VISIT = Schema("Visit", {
    "id": Integer(read_only=True),
    "family_id": Integer(required=True),
    "worker_ids": ListOf(Integer(), required=True, max_items=2),
    "kind": Choice(VISIT_KINDS, required=True),
    "start": Instant(description="Required unless a series is given"),
    "end": Instant(description="Required unless a series is given"),
    "place": String(PLACE_MAX, description="The family's home when not given"),
    "municipality": String(120, nullable=True,
                           description="Where the visit is; the family's by default"),
    "status": Choice(VISIT_STATUSES),
    "status_reason": String(REASON_MAX),
    "notes": String(5000, multiline=True, description="Kept in the system only"),
    "sequence": Integer(read_only=True, minimum=0),
    "series": Object(VISIT_SERIES, nullable=True,
                     description="Book regular visits instead of one"),
    "confirm": Boolean(description="Book despite soft clashes (warnings)"),
})


def visit_json(visit: HomeVisit, reader) -> dict:
    """A visit as ``reader`` may see it: its place is null where the family's
    address is under non-disclosure and the reader may not see it."""
    return {
        "id": visit.id,
        "family_id": visit.family_id,
        "worker_ids": [worker.id for worker in visit.workers],
        "kind": visit.kind,
        "start": iso_local(visit.start),
        "end": iso_local(visit.end),
        "place": services.visit_place(reader, visit),
        "municipality": visit.municipality.name,
        "status": visit.status,
        "status_reason": visit.status_reason,
        "notes": visit.notes,
        "sequence": visit.sequence,
        "series_id": visit.series_id,
        "invited_social_worker_id": visit.invited_social_worker_id,
    }


def event_json(event: Event) -> dict:
    """An event as shown (calendars.sight): busy time is its times and status only."""
    if event.kind == BUSY:
        return {"type": BUSY, "start": iso_local(event.start), "end": iso_local(event.end),
                "status": event.status}
    data = {
        "uid": event.uid,
        "type": event.kind,
        "id": event.id,
        "start": iso_local(event.start),
        "end": iso_local(event.end),
        "status": event.status,
        "sequence": event.sequence,
        "municipality": event.municipality,
        "place": event.place,
        "worker_ids": list(event.worker_ids),
    }
    if event.kind == HOME_VISIT:
        data.update(kind=event.visit_kind, family_id=event.family_id,
                    family_reference=event.family_reference)
    else:
        data.update(group_id=event.group_id, group_name=event.group_name)
    return data


def _settings():
    return services.CalendarSettings.from_config(current_app.config)


def _range(max_days):
    """The from and to dates of a query (inclusive), checked."""
    today = local_today(get_clock().now())
    first = query_date("from", today)
    last = query_date("to", first + timedelta(days=6))
    if last < first or (last - first).days >= max_days:
        raise ValidationFailed(_("Check the query parameters."), fields={
            "to": _("The range is 1 to %(n)d days, from before to.", n=max_days)})
    return first, last


@bp.get("/visits")
@login_required
def list_visits():
    first, last = _range(MAX_RANGE_DAYS)
    zone = unit_zone()
    query = services.visits_query(
        current_user, start=local_datetime(first, MIDNIGHT, zone),
        end=local_datetime(last + timedelta(days=1), MIDNIGHT, zone),
        worker_id=query_int("worker"), family_id=query_int("family"))
    visits = list(db.session.scalars(query))
    shown = {visit.family_id: visit.family for visit in visits}
    if shown:
        record_listing(current_user, [shown[key] for key in sorted(shown)],
                       clock=get_clock())
    return jsonify([visit_json(visit, current_user) for visit in visits])


@bp.post("/visits")
@login_required
def create_visit():
    if not services.may_book(current_user):
        raise Forbidden(_("Your role does not allow booking visits."))
    fields = VISIT.parse(json_body())
    for name in ("status", "status_reason"):
        fields.pop(name, None)
    family = get_family(current_user, fields.pop("family_id"), clock=get_clock())
    series = fields.pop("series", None)
    common = dict(kind=fields["kind"], worker_ids=fields["worker_ids"],
                  place=fields.get("place"), confirm=fields.get("confirm", False),
                  zone=unit_zone(), settings=_settings(), clock=get_clock())
    if series is not None:
        rule = series_rule(
            weekday=series.get("weekday"), start_time=series.get("start_time"),
            duration_minutes=series.get("duration_minutes"),
            first_date=series.get("first_date"), count=series.get("count"),
            until=series.get("until"), interval_weeks=series.get("interval_weeks", 1))
        visits, skipped = services.book_series(
            current_user, family, rule=rule, removed=series.get("removed_dates", ()),
            **common)
        return jsonify({"visits": [visit_json(visit, current_user) for visit in visits],
                        "skipped": [{"date": s.day.isoformat(), "reason": s.reason}
                                    for s in skipped]}), 201
    missing = {name: _("This field is required.") for name in ("start", "end")
               if name not in fields}
    if missing:
        raise ValidationFailed(_("Check the fields."), fields=missing)
    visit = services.book_visit(current_user, family, start=fields["start"],
                                end=fields["end"], municipality=fields.get("municipality"),
                                notes=fields.get("notes", ""), **common)
    response = jsonify(visit_json(visit, current_user))
    response.status_code = 201
    response.headers["Location"] = url_for(".get_visit", visit_id=visit.id)
    return response


@bp.get("/visits/<int:visit_id>")
@login_required
def get_visit(visit_id):
    visit = services.get_visit(current_user, visit_id, clock=get_clock())
    return jsonify(visit_json(visit, current_user))


@bp.patch("/visits/<int:visit_id>")
@login_required
def update_visit(visit_id):
    fields = VISIT.parse(json_body(), partial=True)
    if "family_id" in fields or "series" in fields:
        raise ValidationFailed(_("Check the fields."), fields={
            name: _("Cannot be changed.") for name in ("family_id", "series")
            if name in fields})
    confirm = fields.pop("confirm", False)
    visit = services.get_visit(current_user, visit_id, clock=get_clock())
    services.update_visit(current_user, visit, fields, confirm=confirm, zone=unit_zone(),
                          settings=_settings(), clock=get_clock())
    return jsonify(visit_json(visit, current_user))


@bp.delete("/visits/<int:visit_id>")
@login_required
def delete_visit(visit_id):
    visit = services.get_visit(current_user, visit_id, clock=get_clock())
    services.delete_visit(current_user, visit, clock=get_clock())
    return "", 204


@bp.get("/workers/<int:worker_id>/events")
@login_required
def worker_event_list(worker_id):
    worker = services.get_worker(current_user, worker_id)
    first, last = _range(MAX_RANGE_DAYS)
    zone = unit_zone()
    events = worker_events(worker.id, local_datetime(first, MIDNIGHT, zone),
                           local_datetime(last + timedelta(days=1), MIDNIGHT, zone),
                           include_cancelled=request.args.get("cancelled") == "true")
    shown = shown_to(current_user, events, clock=get_clock())
    return jsonify([event_json(event) for event in shown])


@bp.get("/workers/<int:worker_id>/free-slots")
@login_required
def worker_free_slots(worker_id):
    worker = services.get_worker(current_user, worker_id)
    first, last = _range(MAX_SLOT_RANGE_DAYS)
    duration = query_int("duration", required=True, low=15,
                         high=services.MAX_VISIT_MINUTES)
    worker_ids = [worker.id]
    with_worker = query_int("with_worker")
    if with_worker:
        worker_ids.append(services.get_worker(current_user, with_worker).id)
    family_id = query_int("family")
    family = get_family(current_user, family_id, clock=get_clock()) if family_id else None
    slots = services.free_slots(worker_ids, first_day=first, last_day=last,
                                duration_minutes=duration, family=family,
                                zone=unit_zone(), settings=_settings(),
                                now=get_clock().now())
    limit = query_int("limit", 50, high=500)
    return jsonify([{"start": iso_local(slot.start), "end": iso_local(slot.end),
                     "travel_minutes": slot.travel_minutes, "preferred": slot.preferred}
                    for slot in slots[:limit]])


class Weekday(Integer):
    """An ISO weekday: 1 (Monday) to 7."""

    def convert(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(_("Expected a whole number."))
        if value not in working_time.WEEKDAYS:
            raise FieldError(_("A weekday is 1 to 7, from Monday."))
        return value

    def json_schema(self):
        return {**super().json_schema(), "maximum": 7}


WORKING_DAY = Schema("WorkingDay", {
    "weekday": Weekday(required=True, description="1-7 from Monday"),
    "start": Time(required=True),
    "end": Time(required=True, description="After the start, on the same day"),
})

WORKING_HOURS = Schema("WorkingHours", {
    "default": Boolean(read_only=True,
                       description="True while the worker works the unit's default hours"),
    "days": Nested(WORKING_DAY, required=True, max_items=7,
                   description="The weekdays worked, each once; a weekday missing is"
                               " not worked"),
})

ABSENCE = Schema("Absence", {
    "id": Integer(read_only=True),
    "worker_id": Integer(read_only=True),
    "kind": Choice(ABSENCE_KINDS, required=True),
    "start": Instant(required=True),
    "end": Instant(required=True, description="After the start, at most 366 days later"),
    "note": String(REASON_MAX),
    "confirm": Boolean(description="Record it although visits or group sessions are"
                                   " booked in it (they stay booked)"),
})


def working_hours_json(worker) -> dict:
    hours = working_time.hours_of(worker, current_app.config["DEFAULT_WORKING_HOURS"])
    return {"default": hours.default,
            "days": [{"weekday": weekday, "start": start.strftime("%H:%M"),
                      "end": end.strftime("%H:%M")}
                     for weekday, (start, end) in sorted(hours.days.items())]}


def absence_json(absence: Absence) -> dict:
    return {"id": absence.id, "worker_id": absence.user_id, "kind": absence.kind,
            "start": iso_local(absence.start), "end": iso_local(absence.end),
            "note": absence.note}


@bp.get("/workers/<int:worker_id>/working-hours")
@login_required
def get_working_hours(worker_id):
    worker = working_time.get_worker(current_user, worker_id)
    return jsonify(working_hours_json(worker))


@bp.put("/workers/<int:worker_id>/working-hours")
@login_required
def put_working_hours(worker_id):
    worker = working_time.get_worker(current_user, worker_id)
    fields = WORKING_HOURS.parse(json_body())
    days = {}
    for index, day in enumerate(fields["days"]):
        if day["weekday"] in days:
            raise ValidationFailed(_("Check the fields."), fields={"days": _(
                "[%(index)d] Weekday %(weekday)d is given twice.", index=index,
                weekday=day["weekday"])})
        days[day["weekday"]] = (day["start"], day["end"])
    working_time.set_hours(current_user, worker, days)
    return jsonify(working_hours_json(worker))


@bp.delete("/workers/<int:worker_id>/working-hours")
@login_required
def delete_working_hours(worker_id):
    worker = working_time.get_worker(current_user, worker_id)
    working_time.use_default_hours(current_user, worker)
    return "", 204


@bp.get("/workers/<int:worker_id>/absences")
@login_required
def list_absences(worker_id):
    worker = working_time.get_worker(current_user, worker_id)
    first = query_date("from", local_today(get_clock().now()))
    absences = working_time.absences_of(worker, local_datetime(first, MIDNIGHT, unit_zone()))
    return jsonify([absence_json(absence) for absence in absences])


@bp.post("/workers/<int:worker_id>/absences")
@login_required
def create_absence(worker_id):
    worker = working_time.get_worker(current_user, worker_id)
    fields = ABSENCE.parse(json_body())
    absence, booked = working_time.add_absence(
        current_user, worker, kind=fields["kind"], start=fields["start"],
        end=fields["end"], note=fields.get("note", ""),
        confirm=fields.get("confirm", False))
    return jsonify({**absence_json(absence),
                    "booked": [event_json(event) for event in booked]}), 201


@bp.delete("/absences/<int:absence_id>")
@login_required
def delete_absence(absence_id):
    absence = working_time.get_absence(current_user, absence_id)
    working_time.delete_absence(current_user, absence)
    return "", 204


FEED = Schema("Feed", {
    "id": Integer(read_only=True),
    "owner_type": Choice(FEED_OWNER_TYPES, required=True),
    "owner_id": Integer(required=True),
    "privacy": Choice(FEED_PRIVACY_LEVELS, description="minimal by default"),
    "locale": Choice(("fi", "en"), description="The language of the feed's texts"),
    "url": String(300, read_only=True, nullable=True,
                  description="Only in the answer that creates or rotates the feed"),
    "webcal_url": String(300, read_only=True, nullable=True),
})


def feed_urls(secret: str) -> tuple[str, str]:
    """The https and webcal addresses of a feed's secret."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    url = f"{base}{url_for('feeds.feed', token=secret)}"
    return url, "webcal://" + url.split("://", 1)[1]


def feed_json(feed, secret: str | None = None) -> dict:
    url, webcal = feed_urls(secret) if secret else (None, None)
    return {"id": feed.id, "owner_type": feed.owner_type, "owner_id": feed.owner_id,
            "privacy": feed.privacy, "locale": feed.locale, "url": url,
            "webcal_url": webcal,
            "created_at": iso_local(feed.created_at),
            "last_used_at": iso_local(feed.last_used_at)}


@bp.get("/feeds")
@login_required
def list_feeds():
    """The caller's live feeds (their secrets are not kept, so no URLs)."""
    return jsonify([feed_json(feed) for feed in services.feeds_of(current_user)])


@bp.post("/feeds")
@login_required
def create_feed():
    fields = FEED.parse(json_body())
    feed, secret = services.create_feed(
        current_user, detailed_allowed=current_app.config["FEED_DETAILED_ALLOWED"],
        clock=get_clock(), **fields)
    return _with_secret(feed_json(feed, secret))


@bp.post("/feeds/<int:feed_id>/rotate")
@login_required
def rotate_feed(feed_id):
    feed = services.get_feed(current_user, feed_id)
    new, secret = services.rotate_feed(
        current_user, feed, detailed_allowed=current_app.config["FEED_DETAILED_ALLOWED"],
        clock=get_clock())
    return _with_secret(feed_json(new, secret))


def _with_secret(document: dict):
    """A 201 that carries a feed's secret, which no cache may keep."""
    response = jsonify(document)
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/feeds/<int:feed_id>")
@login_required
def delete_feed(feed_id):
    services.revoke_feed(current_user, services.get_feed(current_user, feed_id),
                         clock=get_clock())
    return "", 204


_VISIT_ID = [{"name": "visit_id", "in": "path", "required": True,
              "schema": {"type": "integer"}}]
_WORKER_ID = [{"name": "worker_id", "in": "path", "required": True,
               "schema": {"type": "integer"}}]
_RANGE = [{"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
          {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}}]

EVENT_SCHEMA = {"type": "object", "required": ["type", "start", "end", "status"],
                "description": "A visit to a family the caller may not see is busy"
                               " time: its type, start, end and status only",
                "properties": {
    "uid": {"type": "string"}, "type": {"type": "string",
                                        "enum": ["home_visit", "group_session", BUSY]},
    "id": {"type": "integer"}, "start": {"type": "string", "format": "date-time"},
    "end": {"type": "string", "format": "date-time"}, "status": {"type": "string"},
    "sequence": {"type": "integer"}, "municipality": {"type": ["string", "null"]},
    "place": {"type": ["string", "null"]},
    "worker_ids": {"type": "array", "items": {"type": "integer"}},
    "kind": {"type": "string"}, "family_id": {"type": "integer"},
    "family_reference": {"type": "string"}, "group_id": {"type": "integer"},
    "group_name": {"type": "string"}}}
SLOT_SCHEMA = {"type": "object", "properties": {
    "start": {"type": "string", "format": "date-time"},
    "end": {"type": "string", "format": "date-time"},
    "travel_minutes": {"type": "integer"}, "preferred": {"type": "boolean"}}}

BOOKED_SERIES_SCHEMA = {"type": "object", "required": ["visits", "skipped"], "properties": {
    "visits": {"type": "array", "items": {"$ref": "#/components/schemas/Visit"}},
    "skipped": {"type": "array", "items": {"type": "object", "properties": {
        "date": {"type": "string", "format": "date"}, "reason": {"type": "string"}}}}}}

_FEED_ID = [{"name": "feed_id", "in": "path", "required": True,
             "schema": {"type": "integer"}}]
_ABSENCE_ID = [{"name": "absence_id", "in": "path", "required": True,
                "schema": {"type": "integer"}}]

WORKING_HOURS_SCHEMA = WORKING_HOURS.json_schema()
WORKING_HOURS_SCHEMA["properties"]["days"]["minItems"] = 1
ABSENCE_RECORDED_SCHEMA = {"allOf": [
    {"$ref": "#/components/schemas/Absence"},
    {"type": "object", "required": ["booked"], "properties": {"booked": {
        "type": "array", "items": {"$ref": "#/components/schemas/Event"},
        "description": "The visits and group sessions booked in the absence, to be"
                       " moved: they stay booked"}}}]}

OPENAPI = {
    "schemas": {"Feed": FEED.json_schema(), "Visit": VISIT.json_schema(),
                "BookedSeries": BOOKED_SERIES_SCHEMA,
                "VisitSeries": VISIT_SERIES.json_schema(), "Event": EVENT_SCHEMA,
                "Slot": SLOT_SCHEMA, "WorkingDay": WORKING_DAY.json_schema(),
                "WorkingHours": WORKING_HOURS_SCHEMA, "Absence": ABSENCE.json_schema()},
    "paths": {
        "/feeds": {
            "get": {"summary": "The caller's calendar feeds",
                    "responses": {"200": json_response("Feed", array=True),
                                  **error_responses(401)}},
            "post": {"summary": "A calendar feed of a worker, a group or a family",
                     "requestBody": json_request("Feed"),
                     "responses": {"201": json_response("Feed", "Created"),
                                   **error_responses(400, 401, 404, 422)}},
        },
        "/feeds/{feed_id}": {
            "parameters": _FEED_ID,
            "delete": {"summary": "Revoke a feed: its URL answers 404 at once",
                       "responses": {"204": {"description": "Revoked"},
                                     **error_responses(401, 404)}},
        },
        "/feeds/{feed_id}/rotate": {
            "parameters": _FEED_ID,
            "post": {"summary": "A new URL for the feed; the old one stops at once",
                     "responses": {"201": json_response("Feed", "Created"),
                                   **error_responses(401, 404)}},
        },
        "/visits": {
            "get": {"summary": "Visits in a range that the caller may see",
                    "parameters": [*_RANGE,
                                   {"name": "worker", "in": "query",
                                    "schema": {"type": "integer"}},
                                   {"name": "family", "in": "query",
                                    "schema": {"type": "integer"}}],
                    "responses": {"200": json_response("Visit", array=True),
                                  **error_responses(401, 422)}},
            "post": {"summary": "Book a visit, or a series of visits",
                     "requestBody": json_request("Visit"),
                     "responses": {"201": {"description": "Booked: the visit, or for a"
                                                          " series its visits and skipped dates",
                                           "content": {"application/json": {"schema": {
                                               "oneOf": [
                                                   {"$ref": "#/components/schemas/Visit"},
                                                   {"$ref": "#/components/schemas/"
                                                            "BookedSeries"}]}}}},
                                   **error_responses(400, 401, 403, 404, 409, 422)}},
        },
        "/visits/{visit_id}": {
            "parameters": _VISIT_ID,
            "get": {"summary": "A visit",
                    "responses": {"200": json_response("Visit"), **error_responses(401, 404)}},
            "patch": {"summary": "Move, reassign, cancel, mark done or note a visit",
                      "requestBody": json_request("Visit"),
                      "responses": {"200": json_response("Visit"),
                                    **error_responses(400, 401, 403, 404, 409, 422)}},
            "delete": {"summary": "Remove a visit booked by mistake",
                       "responses": {"204": {"description": "Removed"},
                                     **error_responses(401, 403, 404)}},
        },
        "/workers/{worker_id}/events": {
            "parameters": _WORKER_ID,
            "get": {"summary": "A worker's visits and group sessions",
                    "parameters": _RANGE,
                    "responses": {"200": json_response("Event", array=True),
                                  **error_responses(401, 404, 422)}},
        },
        "/workers/{worker_id}/free-slots": {
            "parameters": _WORKER_ID,
            "get": {"summary": "Start times where a visit fits, best first",
                    "parameters": [*_RANGE,
                                   {"name": "duration", "in": "query", "required": True,
                                    "schema": {"type": "integer", "minimum": 15}},
                                   {"name": "with_worker", "in": "query",
                                    "schema": {"type": "integer"}},
                                   {"name": "family", "in": "query",
                                    "schema": {"type": "integer"}},
                                   {"name": "limit", "in": "query",
                                    "schema": {"type": "integer"}}],
                    "responses": {"200": json_response("Slot", array=True),
                                  **error_responses(401, 404, 422)}},
        },
        "/workers/{worker_id}/working-hours": {
            "parameters": _WORKER_ID,
            "get": {"summary": "A family worker's working hours, weekday by weekday",
                    "responses": {"200": json_response("WorkingHours"),
                                  **error_responses(401, 404)}},
            "put": {"summary": "Set the worker's own working hours (every weekday worked)",
                    "requestBody": json_request("WorkingHours"),
                    "responses": {"200": json_response("WorkingHours"),
                                  **error_responses(400, 401, 404, 422)}},
            "delete": {"summary": "Forget the worker's own hours: the unit's default"
                                  " applies again",
                       "responses": {"204": {"description": "The default applies"},
                                     **error_responses(401, 404)}},
        },
        "/workers/{worker_id}/absences": {
            "parameters": _WORKER_ID,
            "get": {"summary": "A family worker's absences ending after the start of a day",
                    "parameters": [{"name": "from", "in": "query",
                                    "description": "Today by default",
                                    "schema": {"type": "string", "format": "date"}}],
                    "responses": {"200": json_response("Absence", array=True),
                                  **error_responses(401, 404, 422)}},
            "post": {"summary": "Record an absence (leave, training); with visits or"
                                " group sessions booked in it, only when confirmed",
                     "requestBody": json_request("Absence"),
                     "responses": {"201": {"description": "Recorded, with what it covers",
                                           "content": {"application/json": {
                                               "schema": ABSENCE_RECORDED_SCHEMA}}},
                                   **error_responses(400, 401, 404, 409, 422)}},
        },
        "/absences/{absence_id}": {
            "parameters": _ABSENCE_ID,
            "delete": {"summary": "Remove an absence",
                       "responses": {"204": {"description": "Removed"},
                                     **error_responses(401, 404)}},
        },
    },
}
