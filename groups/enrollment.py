"""Seats in a group: enrolling, the waiting list, and the roster lock that keeps them whole.

Seats are counted under a lock on the group's row (``_lock_roster``), taken
by raising its ``roster_version``: a row lock on PostgreSQL and the write lock
on SQLite. Every change of the roster or the waiting list takes it first, so
any number of web processes can enroll and withdraw at once without going over
capacity or leaving a gap on the waiting list.
"""

from datetime import date, datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from accounts.models import User
from core import audit
from core.errors import Conflict, NotFound, RuleViolation, ValidationFailed
from core.localtime import local_today, to_local
from extensions import db
from families.models import Family, Member
from families.services import booking_refusal, ensure_bookable, family_plan_state
from groups import eligibility
from groups.models import ACTIVE_ENROLLMENT, Enrollment, PeerGroup
from groups.permissions import can_enroll, can_manage, can_record_attendance, require
from groups.series import upcoming_sessions
from groups.signals import group_changed


def get_enrollment(enrollment_id: int) -> Enrollment:
    """An enrollment by id, or not found."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None:
        raise NotFound(_("No such enrollment."))
    return enrollment


# --- counting seats --------------------------------------------------------

def enrolled_count(group: PeerGroup) -> int:
    """How many families have a seat in the group."""
    return db.session.scalar(sa.select(sa.func.count(Enrollment.id)).where(
        Enrollment.group_id == group.id, Enrollment.status == "enrolled"))


def waiting_count(group: PeerGroup) -> int:
    """How many families wait for a seat in the group."""
    return db.session.scalar(sa.select(sa.func.count(Enrollment.id)).where(
        Enrollment.group_id == group.id, Enrollment.status == "waitlisted"))


def free_seats(group: PeerGroup) -> int:
    """Seats not taken (none when a lowered capacity is still full)."""
    return max(group.capacity - enrolled_count(group), 0)


class SeatCounts(NamedTuple):
    """A group's seats taken, families waiting and seats free, as the API answers them."""

    enrolled: int
    waiting: int
    free_places: int


def seat_counts(group: PeerGroup) -> SeatCounts:
    """The group's seats taken, waiting families and free seats, in one query."""
    counts = dict(db.session.execute(
        sa.select(Enrollment.status, sa.func.count(Enrollment.id))
        .where(Enrollment.group_id == group.id,
               Enrollment.status.in_(("enrolled", "waitlisted")))
        .group_by(Enrollment.status)).all())
    enrolled = counts.get("enrolled", 0)
    return SeatCounts(enrolled, counts.get("waitlisted", 0),
                      max(group.capacity - enrolled, 0))


def roster(group: PeerGroup) -> list[Enrollment]:
    """Families with a seat, in the order they got it."""
    return list(db.session.scalars(sa.select(Enrollment).where(
        Enrollment.group_id == group.id, Enrollment.status == "enrolled")
        .order_by(Enrollment.enrolled_at, Enrollment.id)
        .options(selectinload(Enrollment.family), selectinload(Enrollment.members))))


def waiting_list(group: PeerGroup) -> list[Enrollment]:
    """Waiting families by position."""
    return list(db.session.scalars(sa.select(Enrollment).where(
        Enrollment.group_id == group.id, Enrollment.status == "waitlisted")
        .order_by(Enrollment.position)
        .options(selectinload(Enrollment.family), selectinload(Enrollment.members))))


def _lock_roster(group: PeerGroup) -> None:
    """Serialise changes of one group's seats (see the module docstring).

    The group's own attributes are read again afterwards: another transaction
    may have changed its capacity while this one waited.
    """
    db.session.flush()
    db.session.execute(sa.update(PeerGroup).where(PeerGroup.id == group.id).values(
        roster_version=PeerGroup.roster_version + 1).execution_options(
        synchronize_session=False))
    db.session.refresh(group)


def _shift_waiting_list(group: PeerGroup, after: int, by: int) -> None:
    """Move everyone waiting behind ``after`` forward by ``by`` positions.

    Done in two statements through negative numbers, because a unique index
    keeps positions distinct and is checked row by row while one UPDATE runs.
    """
    waiting = sa.and_(Enrollment.group_id == group.id, Enrollment.status == "waitlisted")
    db.session.execute(sa.update(Enrollment).where(waiting, Enrollment.position > after)
                       .values(position=-(Enrollment.position - by))
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(Enrollment).where(waiting, Enrollment.position < 0)
                       .values(position=-Enrollment.position)
                       .execution_options(synchronize_session=False))


