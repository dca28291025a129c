"""The dispatcher: claims due outbox rows, sends them, records what happened.

Exactly once is the database's job, not the process's. A pass first returns
to the queue the claims of dispatchers that died (older than the claim
timeout), then claims a batch: on PostgreSQL ``SELECT ... FOR UPDATE SKIP
LOCKED`` and an UPDATE in one transaction, so any number of dispatchers take
disjoint batches; on SQLite one UPDATE with the selection inside it, which
the database's single writer serialises (one dispatcher at a time). The
claim commits before anything is sent, together with each message's opt-out
token, so the link in a message that went out always works.

Each message is then sent and its result committed on its own. A dispatcher
killed after sending a message and before recording it leaves that claim to
be reclaimed and the message sent again: at most the batch in flight can
arrive twice, and the idempotency key travels with every message so that a
gateway or a mail system can drop the repeat.
"""

import os
import secrets
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from flask_babel import gettext as _

from core.tokens import hash_secret
from extensions import db
from families.models import Family, Member
from reminders import messages, services
from reminders.channels import Channel, ChannelError, Outgoing
from reminders.models import ERROR_MAX, OptOutToken, Reminder

OPT_OUT_PATH = "/r/"
# 16 random bytes (128 bits): a short link for an SMS, still far beyond guessing.
OPT_OUT_TOKEN_BYTES = 16


@dataclass(frozen=True)
class DispatchSettings:
    """The dispatcher's settings, read at the edge from the config."""

    batch_size: int = 50
    max_attempts: int = 5
    retry_seconds: int = 60
    retry_max_seconds: int = 3600
    claim_timeout_seconds: int = 900
    public_base_url: str = "http://127.0.0.1:5000"
    sms_max_segments: int = messages.SMS_MAX_SEGMENTS

    @classmethod
    def from_config(cls, config) -> "DispatchSettings":
        return cls(batch_size=int(config["REMINDER_BATCH_SIZE"]),
                   max_attempts=int(config["REMINDER_MAX_ATTEMPTS"]),
                   retry_seconds=int(config["REMINDER_RETRY_SECONDS"]),
                   retry_max_seconds=int(config["REMINDER_RETRY_MAX_SECONDS"]),
                   claim_timeout_seconds=int(config["REMINDER_CLAIM_TIMEOUT"]),
                   public_base_url=config["PUBLIC_BASE_URL"],
                   sms_max_segments=int(config["SMS_MAX_SEGMENTS"]))

    def backoff(self, attempts: int) -> timedelta:
        """Exponential: the base after the first failure, doubling, up to the cap."""
        seconds = self.retry_seconds * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.retry_max_seconds))


@dataclass
class PassResult:
    """What one pass did, by outcome."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0
    reclaimed: int = 0
    errors: list = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.cancelled + self.deferred


def worker_name() -> str:
    """This dispatcher's name in the claims it makes: host, process and a nonce."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def opt_out_link(base_url: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}{OPT_OUT_PATH}{secret}"


# --- claiming --------------------------------------------------------------

