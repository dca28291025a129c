"""Home visits and their series, workers' working hours and absences."""

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from core import vocabulary
from core.models import Municipality, WeeklySeries
from extensions import db
from families.models import Family

PLACE_MAX = 200
REASON_MAX = 300
NOTES_MAX = 5000

# The codes of core.vocabulary, by the names the package has always given them.
VISIT_KINDS = vocabulary.VISIT_KINDS.codes
VISIT_STATUSES = vocabulary.VISIT_STATUSES.codes
ABSENCE_KINDS = vocabulary.ABSENCE_KINDS.codes

visit_workers = sa.Table(
    "visit_workers",
    db.metadata,
    sa.Column("visit_id", sa.ForeignKey("home_visits.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
    # A worker's calendar is read by user, then by time.
    sa.Index("ix_visit_workers_user_id", "user_id"),
)


class VisitSeries(WeeklySeries, db.Model):
    """Regular home visits in local wall-clock time: "Thursdays 10:00, fortnightly"."""

    __tablename__ = "visit_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20), default="home_visit")
    created_at: Mapped[datetime]


class HomeVisit(db.Model):
    """A home visit (kotikäynti) or another meeting with one family."""

    __tablename__ = "home_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    start: Mapped[datetime]
    end: Mapped[datetime]
    # Where the visit happens: the family's home unless another place is given.
    place: Mapped[str] = mapped_column(sa.String(PLACE_MAX), default="")
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default="scheduled")
    status_reason: Mapped[str] = mapped_column(sa.String(REASON_MAX), default="")
    # Raised on every change a calendar must see (iCalendar SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0)
    # Notes stay in the system: never in a feed, a reminder or an export.
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    series_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("visit_series.id", ondelete="SET NULL"), index=True)
    series_date: Mapped[date | None]
    changed_by_hand: Mapped[bool] = mapped_column(default=False)
    # A child-protection family's planning meeting invites its social worker.
    invited_social_worker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    family: Mapped[Family] = relationship()
    municipality: Mapped[Municipality] = relationship()
    workers: Mapped[list[User]] = relationship(secondary=visit_workers, order_by=User.name)
    series: Mapped[VisitSeries | None] = relationship()
    invited_social_worker: Mapped[User | None] = relationship(
        foreign_keys=[invited_social_worker_id])

    __table_args__ = (
        sa.CheckConstraint('"end" > start', name="ends_after_start"),
        sa.CheckConstraint(vocabulary.VISIT_KINDS.check("kind"),
                           name="kind"),
        sa.CheckConstraint(vocabulary.VISIT_STATUSES.check("status"),
                           name="status"),
        sa.Index("ix_home_visits_start_end", "start", "end"),
        # A visit's id is its feed UID: SQLite must never give a deleted one's again.
        {"sqlite_autoincrement": True},
    )


class WorkingHours(db.Model):
    """When a worker works on a weekday; a weekday without a row is not worked."""

    __tablename__ = "working_hours"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    weekday: Mapped[int] = mapped_column(primary_key=True)
    start_time: Mapped[time]
    end_time: Mapped[time]

    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday"),
        sa.CheckConstraint("end_time > start_time", name="ends_after_start"),
    )


class Absence(db.Model):
    """A worker away: leave, training or other."""

    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    start: Mapped[datetime]
    end: Mapped[datetime]
    note: Mapped[str] = mapped_column(sa.String(REASON_MAX), default="")

    user: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint('"end" > start', name="ends_after_start"),
        sa.CheckConstraint(vocabulary.ABSENCE_KINDS.check("kind"), name="kind"),
    )


FEED_OWNER_TYPES = vocabulary.FEED_OWNER_TYPES.codes
FEED_PRIVACY_LEVELS = vocabulary.FEED_PRIVACY_LEVELS.codes


class FeedToken(db.Model):
    """A calendar subscription: a secret URL read by a calendar service.

    Only the SHA-256 of the secret is kept; a lost URL is rotated, not shown again.
    """

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(sa.String(10))
    owner_id: Mapped[int]
    privacy: Mapped[str] = mapped_column(sa.String(10), default="minimal")
    # The language of the feed's texts ("Home visit", "Cancelled:").
    locale: Mapped[str] = mapped_column(sa.String(5), default="fi")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    __table_args__ = (
        sa.CheckConstraint(vocabulary.FEED_OWNER_TYPES.check("owner_type"), name="owner_type"),
        sa.CheckConstraint(vocabulary.FEED_PRIVACY_LEVELS.check("privacy"), name="privacy"),
        sa.Index("ix_feed_tokens_owner", "owner_type", "owner_id"),
    )


class FeedStamp(db.Model):
    """A counter raised in the same transaction as any change that a feed shows.

    One row per owner that has a feed, and one for changes that may show in
    every feed (a venue or a municipality renamed). A feed is answered from
    memory while its owner's and the shared counter are what they were when
    its body was made: one indexed read instead of an aggregate over its
    events. The rows are raised by `calendars.feeds.stamps`.
    """

    __tablename__ = "feed_stamps"

    owner_type: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    owner_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime | None]

    __table_args__ = (
        sa.CheckConstraint(vocabulary.FEED_STAMP_OWNER_TYPES.check("owner_type"),
                           name="owner_type"),
    )