def _promote(group: PeerGroup, now: datetime, zone=None) -> list[Enrollment]:
    """Give free seats to the first on the waiting list who still fit the group
    (``check_family_fits``); return who moved up. One who no longer fits keeps
    waiting, and the one behind is promoted."""
    free = group.capacity - enrolled_count(group)
    if free <= 0:
        return []
    waiting = list(db.session.scalars(
        sa.select(Enrollment).where(Enrollment.group_id == group.id,
                                    Enrollment.status == "waitlisted")
        .order_by(Enrollment.position).execution_options(populate_existing=True)))
    day = first_day_ahead(group, now, zone)
    promoted, passed_over = [], False
    for enrollment in waiting:
        if len(promoted) == free:
            break
        try:
            check_family_fits(group, enrollment.family, enrollment.members, day)
        except (RuleViolation, ValidationFailed):
            passed_over = True
            continue
        promoted.append(enrollment)
    for enrollment in promoted:
        enrollment.status = "enrolled"
        enrollment.position = None
        enrollment.enrolled_at = now
    db.session.flush()
    if promoted and passed_over:
        _renumber_waiting_list(group)
    elif promoted:
        _shift_waiting_list(group, 0, len(promoted))
    return promoted


def _renumber_waiting_list(group: PeerGroup) -> None:
    """Number those still waiting 1..n in their order, through negative numbers
    as ``_shift_waiting_list`` does."""
    waiting = list(db.session.scalars(
        sa.select(Enrollment).where(Enrollment.group_id == group.id,
                                    Enrollment.status == "waitlisted")
        .order_by(Enrollment.position)))
    for rank, enrollment in enumerate(waiting, start=1):
        enrollment.position = -rank
    db.session.flush()
    for enrollment in waiting:
        enrollment.position = -enrollment.position
    db.session.flush()


def set_capacity(group: PeerGroup, capacity: int, *, now: datetime,
                 zone=None) -> list[Enrollment]:
    """Change the number of seats; free seats go to the waiting list at once."""
    _lock_roster(group)
    taken = enrolled_count(group)
    if capacity < taken:
        message = _("%(n)d families already have a place: the capacity cannot be lower.",
                    n=taken)
        raise RuleViolation(message, code="capacity_below_enrolled",
                            fields={"capacity": message})
    group.capacity = capacity
    return _promote(group, now, zone)


def close_roster(group: PeerGroup, *, finished: bool, now: datetime) -> None:
    """End every seat and waiting position of a group that finishes or is
    cancelled: a family with a seat completes it when the group finishes;
    everyone else is withdrawn."""
    _lock_roster(group)
    for enrollment in group.enrollments:
        if enrollment.status in ACTIVE_ENROLLMENT:
            completed = finished and enrollment.status == "enrolled"
            enrollment.status = "completed" if completed else "withdrawn"
            enrollment.position = None
            enrollment.ended_at = now


# --- who may hold a seat ----------------------------------------------------

def first_day_ahead(group: PeerGroup, now: datetime, zone=None) -> date:
    """The local day of the group's first session ahead (today without one):
    the day on which attending children's ages are taken."""
    upcoming = upcoming_sessions(group, now)
    return to_local(upcoming[0].start if upcoming else now, zone).date()


def family_terms(family: Family) -> eligibility.FamilyTerms:
    """A family's facts as the eligibility rule reads them."""
    refused = booking_refusal(status=family.status, track=family.track,
                              plan=family_plan_state(family), kind="group_place")
    return eligibility.FamilyTerms(
        track=family.track, municipality_id=family.municipality_id,
        languages=frozenset(family.languages or ()),
        child_birth_dates=tuple(child.birth_date for child in family.children),
        booking_refusal=refused.code if refused is not None else None)


def group_terms(group: PeerGroup, first_day: date | None) -> eligibility.GroupTerms:
    """A group's facts as the eligibility rule reads them, its first session
    ahead on ``first_day`` (None without one)."""
    return eligibility.GroupTerms(
        status=group.status, tracks=frozenset(group.tracks), language=group.language,
        municipality_ids=frozenset(place.id for place in group.municipalities),
        min_age_months=group.min_age_months, max_age_months=group.max_age_months,
        first_day=first_day, enrollment_opens=group.enrollment_opens,
        enrollment_closes=group.enrollment_closes)


