"""The rules of reminders: policies, planning the outbox, staff actions, opting out.

Planning is a reconciliation. For one event it works out which messages the
event implies now (a reminder per consenting guardian and lead time; a change
or cancellation notice for whoever was already told something else), adds
the missing ones to the outbox and cancels pending ones that no longer
apply. Calling it twice changes nothing, so every trigger (a booking, a move,
a roster change, the periodic look over the horizon) can simply call it.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from accounts.models import User
from calendars.events import GROUP_SESSION, HOME_VISIT
from calendars.models import HomeVisit
from calendars.services import visit_place
from core import audit
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.localtime import local_datetime, to_local
from core.roles import ADMIN, COORDINATOR
from core.tokens import hash_secret
from extensions import db
from families.models import Family, Member
from families.services import may_see_address, record_listing, visible_families_query
from groups.models import Enrollment, GroupSession, PeerGroup
from reminders import messages
from reminders.models import (
    CHANNELS,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_LEAD_HOURS,
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    POLICY_KINDS,
    PURPOSES,
    STATUSES,
    OptOutToken,
    Reminder,
    ReminderPolicy,
    ReminderSettings,
)

# An SMS moved out of quiet hours goes this long before they start, so that a
# dispatcher running a little late still sends it before them.
QUIET_MARGIN = timedelta(minutes=15)
MAX_LEAD_HOURS = 14 * 24
MAX_LEAD_TIMES = 3
# Rows still to be sent, or on their way.
OPEN = ("pending", "sending")
# Rows that reached the guardian, or may have: what they were told.
SENT_OR_SENDING = ("sent", "sending")


# --- policies --------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    """Lead times per kind of event, quiet hours in local time, and the horizon."""

    lead_hours: dict
    quiet_start: time
    quiet_end: time
    horizon_days: int

    def leads(self, kind: str) -> tuple[int, ...]:
        return tuple(self.lead_hours.get(kind, DEFAULT_LEAD_HOURS))

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.horizon_days)


def current_policy() -> Policy:
    """The policy in force: the admin's rows, defaults where there are none."""
    leads = {kind: DEFAULT_LEAD_HOURS for kind in POLICY_KINDS}
    for row in db.session.scalars(sa.select(ReminderPolicy)):
        leads[row.event_kind] = tuple(row.lead_hours or ())
    settings = db.session.scalar(sa.select(ReminderSettings).limit(1))
    if settings is None:
        return Policy(leads, DEFAULT_QUIET_START, DEFAULT_QUIET_END, DEFAULT_HORIZON_DAYS)
    return Policy(leads, settings.quiet_start, settings.quiet_end, settings.horizon_days)


def check_lead_hours(values) -> tuple[int, ...]:
    """Lead times in whole hours, 1 to 336, at most three, largest first."""
    values = [value for value in values if value is not None]
    # The types first: a list from JSON may hold objects, which cannot be sorted.
    if any(isinstance(value, bool) or not isinstance(value, int)
           or not 1 <= value <= MAX_LEAD_HOURS for value in values):
        raise ValueError(_("Give up to %(n)d lead times of 1 to %(max)d hours.",
                           n=MAX_LEAD_TIMES, max=MAX_LEAD_HOURS))
    hours = sorted(set(values), reverse=True)
    if len(hours) > MAX_LEAD_TIMES:
        raise ValueError(_("Give up to %(n)d lead times of 1 to %(max)d hours.",
                           n=MAX_LEAD_TIMES, max=MAX_LEAD_HOURS))
    return tuple(hours)


