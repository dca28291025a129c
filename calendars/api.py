"""Home visits and calendars over JSON: visits, a worker's events and free slots,
working hours and absences."""

from datetime import time, timedelta
from typing import NamedTuple

from flask import current_app, jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError, fields, missing

from calendars import services, working_time
from calendars.events import HOME_VISIT, worker_events
from calendars.feeds import tokens
from calendars.models import (
    ABSENCE_KINDS,
    FEED_OWNER_TYPES,
    FEED_PRIVACY_LEVELS,
    PLACE_MAX,
    REASON_MAX,
    VISIT_KINDS,
    VISIT_STATUSES,
    FeedToken,
    HomeVisit,
)
from calendars.sight import BUSY, shown_to
from calendars.slots import free_slots
from core.api import API_ROOT, Blueprint, check_fields, checks, created, loads, refuse_fields
from core.clock import get_clock
from core.errors import Forbidden, ValidationFailed
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
    WholeNumber,
    With,
    ids,
)
from core.localtime import local_datetime, local_today, unit_zone
from core.roles import login_required
from extensions import db
from families.api import visible_family
from families.services import record_listing
from groups.api import SkippedDate
from groups.series import series_rule

bp = Blueprint("calendars_api", __name__, url_prefix=API_ROOT)

MIDNIGHT = time(0)
MAX_RANGE_DAYS = 366
MAX_SLOT_RANGE_DAYS = 62
EVENT_TYPES = ("home_visit", "group_session", BUSY)


class VisitSeriesSchema(Body):
    """Regular visits: a weekday and a time, weekly or every few weeks."""

    weekday = Integer(required=True, description="1-7 from Monday")
    start_time = Time(required=True)
    duration_minutes = Integer(required=True)
    first_date = Date(required=True)
    count = Integer(allow_none=True)
    until = Date(allow_none=True)
    interval_weeks = Integer()
    removed_dates = List(Date(), max_items=104)


class VisitSchema(Body):
    """A home visit as answered; its place is null for those who may not see the
    family's address."""

    id = Integer(dump_only=True)
    family_id = Integer(required=True)
    worker_ids = List(Integer(), required=True, max_items=2)
    kind = Choice(VISIT_KINDS, required=True)
    start = Instant(description="Required unless a series is given")
    end = Instant(description="Required unless a series is given")
    place = Text(PLACE_MAX, allow_none=True,
                 description="The family's home when not given")
    municipality = Text(120, allow_none=True,
                        description="Where the visit is; the family's by default")
    status = Choice(VISIT_STATUSES)
    status_reason = Text(REASON_MAX)
    notes = Text(5000, multiline=True, description="Kept in the system only")
    sequence = Integer(dump_only=True, minimum=0)
    series_id = Integer(dump_only=True, allow_none=True)
    invited_social_worker_id = Integer(dump_only=True, allow_none=True)
    series = Nested(VisitSeriesSchema, allow_none=True, load_only=True,
                    description="Book regular visits instead of one")
    confirm = Boolean(load_only=True, description="Book despite soft clashes (warnings)")

    def read_worker_ids(self, visit):
        return ids(visit.workers)

    def read_place(self, visit):
        # The reader is the caller (services.visit_place).
        return services.visit_place(current_user, visit)

    def read_municipality(self, visit):
        return visit.municipality.name


class VisitInputSchema(VisitSchema):
    """A visit as booked: a place given is text, never null."""

    place = Text(PLACE_MAX, description="The family's home when not given")


class VisitChangesSchema(Changes, VisitInputSchema):
    """A change of a visit: any of its fields."""


class BookedSeries(NamedTuple):
    """The visits of a booked series and the dates it skipped."""

    visits: list[HomeVisit]
    skipped: list


class BookedSeriesSchema(Body):
    """The visits of a booked series and the dates it skipped, with why."""

    visits = fields.List(fields.Nested(VisitSchema), required=True)
    skipped = fields.List(fields.Nested(SkippedDate), required=True)