def reclaim(now: datetime, settings: DispatchSettings) -> int:
    """Return to the queue the claims a dead dispatcher left behind.

    A claim that has used up its attempts is failed instead: a message that
    kills its dispatcher every time must not do so for ever.
    """
    stale = sa.and_(Reminder.status == "sending",
                    Reminder.claimed_at < now - timedelta(
                        seconds=settings.claim_timeout_seconds))
    failed = db.session.execute(
        sa.update(Reminder).where(stale, Reminder.attempts >= settings.max_attempts)
        .values(status="failed", claimed_by=None, updated_at=now,
                last_error="the dispatcher stopped while sending")
        .execution_options(synchronize_session=False)).rowcount
    returned = db.session.execute(
        sa.update(Reminder).where(stale)
        .values(status="pending", claimed_by=None, updated_at=now,
                last_error="the dispatcher stopped while sending; sent again")
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return failed + returned


def claim(now: datetime, worker: str, batch_size: int) -> dict[int, str]:
    """Claim up to a batch of due rows; return their ids with new opt-out secrets.

    The claim and the tokens commit together before anything is sent.
    """
    due = (sa.select(Reminder.id)
           .where(Reminder.status == "pending", Reminder.send_at <= now)
           .order_by(Reminder.send_at, Reminder.id).limit(batch_size))
    if db.session.get_bind().dialect.name == "postgresql":
        ids = db.session.scalars(due.with_for_update(skip_locked=True)).all()
        if not ids:
            db.session.commit()
            return {}
        chosen = Reminder.id.in_(ids)
    else:
        chosen = Reminder.id.in_(due.scalar_subquery())
    claimed = db.session.execute(
        sa.update(Reminder).where(chosen, Reminder.status == "pending")
        .values(status="sending", claimed_by=worker, claimed_at=now,
                attempts=Reminder.attempts + 1, updated_at=now)
        .returning(Reminder.id, Reminder.member_id)
        .execution_options(synchronize_session=False)).all()
    secrets_by_id = {}
    tokens = []
    for reminder_id, member_id in claimed:
        secret = secrets.token_urlsafe(OPT_OUT_TOKEN_BYTES)
        secrets_by_id[reminder_id] = secret
        tokens.append({"member_id": member_id, "reminder_id": reminder_id,
                       "token_hash": hash_secret(secret), "created_at": now})
    if tokens:
        db.session.execute(sa.insert(OptOutToken), tokens)
    db.session.commit()
    return secrets_by_id


# --- sending ---------------------------------------------------------------

def _record(reminder_id: int, worker: str, now: datetime, **values) -> None:
    """Write a result, if the claim is still this dispatcher's.

    On PostgreSQL the commit does not wait for the disk: a result lost to a
    crash of the database server itself means the message is sent again,
    which a crash of the dispatcher can cause anyway.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
    db.session.execute(
        sa.update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.claimed_by == worker,
               Reminder.status == "sending")
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False))
    db.session.commit()


def _give_up_or_retry(row, worker, now, settings, error: str, permanent: bool,
                      policy, zone, result: PassResult) -> None:
    error = error[:ERROR_MAX]
    next_time = now + settings.backoff(row.attempts)
    if row.channel == "sms":
        next_time = services.after_quiet_hours(next_time, policy, zone)
    if permanent or row.attempts >= settings.max_attempts or next_time >= row.event_start:
        _record(row.id, worker, now, status="failed", claimed_by=None, last_error=error)
        result.failed += 1
    else:
        _record(row.id, worker, now, status="pending", claimed_by=None, last_error=error,
                send_at=next_time)
        result.retrying += 1


def _cancel(row, worker, now, reason, result: PassResult) -> None:
    _record(row.id, worker, now, status="cancelled", claimed_by=None, cancel_reason=reason)
    result.cancelled += 1


def deliver(row, member, secret: str, *, now, worker, channels, starts,
            settings: DispatchSettings, policy, zone, result: PassResult) -> None:
    """Check one claimed row against the world as it is now, then send it.

    ``starts`` holds when the batch's events start, for those still on: a
    reminder whose event moved or was cancelled since it was planned is not
    sent (planning has put a notice in its place).
    """
    if row.event_start <= now:
        return _cancel(row, worker, now, "too_late", result)
    if not services.consents(member) or member.reminder_channel != row.channel:
        return _cancel(row, worker, now, "no_consent", result)
    if row.purpose == "reminder" and starts.get((row.event_type, row.event_id)) \
            != row.event_start:
        return _cancel(row, worker, now, "event_changed", result)
    if row.channel == "sms" and services.in_quiet_hours(now, policy, zone):
        later = services.after_quiet_hours(now, policy, zone)
        if later >= row.event_start:
            return _cancel(row, worker, now, "too_late", result)
        # Not an attempt: nothing was tried.
        _record(row.id, worker, now, status="pending", claimed_by=None, send_at=later,
                attempts=max(row.attempts - 1, 0))
        result.deferred += 1
        return None
    try:
        message = messages.render(purpose=row.purpose, channel=row.channel,
                                  payload=services.disclosed_payload(row),
                                  locale=member.locale or "fi",
                                  link=opt_out_link(settings.public_base_url, secret),
                                  max_segments=settings.sms_max_segments)
    except (KeyError, TypeError, ValueError) as error:
        # A row whose facts cannot make a message will not make one next time.
        return _give_up_or_retry(row, worker, now, settings,
                                 f"message could not be made: {error.__class__.__name__}:"
                                 f" {error}", True, policy, zone, result)
    outgoing = Outgoing(key=row.idempotency_key, to=services.address_for(member, row.channel),
                        subject=message.subject, body=message.body)
    try:
        provider_id = channels[row.channel].send(outgoing)
    except ChannelError as error:
        return _give_up_or_retry(row, worker, now, settings, str(error), error.permanent,
                                 policy, zone, result)
    except Exception as error:  # a channel's bug must not stop the whole batch
        return _give_up_or_retry(row, worker, now, settings,
                                 f"{error.__class__.__name__}: {error}", False,
                                 policy, zone, result)
    # The claim stays on a sent row: it says which dispatcher sent it.
    _record(row.id, worker, now, status="sent", sent_at=now, last_error="",
            provider_message_id=provider_id)
    result.sent += 1
    return None


ROW_FIELDS = ("id", "idempotency_key", "purpose", "event_type", "event_id", "event_start",
              "channel", "payload", "attempts", "address_non_disclosure")
MEMBER_FIELDS = ("id", "role", "reminder_channel", "phone", "email", "locale")


def _claimed_rows(claimed) -> list[tuple[SimpleNamespace, SimpleNamespace]]:
    """The claimed rows and their guardians as plain values, read in one query.

    Each result commits on its own, which would expire ORM objects and load
    them again one by one; plain values do not expire.
    """
    columns = [getattr(Reminder, name) for name in ROW_FIELDS[:-1]] + [
        Family.address_non_disclosure] + [getattr(Member, name) for name in MEMBER_FIELDS]
    result = db.session.execute(
        sa.select(*columns).join(Member, Member.id == Reminder.member_id)
        .join(Family, Family.id == Member.family_id)
        .where(Reminder.id.in_(claimed)).order_by(Reminder.send_at, Reminder.id)).all()
    split = len(ROW_FIELDS)
    return [(SimpleNamespace(**dict(zip(ROW_FIELDS, values[:split], strict=True))),
             SimpleNamespace(**dict(zip(MEMBER_FIELDS, values[split:], strict=True))))
            for values in result]


def dispatch_pass(*, clock, channels: dict[str, Channel], settings: DispatchSettings,
                  zone, worker: str | None = None, max_batches: int = 10_000) -> PassResult:
    """Reclaim, then claim and send batches until nothing is due (one pass)."""
    worker = worker or worker_name()
    result = PassResult(reclaimed=reclaim(clock.now(), settings))
    policy = services.current_policy()
    db.session.commit()
    try:
        for _batch in range(max_batches):
            now = clock.now()
            claimed = claim(now, worker, settings.batch_size)
            if not claimed:
                break
            rows = _claimed_rows(claimed)
            starts = services.current_starts({(row.event_type, row.event_id)
                                              for row, _member in rows})
            db.session.commit()
            for row, member in rows:
                deliver(row, member, claimed[row.id], now=clock.now(), worker=worker,
                        channels=channels, starts=starts, settings=settings,
                        policy=policy, zone=zone, result=result)
    finally:
        for channel in channels.values():
            channel.close()
    return result


def describe(result: PassResult) -> str:
    """A one-line summary of a pass, for the command line and the log."""
    return _("%(sent)d sent, %(retrying)d to retry, %(failed)d failed, %(cancelled)d"
             " cancelled, %(deferred)d deferred past quiet hours, %(reclaimed)d"
             " reclaimed.", sent=result.sent, retrying=result.retrying,
             failed=result.failed, cancelled=result.cancelled, deferred=result.deferred,
             reclaimed=result.reclaimed)
