"""Data protection: what is held on a family, closing its work, and removing its
identity once the retention period after closing has passed.

Anonymisation keeps what the reports count (track, municipality, referral
source and date, status, staff, the dates and statuses of visits, group
seats and attendance) and removes everything that says who the family is.
"""

import calendar
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from accounts.models import User
from calendars import services as calendar_services
from calendars.models import FeedStamp, FeedToken, HomeVisit
from core import audit
from core.errors import Conflict, Forbidden, ValidationFailed
from core.localtime import iso_local, local_today
from core.roles import ADMIN, COORDINATOR
from extensions import db
from families import services
from families.models import (
    DEFAULT_RETENTION_MONTHS,
    DEFAULT_RETENTION_YEARS,
    AvailabilityWindow,
    DataRetentionPolicy,
    Family,
    Member,
)
from families.representation import FamilySchema, MemberSchema, PlanSchema
from groups import enrollment as group_enrollment
from groups.models import ACTIVE_ENROLLMENT, Attendance, Enrollment, GroupSession
from reminders import services as reminder_services
from reminders.models import OptOutToken, Reminder

ANONYMOUS_PREFIX = "ANON-"
# Neutral values where a name is required (the API says names are not empty).
ANONYMOUS_NAME = "–"
MAX_RETENTION_YEARS = 100


# --- who may ------------------------------------------------------------------

def can_export(user: User, family: Family) -> bool:
    """Coordinators and admins answer right-of-access requests for families they see."""
    return user.role in (ADMIN, COORDINATOR) and services.can_see(user, family)


def can_close(user: User, family: Family) -> bool:
    """Coordinators and admins end a family's work, which cancels its bookings."""
    return (user.role in (ADMIN, COORDINATOR) and services.can_edit_family(user, family)
            and family.status != "closed")


def check_may_close(user: User, family: Family) -> None:
    """Refuse closing a family that is closed, or by someone who may not."""
    if family.status == "closed":
        raise Conflict(_("The family's work has already ended."), code="family_closed")
    if not can_close(user, family):
        raise Forbidden(_("Only a coordinator or an admin closes a family."))


# --- right of access ------------------------------------------------------------

def export_family(actor: User, family: Family, *, clock) -> dict:
    """Everything held on a family, for the family itself (right of access).

    Secrets (feed and opt-out tokens, message keys) are left out: they open
    things, and the family has no use for their hashes.
    """
    if not can_export(actor, family):
        raise Forbidden(_("Only a coordinator or an admin exports a family's data."))
    now = clock.now()
    document = {
        "exported_at": iso_local(now),
        "family": {
            **FamilySchema(detail=False, right_of_access=True).dump(family),
            "created_at": iso_local(family.created_at),
            "closed_at": iso_local(family.closed_at),
            "anonymised_at": iso_local(family.anonymised_at),
        },
        "members": MemberSchema(many=True).dump(family.members),
        "plan": PlanSchema().dump(family.plan) if family.plan else None,
        "track_changes": [
            {"from_track": change.from_track, "to_track": change.to_track,
             "changed_on": change.changed_on.isoformat()}
            for change in family.track_changes],
        "availability": [
            {"weekday": window.weekday, "start_time": window.start_time.strftime("%H:%M"),
             "end_time": window.end_time.strftime("%H:%M")}
            for window in family.availability],
        "visits": [_visit_json(visit) for visit in db.session.scalars(
            sa.select(HomeVisit).where(HomeVisit.family_id == family.id)
            .order_by(HomeVisit.start, HomeVisit.id))],
        "group_places": [_seat_json(enrollment) for enrollment in db.session.scalars(
            sa.select(Enrollment).where(Enrollment.family_id == family.id)
            .order_by(Enrollment.requested_at, Enrollment.id))],
        "reminders": [_reminder_json(reminder) for reminder in db.session.scalars(
            sa.select(Reminder).where(Reminder.family_id == family.id)
            .order_by(Reminder.send_at, Reminder.id))],
        "feeds": [
            {"id": feed.id, "privacy": feed.privacy, "created_at": iso_local(feed.created_at),
             "revoked_at": iso_local(feed.revoked_at),
             "last_used_at": iso_local(feed.last_used_at)}
            for feed in db.session.scalars(sa.select(FeedToken).where(
                FeedToken.owner_type == "family", FeedToken.owner_id == family.id)
                .order_by(FeedToken.id))],
    }
    audit.record(actor, "family.export", "family", family.id, at=now)
    return document


def _visit_json(visit: HomeVisit) -> dict:
    return {
        "id": visit.id, "kind": visit.kind, "start": iso_local(visit.start),
        "end": iso_local(visit.end), "place": visit.place,
        "municipality": visit.municipality.name, "status": visit.status,
        "status_reason": visit.status_reason, "notes": visit.notes,
        "worker_ids": [worker.id for worker in visit.workers],
    }


