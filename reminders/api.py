"""Reminders over JSON: the outbox, retrying and cancelling, and the policy."""

from flask import Blueprint, jsonify
from flask_babel import gettext as _
from flask_login import current_user

from core.api import (
    error_responses,
    json_body,
    json_request,
    json_response,
    query_choice,
    query_int,
)
from core.clock import get_clock
from core.localtime import iso_local
from core.roles import ADMIN, COORDINATOR, roles_required
from core.schema import Field, FieldError, Integer, Object, Schema, Time
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

bp = Blueprint("reminders_api", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = 200


class LeadHours(Field):
    """Up to three lead times in whole hours for one kind of event ([] for none)."""

    json_type = "array"

    def convert(self, value):
        if not isinstance(value, list):
            raise FieldError(_("Expected a list."))
        try:
            return list(services.check_lead_hours(value))
        except ValueError as error:
            raise FieldError(str(error)) from None

    def json_schema(self):
        return {"type": "array", "maxItems": services.MAX_LEAD_TIMES,
                "items": {"type": "integer", "minimum": 1,
                          "maximum": services.MAX_LEAD_HOURS}}


LEAD_HOURS = Schema("ReminderLeadHours", {kind: LeadHours() for kind in POLICY_KINDS})
POLICY_REQUEST = Schema("ReminderPolicyRequest", {
    "lead_hours": Object(LEAD_HOURS, required=True),
    "quiet_start": Time(required=True),
    "quiet_end": Time(required=True),
    "horizon_days": Integer(required=True, description="1 to 365"),
})


def reminder_json(reminder: Reminder) -> dict:
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
    return {"lead_hours": {kind: list(policy.leads(kind)) for kind in POLICY_KINDS},
            "quiet_start": policy.quiet_start.strftime("%H:%M"),
            "quiet_end": policy.quiet_end.strftime("%H:%M"),
            "horizon_days": policy.horizon_days}


@bp.get("/reminders")
@roles_required(ADMIN, COORDINATOR)
def list_reminders():
    """The outbox, newest due first, filtered and paged."""
    query = services.outbox_query(
        current_user, status=query_choice("status", STATUSES),
        channel=query_choice("channel", CHANNELS), purpose=query_choice("purpose", PURPOSES),
        event_type=query_choice("event_type", EVENT_TYPES),
        event_id=query_int("event_id"), family_id=query_int("family_id"))
    page = db.paginate(query, page=query_int("page", 1), error_out=False,
                       per_page=query_int("per_page", 50, high=MAX_PER_PAGE))
    return jsonify({"items": [reminder_json(item) for item in page.items],
                    "page": page.page, "pages": page.pages, "total": page.total})


@bp.post("/reminders/<int:reminder_id>/retry")
@roles_required(ADMIN, COORDINATOR)
def retry(reminder_id):
    """Send a failed message (or one cancelled by staff) again, now."""
    reminder = services.get_reminder(current_user, reminder_id)
    services.retry(current_user, reminder, now=get_clock().now())
    return jsonify(reminder_json(reminder))


@bp.post("/reminders/<int:reminder_id>/cancel")
@roles_required(ADMIN, COORDINATOR)
def cancel(reminder_id):
    """Stop a pending message."""
    reminder = services.get_reminder(current_user, reminder_id)
    services.cancel(current_user, reminder, now=get_clock().now())
    return jsonify(reminder_json(reminder))


@bp.get("/reminders/policy")
@roles_required(ADMIN, COORDINATOR)
def get_policy():
    """Lead times per kind of event, quiet hours and the horizon."""
    return jsonify(policy_json(services.current_policy()))


@bp.put("/reminders/policy")
@roles_required(ADMIN)
def put_policy():
    """Set the whole policy (admins)."""
    fields = POLICY_REQUEST.parse(json_body())
    policy = services.set_policy(current_user, clock=get_clock(), **fields)
    return jsonify(policy_json(policy))


REMINDER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "purpose": {"type": "string", "enum": list(PURPOSES)},
    "status": {"type": "string", "enum": list(STATUSES)},
    "event_type": {"type": "string", "enum": list(EVENT_TYPES)},
    "event_id": {"type": "integer"},
    "event_start": {"type": "string", "format": "date-time"},
    "family_id": {"type": "integer"}, "member_id": {"type": "integer"},
    "channel": {"type": "string", "enum": list(CHANNELS)},
    "lead_minutes": {"type": ["integer", "null"]},
    "send_at": {"type": "string", "format": "date-time"},
    "sent_at": {"type": ["string", "null"], "format": "date-time"},
    "attempts": {"type": "integer"}, "last_error": {"type": ["string", "null"]},
    "cancel_reason": {"type": ["string", "null"]},
    "provider_message_id": {"type": ["string", "null"]}}}
REMINDER_PAGE_SCHEMA = {"type": "object", "properties": {
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Reminder"}},
    "page": {"type": "integer"}, "pages": {"type": "integer"}, "total": {"type": "integer"}}}
POLICY_SCHEMA = {"type": "object", "properties": {
    "lead_hours": {"$ref": "#/components/schemas/ReminderLeadHours"},
    "quiet_start": {"type": "string"}, "quiet_end": {"type": "string"},
    "horizon_days": {"type": "integer"}}}


def _query(name, schema):
    return {"name": name, "in": "query", "required": False, "schema": schema}


_ID = [{"name": "reminder_id", "in": "path", "required": True, "schema": {"type": "integer"}}]

OPENAPI = {
    "schemas": {"Reminder": REMINDER_SCHEMA, "ReminderPage": REMINDER_PAGE_SCHEMA,
                "ReminderPolicy": POLICY_SCHEMA, "ReminderLeadHours": LEAD_HOURS.json_schema(),
                "ReminderPolicyRequest": POLICY_REQUEST.json_schema()},
    "paths": {
        "/reminders": {"get": {
            "summary": "The outbox (admins; coordinators for their families)",
            "parameters": [
                _query("status", {"type": "string", "enum": list(STATUSES)}),
                _query("channel", {"type": "string", "enum": list(CHANNELS)}),
                _query("purpose", {"type": "string", "enum": list(PURPOSES)}),
                _query("event_type", {"type": "string", "enum": list(EVENT_TYPES)}),
                _query("event_id", {"type": "integer"}),
                _query("family_id", {"type": "integer"}),
                _query("page", {"type": "integer", "minimum": 1}),
                _query("per_page", {"type": "integer", "minimum": 1,
                                    "maximum": MAX_PER_PAGE})],
            "responses": {"200": json_response("ReminderPage"),
                          **error_responses(401, 403, 422)}}},
        "/reminders/{reminder_id}/retry": {"parameters": _ID, "post": {
            "summary": "Send a failed message again",
            "responses": {"200": json_response("Reminder"),
                          **error_responses(401, 403, 404, 409)}}},
        "/reminders/{reminder_id}/cancel": {"parameters": _ID, "post": {
            "summary": "Stop a pending message",
            "responses": {"200": json_response("Reminder"),
                          **error_responses(401, 403, 404, 409)}}},
        "/reminders/policy": {
            "get": {"summary": "The reminder policy",
                    "responses": {"200": json_response("ReminderPolicy"),
                                  **error_responses(401, 403)}},
            "put": {"summary": "Set the reminder policy (admins)",
                    "requestBody": json_request("ReminderPolicyRequest"),
                    "responses": {"200": json_response("ReminderPolicy"),
                                  **error_responses(400, 401, 403, 422)}}},
    },
}
