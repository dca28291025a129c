"""Families, members, plans and the history of track changes."""

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from accounts.models import User
from core import vocabulary
from core.localtime import age_in_months
from core.models import Municipality
from core.text import nfc, search_key
from extensions import db

REFERENCE_MAX = 20
SURNAME_MAX = 100
# Case folding lengthens some letters (ß is ss; a few become three characters).
SURNAME_KEY_MAX = 3 * SURNAME_MAX
ADDRESS_MAX = 200
FIRST_NAME_MAX = 60
PHONE_MAX = 30
EMAIL_MAX = 254
CONTENT_MAX = 5000
AGREED_WITH_MAX = 300

# The codes of core.vocabulary, by the names the package has always given them.
STATUSES = vocabulary.FAMILY_STATUSES.codes
MEMBER_ROLES = vocabulary.MEMBER_ROLES.codes
REMINDER_CHANNELS = vocabulary.REMINDER_CHANNELS.codes

family_workers = sa.Table(
    "family_workers",
    db.metadata,
    sa.Column("family_id", sa.ForeignKey("families.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
)


class Family(db.Model):
    """A family in family work, known outside the system only by its reference."""

    __tablename__ = "families"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Pseudonymous reference such as PT-2026-0042: what feeds and lists show.
    reference: Mapped[str] = mapped_column(sa.String(REFERENCE_MAX), unique=True)
    surname: Mapped[str] = mapped_column(sa.String(SURNAME_MAX))
    # The surname as searches compare it (core.text.search_key), kept by the
    # model whenever the surname is set.
    surname_key: Mapped[str] = mapped_column(sa.String(SURNAME_KEY_MAX), index=True,
                                             default="")
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id"),
                                                 index=True)
    address: Mapped[str] = mapped_column(sa.String(ADDRESS_MAX), default="")
    # Non-disclosure of the address (turvakielto): only the family's assigned
    # workers and responsible social worker see it (services.may_see_address).
    address_non_disclosure: Mapped[bool] = mapped_column(default=False)
    track: Mapped[str] = mapped_column(sa.String(20))
    referral_source: Mapped[str] = mapped_column(sa.String(40))
    referral_date: Mapped[date]
    referred_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"),
                                                       index=True)
    responsible_social_worker_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="referred")
    languages: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # When the work ended (status closed), the start of the retention period;
    # and when the family's identity was removed after it.
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    anonymised_at: Mapped[datetime | None]

    municipality: Mapped[Municipality] = relationship()
    referred_by: Mapped[User | None] = relationship(foreign_keys=[referred_by_id])
    responsible_social_worker: Mapped[User | None] = relationship(
        foreign_keys=[responsible_social_worker_id])
    family_workers: Mapped[list[User]] = relationship(secondary=family_workers,
                                                      order_by=User.name)
    members: Mapped[list["Member"]] = relationship(
        back_populates="family", cascade="all, delete-orphan",
        order_by="(Member.role.desc(), Member.birth_date, Member.first_name)")
    plan: Mapped["Plan | None"] = relationship(back_populates="family",
                                               cascade="all, delete-orphan")
    track_changes: Mapped[list["TrackChange"]] = relationship(
        cascade="all, delete-orphan", order_by="TrackChange.changed_on")
    availability: Mapped[list["AvailabilityWindow"]] = relationship(
        cascade="all, delete-orphan",
        order_by="(AvailabilityWindow.weekday, AvailabilityWindow.start_time)")

    __table_args__ = (
        sa.CheckConstraint(vocabulary.TRACKS.check("track"), name="track"),
        sa.CheckConstraint(vocabulary.FAMILY_STATUSES.check("status"), name="status"),
        # Rule 2 of the work, kept by the database too.
        sa.CheckConstraint(
            "track <> 'child_protection' OR (referral_source = 'social_worker'"
            " AND responsible_social_worker_id IS NOT NULL)",
            name="child_protection_referral"),
    )

    @validates("reference", "surname", "address")
    def _composed(self, key, value):
        value = nfc(value)
        if key == "surname":
            self.surname_key = search_key(value)
        return value

    @property
    def guardians(self):
        return [member for member in self.members if member.role == "guardian"]

    @property
    def children(self):
        return [member for member in self.members if member.role == "child"]

    def __str__(self):
        return self.reference