def _seat_json(enrollment: Enrollment) -> dict:
    member_ids = {member.id for member in enrollment.members}
    attendance = db.session.execute(
        sa.select(GroupSession.id, GroupSession.start, Attendance.member_id,
                  Attendance.present)
        .join(Attendance, Attendance.session_id == GroupSession.id)
        .where(GroupSession.group_id == enrollment.group_id,
               Attendance.member_id.in_(sa.select(Member.id).where(
                   Member.family_id == enrollment.family_id)))
        .order_by(GroupSession.start, Attendance.member_id))
    return {
        "id": enrollment.id, "group_id": enrollment.group_id,
        "group_name": enrollment.group.name, "status": enrollment.status,
        "position": enrollment.position,
        "requested_at": iso_local(enrollment.requested_at),
        "enrolled_at": iso_local(enrollment.enrolled_at),
        "ended_at": iso_local(enrollment.ended_at),
        "member_ids": sorted(member_ids),
        "attendance": [{"session_id": session_id, "start": iso_local(start),
                        "member_id": member_id, "present": present}
                       for session_id, start, member_id, present in attendance],
    }


def _reminder_json(reminder: Reminder) -> dict:
    return {
        "id": reminder.id, "member_id": reminder.member_id, "purpose": reminder.purpose,
        "channel": reminder.channel, "event_type": reminder.event_type,
        "event_start": iso_local(reminder.event_start),
        "send_at": iso_local(reminder.send_at), "status": reminder.status,
        "sent_at": iso_local(reminder.sent_at), "cancel_reason": reminder.cancel_reason,
    }


def export_filename(family: Family, now: datetime) -> str:
    """The download's name: the reference and the day, nothing else."""
    return f"{family.reference}-{local_today(now).isoformat()}.json"


# --- closing ------------------------------------------------------------------

@dataclass(frozen=True)
class ClosingEffects:
    """What closing a family ends: shown before, reported after."""

    visits: int
    group_seats: int  # seats and waiting-list positions
    reminders: int

    def as_dict(self) -> dict:
        return {"visits": self.visits, "group_places": self.group_seats,
                "reminders": self.reminders}


def _future_visits(family: Family, now: datetime) -> list[HomeVisit]:
    return list(db.session.scalars(sa.select(HomeVisit).where(
        HomeVisit.family_id == family.id, HomeVisit.status == "scheduled",
        HomeVisit.start > now).order_by(HomeVisit.start)))


def _active_enrollments(family: Family) -> list[Enrollment]:
    return list(db.session.scalars(sa.select(Enrollment).where(
        Enrollment.family_id == family.id, Enrollment.status.in_(ACTIVE_ENROLLMENT))
        .order_by(Enrollment.id)))


def _pending_reminders(family: Family) -> list[Reminder]:
    return list(db.session.scalars(sa.select(Reminder).where(
        Reminder.family_id == family.id, Reminder.status == "pending")
        .order_by(Reminder.id).execution_options(populate_existing=True)))


def closing_effects(family: Family, now: datetime) -> ClosingEffects:
    """What closing the family now would cancel and end."""
    return ClosingEffects(len(_future_visits(family, now)), len(_active_enrollments(family)),
                          len(_pending_reminders(family)))


def close_family(actor: User, family: Family, *, zone, calendar_settings, clock) -> ClosingEffects:
    """End a family's work: its future visits are cancelled, its group seats
    and waiting-list positions end, and no pending message is sent.

    Each is done by its own package's service, so calendars, rosters and the
    outbox follow as they do for any cancellation or withdrawal.
    """
    check_may_close(actor, family)
    now = clock.now()
    visits = _future_visits(family, now)
    for visit in visits:
        calendar_services.update_visit(
            actor, visit, {"status": "cancelled",
                           "status_reason": _("The family's work has ended.")},
            zone=zone, settings=calendar_settings, clock=clock)
    enrollments = _active_enrollments(family)
    for enrollment in enrollments:
        group_enrollment.withdraw(actor, enrollment, clock=clock)
    services.update_family(actor, family, {"status": "closed"}, clock=clock)
    reminders = _pending_reminders(family)
    for reminder in reminders:
        reminder_services.cancel(actor, reminder, now=now)
    effects = ClosingEffects(len(visits), len(enrollments), len(reminders))
    audit.record(actor, "family.close", "family", family.id, at=now,
                 detail=effects.as_dict())
    return effects


# --- the retention period ---------------------------------------------------