def set_policy(actor: User, *, lead_hours: dict, quiet_start: time, quiet_end: time,
               horizon_days: int, clock) -> Policy:
    """Change the reminder policy (admins only); it applies to what is planned next."""
    if actor.role != ADMIN:
        raise Forbidden(_("Only an administrator sets the reminder policy."))
    errors = {}
    checked = {}
    for kind, values in lead_hours.items():
        if kind not in POLICY_KINDS:
            errors[kind] = _("Unknown kind of event.")
            continue
        try:
            checked[kind] = check_lead_hours(values)
        except ValueError as error:
            errors[kind] = str(error)
    if not isinstance(horizon_days, int) or isinstance(horizon_days, bool) \
            or not 1 <= horizon_days <= 365:
        errors["horizon_days"] = _("The horizon is 1 to 365 days.")
    if not isinstance(quiet_start, time) or not isinstance(quiet_end, time):
        errors["quiet_start"] = _("Expected a time such as 21:00.")
    if errors:
        raise ValidationFailed(_("Check the reminder policy."), fields=errors)
    now = clock.now()
    for kind, hours in checked.items():
        row = db.session.get(ReminderPolicy, kind) or ReminderPolicy(event_kind=kind)
        row.lead_hours, row.updated_at, row.updated_by_id = list(hours), now, actor.id
        db.session.add(row)
    settings = db.session.scalar(sa.select(ReminderSettings).limit(1)) or ReminderSettings()
    settings.quiet_start, settings.quiet_end = quiet_start, quiet_end
    settings.horizon_days, settings.updated_at = horizon_days, now
    settings.updated_by_id = actor.id
    db.session.add(settings)
    db.session.flush()
    audit.record(actor, "reminders.policy", "reminder_policy", None, at=now,
                 detail={"kinds": sorted(checked)})
    return current_policy()


# --- quiet hours -----------------------------------------------------------

def in_quiet_hours(instant: datetime, policy: Policy, zone) -> bool:
    """Whether an instant falls in the quiet hours, read in local time."""
    start, end = policy.quiet_start, policy.quiet_end
    at = to_local(instant, zone).time()
    if start == end:
        return False
    if start < end:
        return start <= at < end
    return at >= start or at < end


def _quiet_period(instant: datetime, policy: Policy, zone) -> tuple[datetime, datetime]:
    """The quiet period an instant lies in, as instants (DST handled by the zone)."""
    local = to_local(instant, zone)
    day = local.date()
    start, end = policy.quiet_start, policy.quiet_end
    if start > end and local.time() < end:  # after midnight: it began the evening before
        return (local_datetime(day - timedelta(days=1), start, zone),
                local_datetime(day, end, zone))
    end_day = day + timedelta(days=1) if start > end else day
    return local_datetime(day, start, zone), local_datetime(end_day, end, zone)


def earlier_than_quiet_hours(instant: datetime, policy: Policy, zone) -> datetime:
    """An SMS due in quiet hours goes shortly before they began instead."""
    if not in_quiet_hours(instant, policy, zone):
        return instant
    return _quiet_period(instant, policy, zone)[0] - QUIET_MARGIN


def after_quiet_hours(instant: datetime, policy: Policy, zone) -> datetime:
    """The first instant at or after ``instant`` outside the quiet hours."""
    if not in_quiet_hours(instant, policy, zone):
        return instant
    return _quiet_period(instant, policy, zone)[1]


# --- the events reminders are about ---------------------------------------

@dataclass
class EventState:
    """What planning needs to know of one event, now."""

    event_type: str
    event_id: int
    policy_kind: str
    scheduled: bool         # still happening (not cancelled, deleted or a draft's)
    cancelled: bool         # cancelled or deleted: told families get a notice
    start: datetime | None
    sequence: int
    facts: dict | None
    family_ids: tuple[int, ...]


def _utc(instant: datetime) -> datetime:
    """Lead times are real hours: arithmetic on a local-zone datetime would be
    wall-clock arithmetic, an hour off across a change of time."""
    return instant.astimezone(UTC)


def _visit_state(visit_id: int) -> EventState:
    visit = db.session.get(HomeVisit, visit_id)
    if visit is None:
        return EventState(HOME_VISIT, visit_id, "home_visit", False, True, None, 0, None, ())
    contact = visit.workers[0] if visit.workers else None
    facts = messages.facts(
        what=visit.kind, start=_utc(visit.start), end=_utc(visit.end),
        # A message leaves the system: it has no reader who may see an address
        # under non-disclosure (calendars.services.visit_place).
        place=visit_place(None, visit) or "",
        contact_name=contact.name if contact else "",
        contact_phone=contact.phone if contact else "")
    return EventState(HOME_VISIT, visit.id, visit.kind, visit.status == "scheduled",
                      visit.status == "cancelled", _utc(visit.start), visit.sequence, facts,
                      (visit.family_id,))


def disclosed_payload(row) -> dict:
    """The facts of an outbox row as they may leave the system now.

    ``row`` carries the row's fields and its family's ``address_non_disclosure``.
    A row planned before the address came under non-disclosure still holds the
    visit's place: it is dropped when the message is made (a message has no
    reader who may see it), so the message says the place is as agreed.
    """
    if row.event_type == HOME_VISIT and not may_see_address(None, row):
        return {**row.payload, "place": ""}
    return row.payload


