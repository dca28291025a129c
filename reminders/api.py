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

    def read_lead_hours(self, policy: services.Policy):
        return {kind: list(policy.leads(kind)) for kind in POLICY_KINDS}


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

    def read_last_error(self, reminder: Reminder):
        return reminder.last_error or None


class ReminderPageSchema(Body):
    """One page of the outbox (a page of ``db.paginate``)."""

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
    return db.paginate(query, page=arguments["page"], error_out=False,
                       per_page=arguments["per_page"])


@bp.post("/reminders/<int:reminder_id>/retry")
@bp.doc(summary="Send a failed message again")
@roles_required(ADMIN, COORDINATOR)
@loads(_reminder)
@bp.response(200, ReminderSchema)
@bp.errors(401, 403, 404, 409)
def retry(reminder):
    """Send a failed message (or one cancelled by staff) again, now."""
    services.retry(current_user, reminder, now=get_clock().now())
    return reminder


@bp.post("/reminders/<int:reminder_id>/cancel")
@bp.doc(summary="Stop a pending message")
@roles_required(ADMIN, COORDINATOR)
@loads(_reminder)
@bp.response(200, ReminderSchema)
@bp.errors(401, 403, 404, 409)
def cancel(reminder):
    """Stop a pending message."""
    services.cancel(current_user, reminder, now=get_clock().now())
    return reminder


@bp.get("/reminders/policy")
@bp.doc(summary="The reminder policy")
@roles_required(ADMIN, COORDINATOR)
@bp.response(200, ReminderPolicySchema)
@bp.errors(401, 403)
def get_policy():
    """Lead times per kind of event, quiet hours and the horizon."""
    return services.current_policy()


@bp.put("/reminders/policy")
@bp.doc(summary="Set the reminder policy (admins)")
@roles_required(ADMIN)
@bp.arguments(ReminderPolicyRequestSchema)
@bp.response(200, ReminderPolicySchema)
@bp.errors(401, 403)
def put_policy(fields):
    """Set the whole policy (admins)."""
    return services.set_policy(current_user, clock=get_clock(), **fields)