class Member(db.Model):
    """A guardian or a child of a family."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(10))
    first_name: Mapped[str] = mapped_column(sa.String(FIRST_NAME_MAX))
    birth_date: Mapped[date | None]
    phone: Mapped[str] = mapped_column(sa.String(PHONE_MAX), default="")
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX), default="")
    reminder_channel: Mapped[str] = mapped_column(sa.String(10), default="none")
    locale: Mapped[str] = mapped_column(sa.String(5), default="fi")

    family: Mapped[Family] = relationship(back_populates="members")

    __table_args__ = (
        sa.CheckConstraint(vocabulary.MEMBER_ROLES.check("role"), name="role"),
        sa.CheckConstraint("role <> 'child' OR birth_date IS NOT NULL",
                           name="child_birth_date"),
        sa.CheckConstraint(vocabulary.REMINDER_CHANNELS.check("reminder_channel"),
                           name="reminder_channel"),
    )

    @validates("first_name", "phone", "email")
    def _composed(self, key, value):
        return nfc(value)

    def age_in_months(self, on: date) -> int | None:
        """Whole months of age on a date, or None without a birth date."""
        if self.birth_date is None:
            return None
        return age_in_months(self.birth_date, on)


class Plan(db.Model):
    """The family's plan: goals from the support areas, agreed with the family."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), unique=True)
    goals: Mapped[list] = mapped_column(sa.JSON, default=list)
    content: Mapped[str] = mapped_column(sa.Text, default="")
    agreed_with: Mapped[str] = mapped_column(sa.String(AGREED_WITH_MAX), default="")
    start_date: Mapped[date]
    review_date: Mapped[date]
    # For a child-protection family: the responsible social worker took part.
    social_worker_participated: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    family: Mapped[Family] = relationship(back_populates="plan")

    @validates("content", "agreed_with")
    def _composed(self, key, value):
        return nfc(value)


class TrackChange(db.Model):
    """A family moved from one service track to the other, on a date."""

    __tablename__ = "track_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), index=True)
    from_track: Mapped[str] = mapped_column(sa.String(20))
    to_track: Mapped[str] = mapped_column(sa.String(20))
    changed_on: Mapped[date]
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class AvailabilityWindow(db.Model):
    """When a family prefers to be met: a weekday and local times."""

    __tablename__ = "availability_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]
    start_time: Mapped[time]
    end_time: Mapped[time]

    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday"),
        sa.CheckConstraint("end_time > start_time", name="ends_after_start"),
    )

    def covers(self, weekday: int, start: time, end: time) -> bool:
        """Whether a stretch of local time on a weekday lies inside this window."""
        return weekday == self.weekday and self.start_time <= start and end <= self.end_time


# Until an admin sets another: six years after the family's work ended.
DEFAULT_RETENTION_YEARS = 6
DEFAULT_RETENTION_MONTHS = 0


class DataRetentionPolicy(db.Model):
    """How long a closed family's identity is kept before it is removed.

    One row; without it the defaults above hold.
    """

    __tablename__ = "data_retention_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    years: Mapped[int] = mapped_column(default=DEFAULT_RETENTION_YEARS)
    months: Mapped[int] = mapped_column(default=DEFAULT_RETENTION_MONTHS)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.CheckConstraint("years BETWEEN 0 AND 100", name="years"),
        sa.CheckConstraint("months BETWEEN 0 AND 11", name="months"),
        sa.CheckConstraint("years > 0 OR months > 0", name="some_period"),
    )


class ReferenceCounter(db.Model):
    """The last reference number handed out in a year (PT-2026-0042 is 42 of 2026).

    One row per year, raised by an upsert that returns the new number: two
    registrations at once take turns on the row and never get the same one,
    and a number is never reused, not even after its family is anonymised.
    """

    __tablename__ = "family_reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int]

    __table_args__ = (sa.CheckConstraint("last_number > 0", name="positive"),)
