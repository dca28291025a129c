"""The outbox of reminders, opt-out tokens and the reminder policies.

A reminder row is data: what to tell whom, on which channel and when. The
dispatcher (``reminders.dispatcher``) sends it; nothing here does I/O.
"""

from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import vocabulary
from extensions import db
from families.models import Family, Member

KEY_MAX = 160
ERROR_MAX = 500

# What a row tells: a reminder ahead of an event, a notice that it changed,
# or a notice that it was cancelled.
# The codes of core.vocabulary, by the names the package has always given them.
PURPOSES = vocabulary.MESSAGE_PURPOSES.codes
STATUSES = vocabulary.REMINDER_STATUSES.codes
CHANNELS = vocabulary.MESSAGE_CHANNELS.codes
# Events: a home visit (any kind) or a group session, as calendars.events names them.
EVENT_TYPES = vocabulary.EVENT_TYPES.codes
# Why a row was cancelled rather than sent.
CANCEL_REASONS = vocabulary.CANCEL_REASONS.codes

# Policies are set per kind of event: the three kinds of visit and group sessions.
POLICY_KINDS = vocabulary.POLICY_KINDS.codes
DEFAULT_LEAD_HOURS = (24,)
DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(8, 0)
DEFAULT_HORIZON_DAYS = 30


class Reminder(db.Model):
    """One message to one guardian: the outbox row.

    ``idempotency_key`` names the intention (this reminder of this event at
    this version for this guardian on this channel), so planning the same
    thing twice adds nothing, and a gateway can drop a repeat. ``payload``
    holds the facts the message tells (what, when, where, whom to contact), as
    they were when it was planned: a notice of a cancelled or deleted event
    can still say which one.
    """

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(KEY_MAX), unique=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))
    event_type: Mapped[str] = mapped_column(sa.String(20))
    # No foreign key: a deleted visit keeps its notices and their history.
    event_id: Mapped[int]
    event_sequence: Mapped[int] = mapped_column(default=0)
    event_start: Mapped[datetime]
    family_id: Mapped[int] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    lead_minutes: Mapped[int | None]
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    send_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.String(ERROR_MAX), default="")
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(20))
    claimed_by: Mapped[str | None] = mapped_column(sa.String(100))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # The id the SMS gateway or the mail server gave the message.
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    family: Mapped[Family] = relationship()
    member: Mapped[Member] = relationship()

    __table_args__ = (
        sa.CheckConstraint(vocabulary.MESSAGE_PURPOSES.check("purpose"), name="purpose"),
        sa.CheckConstraint(vocabulary.REMINDER_STATUSES.check("status"), name="status"),
        sa.CheckConstraint(vocabulary.MESSAGE_CHANNELS.check("channel"), name="channel"),
        sa.CheckConstraint(vocabulary.EVENT_TYPES.check("event_type"), name="event_type"),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
        # The dispatcher's question: which pending rows are due.
        sa.Index("ix_reminders_status_send_at", "status", "send_at"),
        sa.Index("ix_reminders_event", "event_type", "event_id"),
    )


class OptOutToken(db.Model):
    """The secret of one message's opt-out link; only its SHA-256 is kept.

    Made when the dispatcher claims the message, before it is sent, so the
    link in a message that went out always works.
    """

    __tablename__ = "reminder_opt_out_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True)
    reminder_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reminders.id", ondelete="SET NULL"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    member: Mapped[Member] = relationship()


class ReminderPolicy(db.Model):
    """How long before an event of one kind its reminders go out.

    A kind without a row uses the defaults (24 hours before); an empty list
    of lead times turns that kind's reminders off.
    """

    __tablename__ = "reminder_policies"

    event_kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    lead_hours: Mapped[list] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.CheckConstraint(vocabulary.POLICY_KINDS.check("event_kind"), name="event_kind"),)


class ReminderSettings(db.Model):
    """The unit's quiet hours (no SMS then, in local time) and planning horizon.

    One row at most; without it the defaults apply (21:00-08:00, 30 days).
    """

    __tablename__ = "reminder_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiet_start: Mapped[time]
    quiet_end: Mapped[time]
    horizon_days: Mapped[int]
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.CheckConstraint("horizon_days BETWEEN 1 AND 365", name="horizon_days"),
    )