def _session_state(session_id: int) -> EventState:
    session = db.session.get(GroupSession, session_id)
    if session is None:
        return EventState(GROUP_SESSION, session_id, GROUP_SESSION, False, True, None, 0,
                          None, ())
    group = session.group
    venue = session.venue
    place = ", ".join(part for part in (venue.name, venue.address) if part) if venue else ""
    contact = group.facilitators[0] if group.facilitators else None
    facts = messages.facts(
        what=GROUP_SESSION, group_title=group.public_title, start=_utc(session.start),
        end=_utc(session.end),
        place=place, contact_name=contact.name if contact else "",
        contact_phone=contact.phone if contact else "")
    families = tuple(db.session.scalars(sa.select(Enrollment.family_id).where(
        Enrollment.group_id == group.id, Enrollment.status == "enrolled")))
    # A draft's sessions are no one's events yet (calendars.events agrees).
    live = group.status != "draft"
    return EventState(GROUP_SESSION, session.id, GROUP_SESSION,
                      live and session.status == "scheduled",
                      session.status == "cancelled" or group.status == "cancelled",
                      _utc(session.start), session.sequence, facts, families if live else ())


STATE_OF = {HOME_VISIT: _visit_state, GROUP_SESSION: _session_state}


def address_for(member: Member, channel: str) -> str:
    """Where a message on a channel goes: the phone number or the e-mail address."""
    return (member.phone if channel == "sms" else member.email) or ""


def consents(member: Member) -> bool:
    """A guardian who chose a channel and gave the address it needs."""
    return (member.role == "guardian" and member.reminder_channel in CHANNELS
            and bool(address_for(member, member.reminder_channel)))


def _recipients(family_ids) -> list[Member]:
    if not family_ids:
        return []
    return [member for member in db.session.scalars(
        sa.select(Member).where(Member.family_id.in_(family_ids), Member.role == "guardian")
        .order_by(Member.id)) if consents(member)]


# --- planning --------------------------------------------------------------

def _fingerprint(payload: dict) -> str:
    """A short digest of the time and place a message gives, for a change notice's key."""
    text = json.dumps(messages.time_and_place(payload), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _row(state: EventState, member: Member, *, purpose, key, payload, start, send_at,
         now, lead_minutes=None) -> dict:
    return {"idempotency_key": key, "purpose": purpose, "event_type": state.event_type,
            "event_id": state.event_id, "event_sequence": state.sequence,
            "event_start": start, "family_id": member.family_id, "member_id": member.id,
            "channel": member.reminder_channel, "lead_minutes": lead_minutes,
            "payload": payload, "send_at": send_at, "status": "pending", "attempts": 0,
            "last_error": "", "created_at": now, "updated_at": now}


def _wanted_reminders(state: EventState, recipients, policy: Policy, zone) -> dict:
    """The reminders an event implies, by idempotency key (even those already due)."""
    wanted = {}
    if not state.scheduled:
        return wanted
    for member in recipients:
        for hours in policy.leads(state.policy_kind):
            send_at = state.start - timedelta(hours=hours)
            if member.reminder_channel == "sms":
                send_at = earlier_than_quiet_hours(send_at, policy, zone)
            key = (f"r:{state.event_type}:{state.event_id}:{state.sequence}:m{member.id}"
                   f":{member.reminder_channel}:{hours}h")
            wanted[key] = (member, send_at, hours * 60)
    return wanted


def _notice_time(member: Member, now: datetime, expires: datetime, policy, zone):
    """When a notice goes: now, or after the quiet hours for an SMS; None if too late."""
    send_at = now
    if member.reminder_channel == "sms":
        send_at = after_quiet_hours(now, policy, zone)
    return send_at if send_at < expires else None


def _wanted_notices(state: EventState, recipients, last_message_by_member: dict, now,
                    policy, zone) -> dict:
    """Change and cancellation notices for guardians told something no longer true."""
    wanted = {}
    members = {member.id: member for member in recipients}
    for member_id, last_message in last_message_by_member.items():
        member = members.get(member_id)
        if member is None:
            continue
        start_as_sent = last_message.event_start
        if state.cancelled:
            if last_message.purpose == "cancellation" or start_as_sent <= now:
                continue
            send_at = _notice_time(member, now, start_as_sent, policy, zone)
            version = state.sequence if state.facts else "deleted"
            key = (f"c:{state.event_type}:{state.event_id}:{version}:m{member.id}"
                   f":{member.reminder_channel}")
            wanted[key] = (member, "cancellation", dict(last_message.payload), start_as_sent,
                           send_at)
        elif state.scheduled and state.start > now:
            same = (messages.time_and_place(last_message.payload)
                    == messages.time_and_place(state.facts))
            if same and last_message.purpose != "cancellation":
                continue
            send_at = _notice_time(member, now, state.start, policy, zone)
            payload = {**state.facts, "previous_start": last_message.payload.get("start")}
            key = (f"n:{state.event_type}:{state.event_id}:{state.sequence}:m{member.id}"
                   f":{member.reminder_channel}:{_fingerprint(state.facts)}")
            wanted[key] = (member, "change", payload, state.start, send_at)
    return wanted


def _insert_new(rows: list[dict]) -> None:
    """Add outbox rows; one whose key is already there is left as it is.

    The key's unique index decides, so two transactions planning the same
    event at once add each message once.
    """
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(Reminder).on_conflict_do_nothing(
        index_elements=["idempotency_key"]), rows)


