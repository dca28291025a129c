"""Staff accounts and their personal API tokens."""

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models import Municipality
from core.roles import ROLES
from extensions import db

user_municipalities = sa.Table(
    "user_municipalities",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("municipality_id", sa.ForeignKey("municipalities.id"), primary_key=True),
)

EMAIL_MAX = 254
NAME_MAX = 120


class User(UserMixin, db.Model):
    """A member of staff: admin, coordinator, family worker or social worker."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX), unique=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20))
    locale: Mapped[str] = mapped_column(sa.String(5), default="fi")
    active: Mapped[bool] = mapped_column(default=True)
    phone: Mapped[str] = mapped_column(sa.String(30), default="")
    created_at: Mapped[datetime]
    # Failed sign-ins in a row, and until when signing in is paused after too many.
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    # Part of every session's user id: raising it ends every session at once
    # ("sign out everywhere", a new password).
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # Two-factor sign-in: the TOTP secret, sealed with a key derived from
    # SECRET_KEY (accounts/two_factor.py); set when enrolment starts, in use
    # once confirmed with a code. The last step whose code was taken, so that
    # no code signs in twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))
    totp_confirmed_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    municipalities: Mapped[list[Municipality]] = relationship(
        secondary=user_municipalities, order_by=Municipality.name)

    __table_args__ = (
        sa.CheckConstraint(ROLES.check("role"), name="role"),
    )

    @property
    def is_active(self):
        return self.active

    def get_id(self) -> str:
        """What a session remembers: the id and the generation of sessions."""
        return f"{self.id}:{self.session_generation}"

    @property
    def two_factor_enrolled(self) -> bool:
        return self.totp_confirmed_at is not None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def __str__(self):
        return self.name


class ApiToken(db.Model):
    """A personal bearer token. Only the SHA-256 of the secret is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters, so a person can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(8))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A one-time code that stands in for the TOTP code; only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    used_at: Mapped[datetime | None]