# What an event answers: busy time (a visit to a family the caller may not see)
# its times and status only; a visit its family, a session its group.
BUSY_FIELDS = frozenset({"type", "start", "end", "status"})
EVENT_FIELDS = BUSY_FIELDS | {"uid", "id", "sequence", "municipality", "place", "worker_ids"}
FIELDS_SHOWN = {BUSY: BUSY_FIELDS,
                HOME_VISIT: EVENT_FIELDS | {"kind", "family_id", "family_reference"}}
SESSION_FIELDS = EVENT_FIELDS | {"group_id", "group_name"}


class EventSchema(Body):
    """A visit or a group session in a worker's calendar. A visit to a family the
    caller may not see is busy time: its type, start, end and status only."""

    uid = fields.String()
    type = Choice(EVENT_TYPES, required=True)
    id = fields.Integer()
    start = Instant(required=True)
    end = Instant(required=True)
    status = fields.String(required=True)
    sequence = fields.Integer()
    municipality = fields.String(allow_none=True)
    place = fields.String(allow_none=True)
    worker_ids = fields.List(fields.Integer())
    kind = fields.String()
    family_id = fields.Integer()
    family_reference = fields.String()
    group_id = fields.Integer()
    group_name = fields.String()

    def get_attribute(self, event, attr, default):
        """An event's fields as shown (calendars.sight)."""
        if attr not in FIELDS_SHOWN.get(event.kind, SESSION_FIELDS):
            return missing
        if attr == "type":
            return event.kind
        if attr == "kind":
            return event.visit_kind
        return super().get_attribute(event, attr, default)


class SlotSchema(Body):
    """A start time where a visit fits."""

    start = Instant()
    end = Instant()
    travel_minutes = fields.Integer()
    preferred = fields.Boolean()


class RangeQuery(Query):
    start = Date(data_key="from", description="Today by default")
    end = Date(data_key="to", description="Six days after from by default")


class VisitListQuery(RangeQuery):
    worker = WholeNumber()
    family = WholeNumber()


class EventListQuery(RangeQuery):
    cancelled = fields.String(metadata={"enum": ["true", "false"],
                                        "description": "true: cancelled events too"})


class FreeSlotQuery(RangeQuery):
    duration = WholeNumber(low=15, high=services.MAX_VISIT_MINUTES, required=True)
    with_worker = WholeNumber()
    family = WholeNumber()
    limit = WholeNumber(high=500, load_default=50)


class AbsenceListQuery(Query):
    start = Date(data_key="from", description="Today by default")


def _settings():
    return services.CalendarSettings.from_config(current_app.config)


def _range(arguments, max_days):
    """The from and to dates of a query (inclusive), checked."""
    first = arguments.get("start") or local_today(get_clock().now())
    last = arguments.get("end") or first + timedelta(days=6)
    if last < first or (last - first).days >= max_days:
        raise ValidationFailed(_("Check the query parameters."), fields={
            "to": _("The range is 1 to %(n)d days, from before to.", n=max_days)})
    return first, last


def _span(arguments) -> tuple:
    """The instants from the start of a query's first day to the end of its last."""
    first, last = _range(arguments, MAX_RANGE_DAYS)
    zone = unit_zone()
    return (local_datetime(first, MIDNIGHT, zone),
            local_datetime(last + timedelta(days=1), MIDNIGHT, zone))


def _visit(visit_id):
    return services.get_visit(current_user, visit_id, clock=get_clock())


def _worker(worker_id):
    return services.get_worker(current_user, worker_id)


def _may_book():
    if not services.may_book(current_user):
        raise Forbidden(_("Your role does not allow booking visits."))


@bp.get("/visits")
@bp.doc(summary="Visits in a range that the caller may see")
@login_required
@bp.arguments(VisitListQuery, location="query")
@bp.response(200, VisitSchema(many=True))
@bp.errors(401)
def list_visits(arguments):
    """The visits in a range that the caller may see."""
    start, end = _span(arguments)
    query = services.visits_query(current_user, start=start, end=end,
                                  worker_id=arguments.get("worker"),
                                  family_id=arguments.get("family"))
    visits = db.session.scalars(query).all()
    record_listing(current_user, [visit.family for visit in visits], clock=get_clock())
    return visits


@bp.post("/visits")
@bp.doc(summary="Book a visit, or a series of visits", responses={"201": {
    "description": "Booked: the visit, or for a series its visits and skipped dates",
    "content": {"application/json": {"schema": {
        "oneOf": [VisitSchema, BookedSeriesSchema]}}}}})