def _cancel_rows(ids, reason: str, now: datetime) -> None:
    if ids:
        db.session.execute(
            sa.update(Reminder).where(Reminder.id.in_(ids), Reminder.status == "pending")
            .values(status="cancelled", cancel_reason=reason, updated_at=now)
            .execution_options(synchronize_session=False))


def plan_event(event_type: str, event_id: int, *, now: datetime, policy: Policy,
               zone) -> None:
    """Bring one event's outbox rows in line with the event as it is now."""
    state = STATE_OF[event_type](event_id)
    recipients = _recipients(state.family_ids)
    existing = list(db.session.scalars(sa.select(Reminder).where(
        Reminder.event_type == event_type, Reminder.event_id == event_id)
        .order_by(Reminder.id)))
    last_message_by_member = {}
    for row in existing:
        if row.status in SENT_OR_SENDING:
            # Rows are in order: the last one kept is the last message each guardian got.
            last_message_by_member[row.member_id] = row
    if state.cancelled:
        # Whoever was told gets the notice while they still consent, even if
        # their family has left the roster since.
        recipients = _recipients({row.family_id for row in last_message_by_member.values()})
    reminders = _wanted_reminders(state, recipients, policy, zone)
    notices = _wanted_notices(state, recipients, last_message_by_member, now, policy, zone)

    new_rows = []
    within_horizon = state.scheduled and state.start <= now + policy.horizon
    for key, (member, send_at, lead) in reminders.items():
        if within_horizon and send_at >= now:
            new_rows.append(_row(state, member, purpose="reminder", key=key,
                                 payload=state.facts, start=state.start, send_at=send_at,
                                 now=now, lead_minutes=lead))
    for key, (member, purpose, payload, start, send_at) in notices.items():
        if send_at is not None:
            new_rows.append(_row(state, member, purpose=purpose, key=key, payload=payload,
                                 start=start, send_at=send_at, now=now))
    _insert_new(new_rows)

    member_ids = {member.id for member in recipients}
    stale = {}
    for row in existing:
        if row.status != "pending" or row.idempotency_key in reminders \
                or row.idempotency_key in notices:
            if row.status == "pending" and row.purpose == "reminder" \
                    and row.idempotency_key in reminders and row.payload != state.facts:
                row.payload, row.updated_at = state.facts, now  # a renamed group, say
            continue
        if not state.scheduled and row.purpose == "reminder":
            # A visit marked done or missed ahead of its reminder is no cancellation.
            reason = "event_cancelled" if state.cancelled else "event_changed"
        elif row.member_id not in member_ids:
            reason = "not_recipient"
        else:
            reason = "event_changed"
        stale.setdefault(reason, []).append(row.id)
    for reason, ids in stale.items():
        _cancel_rows(ids, reason, now)


def plan_events(event_type: str, event_ids, *, now: datetime, zone) -> None:
    """Plan several events of one type with one reading of the policy."""
    policy = current_policy()
    for event_id in dict.fromkeys(event_ids):
        plan_event(event_type, event_id, now=now, policy=policy, zone=zone)


def plan_group(group_id: int, *, now: datetime, zone) -> None:
    """Plan every session of a group that has not started yet.

    Only a draft's sessions are ever deleted, and a draft's sessions have no
    reminders, so the group's sessions are all there is to look at.
    """
    session_ids = db.session.scalars(sa.select(GroupSession.id).where(
        GroupSession.group_id == group_id, GroupSession.start > now)
        .order_by(GroupSession.start)).all()
    plan_events(GROUP_SESSION, session_ids, now=now, zone=zone)


