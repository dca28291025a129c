"""Reminders over JSON: the outbox, retrying and cancelling, and the policy."""

from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError, fields

from core.api import API_ROOT, Blueprint, loads
from core.clock import get_clock
from core.fields import (
    Body,
    Choice,
    Instant,
    Integer,
    Messages,
    Nested,
    Query,
    Time,
    WholeNumber,
)
from core.localtime import iso_local
from core.roles import ADMIN, COORDINATOR, roles_required
from extensions import db
from reminders import services
from reminders.models import (
    CHANNELS,
    EVENT_TYPES,
    POLICY_KINDS,
    PURPOSES,
    STATUSES,
    Reminder,
)

bp = Blueprint("reminders_api", __name__, url_prefix=API_ROOT)

MAX_PER_PAGE = 200
MAX_PAGE = 100_000


class LeadHours(Messages, fields.List):
    """Up to three lead times in whole hours for one kind of event ([] for none)."""

    def __init__(self, **kwargs):
        super().__init__(fields.Integer(metadata={
            "minimum": 1, "maximum": services.MAX_LEAD_HOURS}),
            metadata={"maxItems": services.MAX_LEAD_TIMES}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise ValidationError(_("Expected a list."))
        try:
            return list(services.check_lead_hours(value))
        except ValueError as error:
            raise ValidationError(str(error)) from None


ReminderLeadHoursSchema = Body.from_dict({kind: LeadHours() for kind in POLICY_KINDS},
                                         name="ReminderLeadHours")


class ReminderPolicyRequestSchema(Body):
    """The whole reminder policy, as set."""

    lead_hours = Nested(ReminderLeadHoursSchema, required=True)
    quiet_start = Time(required=True)
    quiet_end = Time(required=True)
    horizon_days = Integer(required=True, description="1 to 365")


class ReminderPolicySchema(Body):
    """Lead times per kind of event, quiet hours and the horizon."""

    lead_hours = fields.Nested(ReminderLeadHoursSchema)
    quiet_start = Time()
    quiet_end = Time()
    horizon_days = fields.Integer()


class ReminderSchema(Body):
    """A message of the outbox."""

    id = fields.Integer()
    purpose = Choice(PURPOSES)
    status = Choice(STATUSES)
    event_type = Choice(EVENT_TYPES)
    event_id = fields.Integer()
    event_start = Instant()
    family_id = fields.Integer()
    member_id = fields.Integer()
    channel = Choice(CHANNELS)
    lead_minutes = fields.Integer(allow_none=True)
    send_at = Instant()
    sent_at = Instant(allow_none=True)
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    provider_message_id = fields.String(allow_none=True)


class ReminderPageSchema(Body):
    """One page of the outbox."""

    items = fields.List(fields.Nested(ReminderSchema))
    page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()


class ReminderListQuery(Query):
    status = Choice(STATUSES)
    channel = Choice(CHANNELS)
    purpose = Choice(PURPOSES)
    event_type = Choice(EVENT_TYPES)
    event_id = WholeNumber()
    family_id = WholeNumber()
    page = WholeNumber(load_default=1)
    per_page = WholeNumber(high=MAX_PER_PAGE, load_default=50)


def reminder_json(reminder: Reminder) -> dict:
    """A message of the outbox as answered."""
    return {"id": reminder.id, "purpose": reminder.purpose, "status": reminder.status,
            "event_type": reminder.event_type, "event_id": reminder.event_id,
            "event_start": iso_local(reminder.event_start),
            "family_id": reminder.family_id, "member_id": reminder.member_id,
            "channel": reminder.channel, "lead_minutes": reminder.lead_minutes,
            "send_at": iso_local(reminder.send_at), "sent_at": iso_local(reminder.sent_at),
            "attempts": reminder.attempts, "last_error": reminder.last_error or None,
            "cancel_reason": reminder.cancel_reason,
            "provider_message_id": reminder.provider_message_id}


def policy_json(policy: services.Policy) -> dict:
    """The reminder policy as answered."""
    return {"lead_hours": {kind: list(policy.leads(kind)) for kind in POLICY_KINDS},
            "quiet_start": policy.quiet_start, "quiet_end": policy.quiet_end,
            "horizon_days": policy.horizon_days}


def _reminder(reminder_id):
    return services.get_reminder(current_user, reminder_id)


@bp.get("/reminders")
@bp.doc(summary="The outbox (admins; coordinators for their families)")
@roles_required(ADMIN, COORDINATOR)
@bp.arguments(ReminderListQuery, location="query")
@bp.response(200, ReminderPageSchema)
@bp.errors(401, 403)
def list_reminders(arguments):
    """The outbox, newest due first, filtered and paged."""
    query = services.outbox_query(
        current_user, status=arguments.get("status"), channel=arguments.get("channel"),
        purpose=arguments.get("purpose"), event_type=arguments.get("event_type"),
        event_id=arguments.get("event_id"), family_id=arguments.get("family_id"))
    page = db.paginate(query, page=arguments["page"], error_out=False,
                       per_page=arguments["per_page"])
    return {"items": [reminder_json(item) for item in page.items],
            "page": page.page, "pages": page.pages, "total": page.total}


@bp.post("/reminders/<int:reminder_id>/retry")
@bp.doc(summary="Send a failed message again")
@roles_required(ADMIN, COORDINATOR)
@loads(_reminder)
@bp.response(200, ReminderSchema)
@bp.errors(401, 403, 404, 409)
def retry(reminder):
    """Send a failed message (or one cancelled by staff) again, now."""
    services.retry(current_user, reminder, now=get_clock().now())
    return reminder_json(reminder)


@bp.post("/reminders/<int:reminder_id>/cancel")
@bp.doc(summary="Stop a pending message")
@roles_required(ADMIN, COORDINATOR)
@loads(_reminder)
@bp.response(200, ReminderSchema)
@bp.errors(401, 403, 404, 409)
def cancel(reminder):
    """Stop a pending message."""
    services.cancel(current_user, reminder, now=get_clock().now())
    return reminder_json(reminder)


@bp.get("/reminders/policy")
@bp.doc(summary="The reminder policy")
@roles_required(ADMIN, COORDINATOR)
@bp.response(200, ReminderPolicySchema)
@bp.errors(401, 403)
def get_policy():
    """Lead times per kind of event, quiet hours and the horizon."""
    return policy_json(services.current_policy())


@bp.put("/reminders/policy")
@bp.doc(summary="Set the reminder policy (admins)")
@roles_required(ADMIN)
@bp.arguments(ReminderPolicyRequestSchema)
@bp.response(200, ReminderPolicySchema)
@bp.errors(401, 403)
def put_policy(fields):
    """Set the whole policy (admins)."""
    policy = services.set_policy(current_user, clock=get_clock(), **fields)
    return policy_json(policy)