def _refuse(reason: str, group: PeerGroup, family: Family, today: date) -> None:
    """Raise the domain error of a reason the eligibility rule gave."""
    if reason == eligibility.GROUP_NOT_OPEN:
        raise Conflict(_("The group is not taking families now."), code="group_not_open")
    if reason == eligibility.ENROLLMENT_CLOSED:
        if group.enrollment_opens and today < group.enrollment_opens:
            raise Conflict(_("Enrollment to this group opens on %(day)s.",
                             day=group.enrollment_opens.isoformat()),
                           code="enrollment_closed")
        raise Conflict(_("Enrollment to this group has closed."), code="enrollment_closed")
    if reason == eligibility.TRACK_NOT_ALLOWED:
        raise RuleViolation(_("The group is not for families on this track."),
                            code="track_not_allowed")
    if reason == eligibility.NO_UPCOMING_SESSIONS:
        raise Conflict(_("The group has no sessions ahead."), code="no_upcoming_sessions")
    # The families' booking rule refused a group seat: its own error says why.
    ensure_bookable(family, "group_place")


def check_family_fits(group: PeerGroup, family: Family, members, day: date) -> None:
    """The one rule of who may hold a seat in a group, on every path that
    enrolls, promotes from the waiting list or changes who attends.

    The family may have a group seat booked (``ensure_bookable``), its track
    is one of the group's (``groups.eligibility``), the members who attend are
    its own, every attending child is within the group's age range on ``day``,
    and the family has a child in that range (guardians may attend without
    their children, as in a parents' group, but for the sake of a child of the
    group's ages).
    """
    terms = family_terms(family)
    # What still holds for a family that has its seat: its own refusals, not
    # the group's status, enrollment window or calendar.
    for reason in eligibility.refusals(terms, group_terms(group, day), day):
        if reason in (terms.booking_refusal, eligibility.TRACK_NOT_ALLOWED):
            _refuse(reason, group, family, day)
    _check_attending(group, family, members, day)


def _in_range(group: PeerGroup, child: Member, day: date) -> bool:
    return child.birth_date is not None and eligibility.age_in_range(
        child.birth_date, day, group.min_age_months, group.max_age_months)


def _check_attending(group: PeerGroup, family: Family, members, day: date) -> None:
    message = _("Choose the members of this family who will attend.")
    if not members or any(member.family_id != family.id for member in members):
        raise ValidationFailed(message, fields={"member_ids": message})
    if not any(_in_range(group, child, day) for child in family.children):
        raise RuleViolation(
            _("No child of the family is %(low)d-%(high)d months old on %(day)s, the"
              " first session ahead.", low=group.min_age_months,
              high=group.max_age_months, day=day.isoformat()),
            code="no_child_in_age_range")
    outside = [member.first_name for member in members
               if member.role == "child" and not _in_range(group, member, day)]
    if outside:
        message = _("Only children %(low)d-%(high)d months old on %(day)s, the first"
                    " session ahead, attend this group. Outside that range: %(names)s.",
                    low=group.min_age_months, high=group.max_age_months,
                    day=day.isoformat(), names=", ".join(outside))
        raise RuleViolation(message, code="child_outside_age_range",
                            fields={"member_ids": message})


def check_eligible(group: PeerGroup, family: Family, *, now: datetime, zone,
                   members=None) -> None:
    """Whether a family may take a seat in a group; a clear refusal if not.

    The group must be taking families, with a session ahead; the family must
    fit it (``check_family_fits``) with the ``members`` who attend, by default
    its guardians and its children in the age range.
    """
    today = local_today(now, zone)
    upcoming = upcoming_sessions(group, now)
    day = to_local(upcoming[0].start, zone).date() if upcoming else None
    reason = eligibility.refusal(family_terms(family), group_terms(group, day), today)
    if reason not in (None, eligibility.NO_CHILD_IN_AGE_RANGE):
        _refuse(reason, group, family, today)
    # Who attends is checked with the ages: a member of another family is a
    # mistake in the request, before any rule of the group.
    if members is None:
        members = default_attending(group, family, day)
    _check_attending(group, family, members, day)