def plan_horizon(*, now: datetime, zone) -> int:
    """Plan every event that starts within the horizon; return how many were looked at.

    Run periodically, this brings events into the outbox as they come within
    the horizon, and catches guardians whose consent or channel changed.
    """
    policy = current_policy()
    until = now + policy.horizon
    visits = list(db.session.scalars(sa.select(HomeVisit.id).where(
        HomeVisit.status == "scheduled", HomeVisit.start > now, HomeVisit.start <= until)
        .order_by(HomeVisit.start)))
    sessions = list(db.session.scalars(
        sa.select(GroupSession.id).join(PeerGroup, PeerGroup.id == GroupSession.group_id)
        .where(GroupSession.status == "scheduled", PeerGroup.status != "draft",
               GroupSession.start > now, GroupSession.start <= until)
        .order_by(GroupSession.start)))
    for visit_id in visits:
        plan_event(HOME_VISIT, visit_id, now=now, policy=policy, zone=zone)
    for session_id in sessions:
        plan_event(GROUP_SESSION, session_id, now=now, policy=policy, zone=zone)
    return len(visits) + len(sessions)


def current_starts(events) -> dict[tuple[str, int], datetime]:
    """When each of some events starts, for those still on (scheduled, not a draft's).

    ``events`` are (event_type, event_id) pairs; two queries answer them all.
    """
    visit_ids = {event_id for event_type, event_id in events if event_type == HOME_VISIT}
    session_ids = {event_id for event_type, event_id in events
                   if event_type == GROUP_SESSION}
    starts = {}
    if visit_ids:
        for event_id, start in db.session.execute(
                sa.select(HomeVisit.id, HomeVisit.start).where(
                    HomeVisit.id.in_(visit_ids), HomeVisit.status == "scheduled")):
            starts[(HOME_VISIT, event_id)] = start
    if session_ids:
        for event_id, start in db.session.execute(
                sa.select(GroupSession.id, GroupSession.start)
                .join(PeerGroup, PeerGroup.id == GroupSession.group_id)
                .where(GroupSession.id.in_(session_ids), GroupSession.status == "scheduled",
                       PeerGroup.status != "draft")):
            starts[(GROUP_SESSION, event_id)] = start
    return starts


# --- the outbox for staff --------------------------------------------------

def may_see_outbox(user: User) -> bool:
    return user.is_authenticated and user.role in (ADMIN, COORDINATOR)


def outbox_query(actor: User, *, status=None, channel=None, purpose=None,
                 reference=None, event_type=None, event_id=None,
                 family_id=None) -> sa.Select:
    """The outbox rows an admin (all) or a coordinator (their families) may see."""
    if not may_see_outbox(actor):
        raise Forbidden(_("Your role does not allow this."))
    query = sa.select(Reminder)
    if actor.role != ADMIN:
        query = query.where(Reminder.family_id.in_(
            visible_families_query(actor).with_only_columns(Family.id)))
    for column, value in ((Reminder.status, status), (Reminder.channel, channel),
                          (Reminder.purpose, purpose), (Reminder.event_type, event_type),
                          (Reminder.event_id, event_id), (Reminder.family_id, family_id)):
        if value:
            query = query.where(column == value)
    if reference:
        query = query.where(Reminder.family_id.in_(sa.select(Family.id).where(
            sa.func.lower(Family.reference).like(f"%{reference.strip().lower()}%"))))
    return query.order_by(Reminder.send_at.desc(), Reminder.id.desc()).options(
        selectinload(Reminder.family), selectinload(Reminder.member))


def get_reminder(actor: User, reminder_id: int) -> Reminder:
    """An outbox row the actor may see, or not found."""
    reminder = db.session.scalar(outbox_query(actor).where(Reminder.id == reminder_id))
    if reminder is None:
        raise NotFound(_("No such reminder."))
    return reminder


