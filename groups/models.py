"""Peer groups, their session series and sessions, enrollments and attendance."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from core import vocabulary
from core.models import Municipality, Venue, WeeklySeries
from extensions import db
from families.models import Family, Member

NAME_MAX = 120
DESCRIPTION_MAX = 2000

# The codes of core.vocabulary, by the names the package has always given them.
GROUP_STATUSES = vocabulary.GROUP_STATUSES.codes
SESSION_STATUSES = vocabulary.SESSION_STATUSES.codes
ENROLLMENT_STATUSES = vocabulary.ENROLLMENT_STATUSES.codes
# An enrollment that holds a seat or a position on the waiting list.
ACTIVE_ENROLLMENT = ("enrolled", "waitlisted")

group_municipalities = sa.Table(
    "group_municipalities",
    db.metadata,
    sa.Column("group_id", sa.ForeignKey("peer_groups.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("municipality_id", sa.ForeignKey("municipalities.id"), primary_key=True),
)

group_facilitators = sa.Table(
    "group_facilitators",
    db.metadata,
    sa.Column("group_id", sa.ForeignKey("peer_groups.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
)

enrollment_members = sa.Table(
    "enrollment_members",
    db.metadata,
    sa.Column("enrollment_id", sa.ForeignKey("enrollments.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"),
              primary_key=True),
)


class PeerGroup(db.Model):
    """A peer group (vertaisryhmä): recurring sessions for several families."""

    __tablename__ = "peer_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    # The only name that leaves the system (feeds, reminders, pages a family
    # reads); checked by core.wording. Empty: a neutral "group meeting".
    public_title: Mapped[str] = mapped_column(sa.String(NAME_MAX), default="",
                                              server_default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    themes: Mapped[list] = mapped_column(sa.JSON, default=list)
    min_age_months: Mapped[int] = mapped_column(default=0)
    max_age_months: Mapped[int] = mapped_column(default=216)
    tracks: Mapped[list] = mapped_column(sa.JSON, default=list)
    language: Mapped[str] = mapped_column(sa.String(5), default="fi")
    venue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("venues.id"))
    capacity: Mapped[int]
    enrollment_opens: Mapped[date | None]
    enrollment_closes: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    # Raised on every change of the roster or the waiting list. Taking a seat
    # starts by raising it, which locks the group row on both databases, so
    # seats are counted by one transaction at a time.
    roster_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    venue: Mapped[Venue | None] = relationship()
    municipalities: Mapped[list[Municipality]] = relationship(
        secondary=group_municipalities, order_by=Municipality.name)
    facilitators: Mapped[list[User]] = relationship(secondary=group_facilitators,
                                                    order_by=User.name)
    series: Mapped[list["SessionSeries"]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="SessionSeries.id")
    sessions: Mapped[list["GroupSession"]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupSession.start")
    enrollments: Mapped[list["Enrollment"]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="Enrollment.id")

    __table_args__ = (
        sa.CheckConstraint("capacity >= 1", name="capacity"),
        sa.CheckConstraint("min_age_months >= 0 AND max_age_months >= min_age_months",
                           name="age_range"),
        sa.CheckConstraint(vocabulary.GROUP_STATUSES.check("status"), name="status"),
    )

    def __str__(self):
        return self.name


class SessionSeries(WeeklySeries, db.Model):
    """A series in local wall-clock time: "Tuesdays 17:00, 90 minutes, 10 times"."""

    __tablename__ = "session_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("peer_groups.id", ondelete="CASCADE"), index=True)
    # Single dates the coordinator added to or removed from the series (ISO
    # strings), kept so that editing the series again keeps them.
    added_dates: Mapped[list] = mapped_column(sa.JSON, default=list)
    removed_dates: Mapped[list] = mapped_column(sa.JSON, default=list)

    group: Mapped[PeerGroup] = relationship(back_populates="series")

    def plan_parts(self) -> tuple[tuple[date, ...], tuple[date, ...]]:
        """The added and removed dates as dates."""
        return (tuple(date.fromisoformat(day) for day in self.added_dates or ()),
                tuple(date.fromisoformat(day) for day in self.removed_dates or ()))


class GroupSession(db.Model):
    """One meeting of a group, with its own instants in UTC."""

    __tablename__ = "group_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("peer_groups.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("session_series.id", ondelete="SET NULL"), index=True)
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime]
    # The date of the series this session stands for, even after a move.
    series_date: Mapped[date | None]
    venue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("venues.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default="scheduled")
    # Raised on every change a calendar must see (iCalendar SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0)
    # Moved, cancelled or added by hand: editing the series leaves it alone.
    changed_by_hand: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    group: Mapped[PeerGroup] = relationship(back_populates="sessions")
    series: Mapped[SessionSeries | None] = relationship()
    venue_override: Mapped[Venue | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint('"end" > start', name="ends_after_start"),
        sa.CheckConstraint(vocabulary.SESSION_STATUSES.check("status"), name="status"),
        {"sqlite_autoincrement": True},  # the id is a feed UID: never reused
    )

    @property
    def venue(self) -> Venue | None:
        """Where this session meets: its own venue, else the group's."""
        return self.venue_override or self.group.venue


class Enrollment(db.Model):
    """A family's seat in a group, or its position on the waiting list."""

    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("peer_groups.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[int] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20))
    # 1, 2, 3... on the waiting list in order of arrival; None with a seat.
    position: Mapped[int | None]
    requested_at: Mapped[datetime]
    enrolled_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    group: Mapped[PeerGroup] = relationship(back_populates="enrollments")
    family: Mapped[Family] = relationship()
    members: Mapped[list[Member]] = relationship(secondary=enrollment_members,
                                                 order_by=Member.id)

    __table_args__ = (
        sa.CheckConstraint(vocabulary.ENROLLMENT_STATUSES.check("status"), name="status"),
        sa.CheckConstraint("(status = 'waitlisted') = (position IS NOT NULL)",
                           name="position_only_when_waiting"),
        # A family holds at most one seat or waiting position in a group...
        sa.Index("uq_enrollments_active_family", "group_id", "family_id", unique=True,
                 sqlite_where=sa.text("status IN ('enrolled', 'waitlisted')"),
                 postgresql_where=sa.text("status IN ('enrolled', 'waitlisted')")),
        # ...and no two waiting families share a position.
        sa.Index("uq_enrollments_waiting_position", "group_id", "position", unique=True,
                 sqlite_where=sa.text("status = 'waitlisted'"),
                 postgresql_where=sa.text("status = 'waitlisted'")),
    )


class Attendance(db.Model):
    """Whether a member attended a session, as a facilitator recorded it."""

    __tablename__ = "attendance"

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("group_sessions.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    present: Mapped[bool]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime]

    session: Mapped[GroupSession] = relationship()
    member: Mapped[Member] = relationship()
