"""Who was at a group's sessions, and the attendance rates that follow."""

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from accounts.models import User
from core.errors import Conflict, ValidationFailed
from extensions import db
from families.models import Member
from groups.models import Attendance, GroupSession, PeerGroup
from groups.permissions import can_record_attendance, require


def expected_members(session: GroupSession) -> list[Member]:
    """The members who should be at a session: those of families with a seat."""
    return [member for enrollment in session.group.enrollments
            if enrollment.status in ("enrolled", "completed")
            for member in enrollment.members]


def record_attendance(actor: User, session: GroupSession, present: dict[int, bool], *,
                      clock) -> list[Attendance]:
    """Record who was at a session: ``present`` maps member ids to true or false."""
    require(can_record_attendance(actor, session.group),
             _("Only the group's facilitators record attendance."))
    now = clock.now()
    if session.status == "cancelled":
        raise Conflict(_("The session was cancelled."), code="session_cancelled")
    if session.start > now:
        raise Conflict(_("Attendance is recorded once the session has started."),
                       code="session_not_started")
    expected = {member.id for member in expected_members(session)}
    unknown = set(present) - expected
    if unknown:
        message = _("Attendance is recorded for the attending members of families with"
                    " a place.")
        raise ValidationFailed(message, fields={"attendance": message})
    existing = {row.member_id: row for row in db.session.scalars(
        sa.select(Attendance).where(Attendance.session_id == session.id))}
    rows = []
    for member_id, was_present in present.items():
        row = existing.get(member_id) or Attendance(session_id=session.id,
                                                    member_id=member_id)
        row.present, row.recorded_by_id, row.recorded_at = bool(was_present), actor.id, now
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    return rows


@dataclass
class AttendanceRates:
    """Shares of recorded member-sessions that were present (None: nothing recorded)."""

    group: float | None
    by_family: dict[int, float | None]
    by_session: dict[int, tuple[int, int]]


def attendance_rates(group: PeerGroup) -> AttendanceRates:
    """Attendance of a group as a whole, per family and per session."""
    rows = db.session.execute(
        sa.select(Attendance.session_id, Member.family_id, Attendance.present)
        .join(GroupSession, GroupSession.id == Attendance.session_id)
        .join(Member, Member.id == Attendance.member_id)
        .where(GroupSession.group_id == group.id)).all()
    totals: dict[int, list[int]] = {}
    sessions: dict[int, list[int]] = {}
    for session_id, family_id, present in rows:
        totals.setdefault(family_id, [0, 0])
        sessions.setdefault(session_id, [0, 0])
        for bucket in (totals[family_id], sessions[session_id]):
            bucket[0] += int(present)
            bucket[1] += 1
    present_count = sum(bucket[0] for bucket in totals.values())
    recorded = sum(bucket[1] for bucket in totals.values())
    return AttendanceRates(
        group=present_count / recorded if recorded else None,
        by_family={family_id: present / count for family_id, (present, count)
                   in totals.items()},
        by_session={session_id: (present, count) for session_id, (present, count)
                    in sessions.items()},
    )