def retry(actor: User, reminder: Reminder, *, now: datetime) -> Reminder:
    """Send a failed (or staff-cancelled) message again, now."""
    if reminder.status not in ("failed", "cancelled") or (
            reminder.status == "cancelled" and reminder.cancel_reason != "staff"):
        raise Conflict(_("Only a failed message, or one cancelled by staff, can be tried"
                         " again."), code="not_retryable")
    if reminder.event_start <= now:
        raise Conflict(_("The event has already begun."), code="too_late")
    if not consents(reminder.member) or reminder.member.reminder_channel != reminder.channel:
        raise Conflict(_("The guardian no longer gets reminders on this channel."),
                       code="no_consent")
    reminder.status, reminder.send_at, reminder.cancel_reason = "pending", now, None
    reminder.claimed_by = reminder.claimed_at = None
    reminder.updated_at = now
    audit.record(actor, "reminder.retry", "family", reminder.family_id, at=now,
                 detail={"reminder_id": reminder.id})
    return reminder


def cancel(actor: User, reminder: Reminder, *, now: datetime) -> Reminder:
    """Stop a pending message from being sent."""
    if reminder.status != "pending":
        raise Conflict(_("Only a pending message can be cancelled."), code="not_pending")
    reminder.status, reminder.cancel_reason, reminder.updated_at = "cancelled", "staff", now
    audit.record(actor, "reminder.cancel", "family", reminder.family_id, at=now,
                 detail={"reminder_id": reminder.id})
    return reminder


def upcoming_of_family(family_id: int, *, limit=20) -> list[Reminder]:
    """A family's messages still to be sent, soonest first."""
    return list(db.session.scalars(
        sa.select(Reminder).where(Reminder.family_id == family_id,
                                  Reminder.status.in_(OPEN))
        .order_by(Reminder.send_at, Reminder.id).limit(limit)
        .options(selectinload(Reminder.member))))


def of_event(reader: User, event_type: str, event_id: int, *, clock) -> list[Reminder]:
    """The outbox rows of an event, in the order they are (or were) due: those
    of the families the reader may see (a group session's rows name every
    family with a seat in it). The families they name are written to the
    audit log, as shown to the reader."""
    visible = visible_families_query(reader).with_only_columns(Family.id)
    rows = list(db.session.scalars(
        sa.select(Reminder).where(Reminder.event_type == event_type,
                                  Reminder.event_id == event_id,
                                  Reminder.family_id.in_(visible))
        .order_by(Reminder.send_at, Reminder.id)
        .options(selectinload(Reminder.member), selectinload(Reminder.family))))
    record_listing(reader, [reminder.family for reminder in rows], clock=clock)
    return rows


def opt_outs_of_family(family_id: int) -> dict[int, datetime]:
    """When each guardian of a family last stopped reminders by a link."""
    rows = db.session.execute(
        sa.select(OptOutToken.member_id, sa.func.max(OptOutToken.used_at))
        .join(Member, Member.id == OptOutToken.member_id)
        .where(Member.family_id == family_id, OptOutToken.used_at.is_not(None))
        .group_by(OptOutToken.member_id)).all()
    return dict(rows)


def check_filters(*, status=None, channel=None, purpose=None) -> None:
    """Filters of the outbox list that are not codes are refused with a message."""
    errors = {}
    if status and status not in STATUSES:
        errors["status"] = _("Unknown code.")
    if channel and channel not in CHANNELS:
        errors["channel"] = _("Unknown code.")
    if purpose and purpose not in PURPOSES:
        errors["purpose"] = _("Unknown code.")
    if errors:
        raise ValidationFailed(_("Check the filters."), fields=errors)


# --- opting out ------------------------------------------------------------

def token_for(secret: str) -> OptOutToken | None:
    """The opt-out token of a link's secret, or None."""
    if not secret or len(secret) > 100:
        return None
    return db.session.scalar(sa.select(OptOutToken).where(
        OptOutToken.token_hash == hash_secret(secret)))


def opt_out(token: OptOutToken, *, now: datetime) -> Member:
    """Stop all reminders to the guardian of a link, at once.

    The member's channel becomes "none" (what staff see on the family page),
    their pending messages are cancelled, and the choice is in the audit log.
    """
    member = token.member
    member.reminder_channel = "none"
    if token.used_at is None:
        token.used_at = now
    pending = db.session.scalars(sa.select(Reminder.id).where(
        Reminder.member_id == member.id, Reminder.status == "pending")).all()
    _cancel_rows(pending, "opted_out", now)
    audit.record(None, "reminders.opt_out", "family", member.family_id, at=now,
                 detail={"member_id": member.id})
    return member


def is_opted_out(token: OptOutToken) -> bool:
    return token.member.reminder_channel == "none"

