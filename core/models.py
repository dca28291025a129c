"""Reference data shared by every package, and the audit log."""

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from core import vocabulary
from extensions import db

NAME_MAX = 120


class WeeklySeries:
    """The columns of a series in local wall-clock time, "Tuesdays 17:00, 90
    minutes, fortnightly, 10 times": a group's sessions and a family's visits.

    It ends after ``count`` occurrences or on ``until``, exactly one of them.
    """

    weekday: Mapped[int]
    start_time: Mapped[time]
    duration_minutes: Mapped[int]
    first_date: Mapped[date]
    count: Mapped[int | None]
    until: Mapped[date | None]
    interval_weeks: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __table_args__(cls):
        """Each table gets constraints of its own, named by the naming convention."""
        return (
            sa.CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday"),
            sa.CheckConstraint(vocabulary.INTERVALS.check("interval_weeks"),
                               name="interval_weeks"),
            sa.CheckConstraint("(count IS NULL) <> (until IS NULL)", name="count_or_until"),
        )


class Municipality(db.Model):
    """A municipality the unit serves; data an admin can change, not code."""

    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX), unique=True)
    # Approximate centroid, for distances and travel buffers.
    latitude: Mapped[float]
    longitude: Mapped[float]

    def __str__(self):
        return self.name


class Venue(db.Model):
    """A place where groups meet."""

    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX), unique=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"))
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    accessible: Mapped[bool] = mapped_column(default=True)

    municipality: Mapped[Municipality] = db.relationship()

    def __str__(self):
        return self.name


class BlackoutDate(db.Model):
    """A date an admin has closed for scheduled work (training day, closure)."""

    __tablename__ = "blackout_dates"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    reason: Mapped[str] = mapped_column(sa.String(200))


class AuditEvent(db.Model):
    """Who did what to which record, and when. Written, never edited.

    The actor is kept by id and e-mail at the time, without a foreign key, so
    the trail outlives a removed account.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_email: Mapped[str | None] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(60))
    target_type: Mapped[str] = mapped_column(sa.String(40))
    target_id: Mapped[int | None]
    remote_addr: Mapped[str | None] = mapped_column(sa.String(45))
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    __table_args__ = (sa.Index("ix_audit_events_target", "target_type", "target_id"),)