@login_required
@checks(_may_book)
@bp.arguments(VisitInputSchema)
@bp.errors(401, 403, 404, 409)
def create_visit(fields):
    """Book a visit, or with ``series`` regular visits."""
    for name in ("status", "status_reason"):
        fields.pop(name, None)
    family = visible_family(fields.pop("family_id"))
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
        return jsonify(BookedSeriesSchema().dump(BookedSeries(visits, skipped))), 201
    check_fields({name: _("This field is required.") for name in ("start", "end")
                  if name not in fields})
    visit = services.book_visit(current_user, family, start=fields["start"],
                                end=fields["end"], municipality=fields.get("municipality"),
                                notes=fields.get("notes", ""), **common)
    return created(jsonify(VisitSchema().dump(visit)), ".get_visit", visit_id=visit.id)


@bp.get("/visits/<int:visit_id>")
@bp.doc(summary="A visit")
@login_required
@loads(_visit)
@bp.response(200, VisitSchema)
@bp.errors(401, 404)
def get_visit(visit):
    """One visit as the caller may see it."""
    return visit


@bp.patch("/visits/<int:visit_id>")
@bp.doc(summary="Move, reassign, cancel, mark done or note a visit")
@login_required
@loads(_visit)
@bp.arguments(VisitChangesSchema)
@bp.response(200, VisitSchema)
@bp.errors(401, 403, 404, 409)
def update_visit(visit, fields):
    """Change a visit; clashes need ``"confirm": true``."""
    refuse_fields(fields, family_id=_("Cannot be changed."), series=_("Cannot be changed."))
    confirm = fields.pop("confirm", False)
    services.update_visit(current_user, visit, fields, confirm=confirm, zone=unit_zone(),
                          settings=_settings(), clock=get_clock())
    return visit


@bp.delete("/visits/<int:visit_id>")
@bp.doc(summary="Remove a visit booked by mistake")
@login_required
@loads(_visit)
@bp.response(204, description="Removed")
@bp.errors(401, 403, 404)
def delete_visit(visit):
    """Remove a visit booked by mistake."""
    services.delete_visit(current_user, visit, clock=get_clock())
    return current_app.response_class(status=204)


@bp.get("/workers/<int:worker_id>/events")
@bp.doc(summary="A worker's visits and group sessions")
@login_required
@loads(_worker)
@bp.arguments(EventListQuery, location="query")
@bp.response(200, EventSchema(many=True))
@bp.errors(401, 404)
def worker_event_list(worker, arguments):
    """A worker's events in a range, as the caller may see them."""
    events = worker_events(worker.id, *_span(arguments),
                           include_cancelled=arguments.get("cancelled") == "true")
    return shown_to(current_user, events, clock=get_clock())


@bp.get("/workers/<int:worker_id>/free-slots")
@bp.doc(summary="Start times where a visit fits, best first")
@login_required
@loads(_worker)
@bp.arguments(FreeSlotQuery, location="query")
@bp.response(200, SlotSchema(many=True))
@bp.errors(401, 404)
def worker_free_slots(worker, arguments):
    """Free start times of the worker (and another) for a visit of some length."""
    first, last = _range(arguments, MAX_SLOT_RANGE_DAYS)
    worker_ids = [worker.id]
    with_worker = arguments.get("with_worker")
    if with_worker:
        worker_ids.append(services.get_worker(current_user, with_worker).id)
    family_id = arguments.get("family")
    family = visible_family(family_id) if family_id else None
    slots = free_slots(worker_ids, first_day=first, last_day=last,
                       duration_minutes=arguments["duration"], family=family,
                       zone=unit_zone(), settings=_settings(), now=get_clock().now())
    return slots[:arguments["limit"]]