@dataclass(frozen=True)
class RetentionPeriod:
    years: int
    months: int

    def before(self, instant: datetime) -> datetime:
        """The instant this period before another (the 31st becomes the month's last)."""
        index = instant.year * 12 + instant.month - 1 - (self.years * 12 + self.months)
        year, month = divmod(index, 12)
        day = min(instant.day, calendar.monthrange(year, month + 1)[1])
        return instant.replace(year=year, month=month + 1, day=day)


def retention_period() -> RetentionPeriod:
    """The period an admin set, or the default six years."""
    policy = db.session.get(DataRetentionPolicy, 1)
    if policy is None:
        return RetentionPeriod(DEFAULT_RETENTION_YEARS, DEFAULT_RETENTION_MONTHS)
    return RetentionPeriod(policy.years, policy.months)


def set_retention_period(actor: User, *, years, months, clock) -> RetentionPeriod:
    """Change how long closed families keep their identity (admins only)."""
    if actor.role != ADMIN:
        raise Forbidden(_("Only an admin sets the retention period."))
    errors = {}
    if not isinstance(years, int) or not 0 <= years <= MAX_RETENTION_YEARS:
        errors["years"] = _("Enter whole years from 0 to %(n)d.", n=MAX_RETENTION_YEARS)
    if not isinstance(months, int) or not 0 <= months <= 11:
        errors["months"] = _("Enter whole months from 0 to 11.")
    if not errors and years == 0 and months == 0:
        errors["months"] = _("The period is at least one month.")
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    now = clock.now()
    policy = db.session.get(DataRetentionPolicy, 1)
    if policy is None:
        policy = DataRetentionPolicy(id=1)
        db.session.add(policy)
    policy.years, policy.months = years, months
    policy.updated_at, policy.updated_by_id = now, actor.id
    db.session.flush()
    audit.record(actor, "retention.update", "retention_policy", 1, at=now,
                 detail={"years": years, "months": months})
    return RetentionPeriod(years, months)


# --- anonymisation ------------------------------------------------------------

def due_for_anonymisation(now: datetime, period: RetentionPeriod | None = None) -> sa.Select:
    """Closed families whose work ended longer ago than the period, not yet anonymised."""
    period = period or retention_period()
    cutoff = period.before(now)
    return (sa.select(Family).where(Family.status == "closed", Family.anonymised_at.is_(None),
                                    Family.closed_at.is_not(None), Family.closed_at <= cutoff)
            .order_by(Family.closed_at, Family.id))


def anonymise_family(family: Family, *, now: datetime) -> None:
    """Remove what identifies a family and its members; keep what is counted.

    A child's birth date keeps its year and month (ages for group fit and
    statistics); a guardian's goes. Opt-out links and the family's calendar
    feeds are deleted, so nothing issued to the family opens anything.
    """
    family.reference = f"{ANONYMOUS_PREFIX}{family.id}"
    family.surname = ANONYMOUS_NAME
    family.address = ""
    family.anonymised_at = now
    family.updated_at = now
    for member in family.members:
        member.first_name = ANONYMOUS_NAME
        member.phone = ""
        member.email = ""
        member.reminder_channel = "none"
        member.birth_date = (member.birth_date.replace(day=1)
                             if member.role == "child" and member.birth_date else None)
    if family.plan is not None:
        family.plan.content = ""
        family.plan.agreed_with = ""
    member_ids = [member.id for member in family.members]
    db.session.execute(sa.delete(AvailabilityWindow).where(
        AvailabilityWindow.family_id == family.id))
    db.session.execute(sa.update(HomeVisit).where(HomeVisit.family_id == family.id)
                       .values(notes="", place="", status_reason=""))
    db.session.execute(sa.update(Reminder).where(Reminder.family_id == family.id)
                       .values(payload={}, last_error="", provider_message_id=None))
    if member_ids:
        db.session.execute(sa.delete(OptOutToken).where(OptOutToken.member_id.in_(member_ids)))
    db.session.execute(sa.delete(FeedToken).where(
        FeedToken.owner_type == "family", FeedToken.owner_id == family.id))
    db.session.execute(sa.delete(FeedStamp).where(
        FeedStamp.owner_type == "family", FeedStamp.owner_id == family.id))
    db.session.flush()
    # Bulk statements bypass the identity map: what was loaded is stale now.
    db.session.expire_all()
    audit.record(None, "family.anonymise", "family", family.id, at=now)


def anonymise_due(*, now: datetime, dry_run=False) -> list[int]:
    """Anonymise every family due; return their ids (only list them with ``dry_run``).

    Several scheduler processes may run the job at once: each locks the rows
    it takes and skips those another holds (PostgreSQL; SQLite has one writer).
    """
    query = due_for_anonymisation(now)
    if not dry_run:
        query = query.with_for_update(skip_locked=True, of=Family)
    families = list(db.session.scalars(query))
    if not dry_run:
        for family in families:
            anonymise_family(family, now=now)
    return [family.id for family in families]