def default_attending(group: PeerGroup, family: Family, day: date) -> list[Member]:
    """Who attends unless chosen otherwise: the guardians and the children in
    the group's age range on ``day``."""
    return [member for member in family.members
            if member.role == "guardian" or _in_range(group, member, day)]


def _attending_members(family: Family, member_ids) -> list[Member]:
    chosen = [member for member in family.members if member.id in set(member_ids)]
    if not member_ids or len(chosen) != len(set(member_ids)):
        message = _("Choose the members of this family who will attend.")
        raise ValidationFailed(message, fields={"member_ids": message})
    return chosen


def enroll(actor: User, group: PeerGroup, family: Family, member_ids, *, zone,
           clock) -> Enrollment:
    """Give a family a seat, or a position on the waiting list when full."""
    require(can_enroll(actor, group, family),
             _("You may not place this family in this group."))
    now = clock.now()
    members = _attending_members(family, member_ids)
    check_eligible(group, family, now=now, zone=zone, members=members)
    _lock_roster(group)
    already = db.session.scalar(sa.select(Enrollment.id).where(
        Enrollment.group_id == group.id, Enrollment.family_id == family.id,
        Enrollment.status.in_(ACTIVE_ENROLLMENT)))
    if already is not None:
        raise Conflict(_("The family already has a place or is waiting in this group."),
                       code="already_in_group")
    enrollment = Enrollment(family=family, members=members, requested_at=now)
    if enrolled_count(group) < group.capacity:
        enrollment.status, enrollment.enrolled_at = "enrolled", now
    else:
        last = db.session.scalar(sa.select(sa.func.max(Enrollment.position)).where(
            Enrollment.group_id == group.id, Enrollment.status == "waitlisted"))
        enrollment.status, enrollment.position = "waitlisted", (last or 0) + 1
    group.enrollments.append(enrollment)
    db.session.flush()
    audit.record(actor, "enrollment.create", "family", family.id, at=now,
                 detail={"group_id": group.id, "status": enrollment.status})
    group_changed.send("groups", group_id=group.id, now=now)
    return enrollment


def withdraw(actor: User, enrollment: Enrollment, *, clock,
             zone=None) -> list[Enrollment]:
    """End a seat or leave the waiting list; the freed seat goes to the next."""
    group = enrollment.group
    require(can_enroll(actor, group, enrollment.family),
             _("You may not change this family's place."))
    now = clock.now()
    _lock_roster(group)
    db.session.refresh(enrollment)
    if enrollment.status not in ACTIVE_ENROLLMENT:
        raise Conflict(_("The family no longer has a place or a position in this group."),
                       code="not_active")
    was_waiting_at = enrollment.position
    enrollment.status, enrollment.position, enrollment.ended_at = "withdrawn", None, now
    db.session.flush()
    if was_waiting_at is not None:
        _shift_waiting_list(group, was_waiting_at, 1)
        promoted = []
    else:
        promoted = _promote(group, now, zone)
    audit.record(actor, "enrollment.withdraw", "family", enrollment.family_id, at=now,
                 detail={"group_id": group.id})
    group_changed.send("groups", group_id=group.id, now=now)
    return promoted


def complete(actor: User, enrollment: Enrollment, *, clock) -> None:
    """Mark a family's seat as completed (it went through the group)."""
    require(can_manage(actor, enrollment.group) or
             can_record_attendance(actor, enrollment.group),
             _("You may not change this family's place."))
    if enrollment.status != "enrolled":
        raise Conflict(_("Only a family with a place can complete the group."),
                       code="not_enrolled")
    enrollment.status, enrollment.ended_at = "completed", clock.now()
    db.session.flush()
    group_changed.send("groups", group_id=enrollment.group_id, now=clock.now())


def change_members(actor: User, enrollment: Enrollment, member_ids, *, clock,
                   zone=None) -> None:
    """Change which members of the family attend; they must fit the group as
    on enrolling (``check_family_fits``)."""
    require(can_enroll(actor, enrollment.group, enrollment.family),
             _("You may not change this family's place."))
    members = _attending_members(enrollment.family, member_ids)
    check_family_fits(enrollment.group, enrollment.family, members,
                      first_day_ahead(enrollment.group, clock.now(), zone))
    enrollment.members = members