class Weekday(Integer):
    """An ISO weekday: 1 (Monday) to 7."""

    def __init__(self, **kwargs):
        super().__init__(maximum=7, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(_("Expected a whole number."))
        if value not in working_time.WEEKDAYS:
            raise ValidationError(_("A weekday is 1 to 7, from Monday."))
        return value


class WorkingDaySchema(Body):
    weekday = Weekday(required=True, description="1-7 from Monday")
    start = Time(required=True)
    end = Time(required=True, description="After the start, on the same day")


class WorkingHoursSchema(Body):
    """A worker's hours, weekday by weekday."""

    default = Boolean(dump_only=True,
                      description="True while the worker works the unit's default hours")
    days = Nested(WorkingDaySchema, many=True, required=True, max_items=7,
                  description="The weekdays worked, each once; a weekday missing is"
                              " not worked")

    def read_days(self, hours):
        return [{"weekday": weekday, "start": start, "end": end}
                for weekday, (start, end) in sorted(hours.days.items())]


class AbsenceSchema(Body):
    """A worker's absence (leave, training)."""

    id = Integer(dump_only=True)
    worker_id = Integer(dump_only=True, attribute="user_id")
    kind = Choice(ABSENCE_KINDS, required=True)
    start = Instant(required=True)
    end = Instant(required=True, description="After the start, at most 366 days later")
    note = Text(REASON_MAX)
    confirm = Boolean(load_only=True,
                      description="Record it although visits or group sessions are"
                                  " booked in it (they stay booked)")


class AbsenceRecordedSchema(AbsenceSchema):
    """A recorded absence and what is booked in it."""

    booked = fields.List(fields.Nested(EventSchema), dump_only=True, required=True,
                         metadata={"description": "The visits and group sessions booked"
                                                  " in the absence, to be moved: they"
                                                  " stay booked"})


def _hours(worker) -> working_time.WeekHours:
    """The worker's hours: their own, or the unit's default."""
    return working_time.hours_of(worker, current_app.config["DEFAULT_WORKING_HOURS"])


def _hours_worker(worker_id):
    return working_time.get_worker(current_user, worker_id)


@bp.get("/workers/<int:worker_id>/working-hours")
@bp.doc(summary="A family worker's working hours, weekday by weekday")
@login_required
@loads(_hours_worker)
@bp.response(200, WorkingHoursSchema)
@bp.errors(401, 404)
def get_working_hours(worker):
    """The worker's hours."""
    return _hours(worker)


@bp.put("/workers/<int:worker_id>/working-hours")
@bp.doc(summary="Set the worker's own working hours (every weekday worked)")
@login_required
@loads(_hours_worker)
@bp.arguments(WorkingHoursSchema)
@bp.response(200, WorkingHoursSchema)
@bp.errors(401, 404)
def put_working_hours(worker, fields):
    """Set the worker's own hours; each weekday once."""
    days = {}
    for index, day in enumerate(fields["days"]):
        if day["weekday"] in days:
            check_fields({"days": _("[%(index)d] Weekday %(weekday)d is given twice.",
                                    index=index, weekday=day["weekday"])})
        days[day["weekday"]] = (day["start"], day["end"])
    working_time.set_hours(current_user, worker, days)
    return _hours(worker)


@bp.delete("/workers/<int:worker_id>/working-hours")
@bp.doc(summary="Forget the worker's own hours: the unit's default applies again")
@login_required
@loads(_hours_worker)
@bp.response(204, description="The default applies")
@bp.errors(401, 404)
def delete_working_hours(worker):
    """The unit's default hours apply to the worker again."""
    working_time.use_default_hours(current_user, worker)
    return current_app.response_class(status=204)


@bp.get("/workers/<int:worker_id>/absences")
@bp.doc(summary="A family worker's absences ending after the start of a day")
@login_required
@loads(_hours_worker)
@bp.arguments(AbsenceListQuery, location="query")
@bp.response(200, AbsenceSchema(many=True))
@bp.errors(401, 404)
def list_absences(worker, arguments):
    """The worker's absences from a day on (today by default)."""
    first = arguments.get("start") or local_today(get_clock().now())
    return working_time.absences_of(worker, local_datetime(first, MIDNIGHT, unit_zone()))


@bp.post("/workers/<int:worker_id>/absences")
@bp.doc(summary="Record an absence (leave, training); with visits or group sessions"
                " booked in it, only when confirmed")
@login_required
@loads(_hours_worker)
@bp.arguments(AbsenceSchema)
@bp.response(201, AbsenceRecordedSchema, description="Recorded, with what it covers")
@bp.errors(401, 404, 409)
def create_absence(worker, fields):
    """Record an absence of the worker."""
    absence, booked = working_time.add_absence(
        current_user, worker, kind=fields["kind"], start=fields["start"],
        end=fields["end"], note=fields.get("note", ""),
        confirm=fields.get("confirm", False))
    return With(absence, booked=booked)


@bp.delete("/absences/<int:absence_id>")
@bp.doc(summary="Remove an absence")
@login_required
@loads(lambda absence_id: working_time.get_absence(current_user, absence_id))
@bp.response(204, description="Removed")
@bp.errors(401, 404)
def delete_absence(absence):
    """Remove an absence."""
    working_time.delete_absence(current_user, absence)
    return current_app.response_class(status=204)


class FeedSchema(Body):
    """A calendar feed of a worker, a group or a family."""

    id = Integer(dump_only=True)
    owner_type = Choice(FEED_OWNER_TYPES, required=True)
    owner_id = Integer(required=True)
    privacy = Choice(FEED_PRIVACY_LEVELS, description="minimal by default")
    locale = Choice(("fi", "en"), description="The language of the feed's texts")
    url = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "Only in the answer that creates or rotates the feed"})
    webcal_url = fields.String(dump_only=True, allow_none=True)
    created_at = Instant(dump_only=True)
    last_used_at = Instant(dump_only=True, allow_none=True)

    def get_attribute(self, feed, attr, default):
        """A feed's fields; its addresses only from the secret just made (NewFeed)."""
        secret = None
        if isinstance(feed, NewFeed):
            feed, secret = feed
        if attr in ("url", "webcal_url"):
            return feed_urls(secret)[attr == "webcal_url"] if secret else None
        return super().get_attribute(feed, attr, default)


class NewFeed(NamedTuple):
    """A feed just made, and the secret of its addresses (answered this once)."""

    feed: FeedToken
    secret: str


def feed_urls(secret: str) -> tuple[str, str]:
    """The https and webcal addresses of a feed's secret."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    url = f"{base}{url_for('feeds.feed', token=secret)}"
    return url, "webcal://" + url.split("://", 1)[1]


# A feed's secret is in the answer that makes it: no cache may keep it.
NO_STORE = {"Cache-Control": "no-store"}


def _feed(feed_id):
    return tokens.get_feed(current_user, feed_id)


@bp.get("/feeds")
@bp.doc(summary="The caller's calendar feeds")
@login_required
@bp.response(200, FeedSchema(many=True))
@bp.errors(401)
def list_feeds():
    """The caller's live feeds (their secrets are not kept, so no URLs)."""
    return tokens.feeds_of(current_user)


@bp.post("/feeds")
@bp.doc(summary="A calendar feed of a worker, a group or a family")
@login_required
@bp.arguments(FeedSchema)
@bp.response(201, FeedSchema, description="Created")
@bp.errors(401, 404)
def create_feed(fields):
    """Make a feed; its address is in this answer only."""
    feed, secret = tokens.create_feed(
        current_user, detailed_allowed=current_app.config["FEED_DETAILED_ALLOWED"],
        clock=get_clock(), **fields)
    return NewFeed(feed, secret), 201, NO_STORE


@bp.post("/feeds/<int:feed_id>/rotate")
@bp.doc(summary="A new URL for the feed; the old one stops at once")
@login_required
@loads(_feed)
@bp.response(201, FeedSchema, description="Created")
@bp.errors(401, 404)
def rotate_feed(feed):
    """Replace the feed's secret; the old address stops at once."""
    new, secret = tokens.rotate_feed(
        current_user, feed, detailed_allowed=current_app.config["FEED_DETAILED_ALLOWED"],
        clock=get_clock())
    return NewFeed(new, secret), 201, NO_STORE


@bp.delete("/feeds/<int:feed_id>")
@bp.doc(summary="Revoke a feed: its URL answers 404 at once")
@login_required
@loads(_feed)
@bp.response(204, description="Revoked")
@bp.errors(401, 404)
def delete_feed(feed):
    """Revoke a feed."""
    tokens.revoke_feed(current_user, feed, clock=get_clock())
    return current_app.response_class(status=204)
