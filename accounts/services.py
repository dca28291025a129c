"""The rules of accounts: creating users, checking passwords, API tokens."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from accounts.models import EMAIL_MAX, NAME_MAX, ApiToken, User
from accounts.signals import account_deactivated
from core import audit
from core.errors import Conflict, NotFound, RuleViolation, ValidationFailed
from core.places import municipalities_named
from core.roles import ADMIN, ROLES
from core.tokens import hash_secret, new_secret
from extensions import db

MIN_PASSWORD_LENGTH = 8


def normalise_email(email: str) -> str:
    """E-mail addresses are compared without case or surrounding spaces."""
    return (email or "").strip().lower()


def user_by_email(email: str) -> User | None:
    """The user with that e-mail address, if any."""
    return db.session.scalar(db.select(User).where(User.email == normalise_email(email)))


def create_user(*, email, name, role, password, municipalities=(), locale="fi",
                clock, hash_method="scrypt") -> User:
    """Create a staff account; municipalities are given by name.

    ``hash_method`` is Werkzeug's; only the test suite passes a cheaper one.
    """
    email = normalise_email(email)
    fields = {}
    if "@" not in email or len(email) > EMAIL_MAX:
        fields["email"] = _("Enter a valid e-mail address.")
    if role not in ROLES:
        fields["role"] = _("Unknown role.")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        fields["password"] = _("The password must have at least %(n)d characters.",
                               n=MIN_PASSWORD_LENGTH)
    if fields:
        raise ValidationFailed(_("Check the highlighted fields."), fields=fields)
    if user_by_email(email) is not None:
        raise Conflict(_("A user with this e-mail address already exists."),
                       code="duplicate_email", fields={"email": _("Already in use.")})
    user = User(
        email=email,
        name=(name or email.split("@")[0]).strip(),
        role=role,
        password_hash=generate_password_hash(password, method=hash_method),
        locale=locale,
        created_at=clock.now(),
        municipalities=municipalities_named(municipalities),
    )
    db.session.add(user)
    db.session.flush()
    return user


@dataclass(frozen=True)
class Lockout:
    """After ``failures`` failed sign-ins in a row, signing in to the account is
    paused for ``minutes``, whatever password is given."""

    failures: int
    minutes: int


def authenticate(email: str, password: str, *, now: datetime,
                 lockout: Lockout) -> User | None:
    """The active user with that e-mail and password, or None.

    A failure is counted on the account, and enough of them in a row pause it;
    the caller commits either way. A paused account, a missing one and a wrong
    password look the same from outside and take as long.
    """
    user = user_by_email(email)
    if user is None or not user.active or user.locked(now):
        # Hash anyway so that a missing account takes as long as a wrong password.
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        user.failed_sign_ins += 1
        if user.failed_sign_ins >= lockout.failures:
            user.failed_sign_ins = 0
            user.locked_until = now + timedelta(minutes=lockout.minutes)
            audit.record(user, "account.lock", "user", user.id, at=now,
                         detail={"until": user.locked_until.isoformat()})
        return None
    user.failed_sign_ins, user.locked_until = 0, None
    return user


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: every session cookie stops working at once."""
    user.session_generation += 1


def unlock(user: User) -> None:
    """Let a paused account sign in again at once (an admin's decision)."""
    user.failed_sign_ins, user.locked_until = 0, None


_DUMMY_HASH = generate_password_hash("not a real password")


def issue_api_token(user: User, *, clock) -> str:
    """Create a personal API token and return its secret, shown only once."""
    secret = new_secret()
    db.session.add(ApiToken(user=user, token_hash=hash_secret(secret), prefix=secret[:8],
                            created_at=clock.now()))
    db.session.flush()
    return secret


def find_api_token(secret: str) -> ApiToken | None:
    """The token of a secret, revoked or not; None when no token ever had it."""
    return db.session.scalar(db.select(ApiToken).where(
        ApiToken.token_hash == hash_secret(secret)))


def user_for_token(token: ApiToken | None, *, clock) -> User | None:
    """The active user a live token belongs to, noting when it was used."""
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    token.last_used_at = clock.now()
    return token.user


def user_for_api_token(secret: str, *, clock) -> User | None:
    """The active user a bearer token belongs to, noting when it was used."""
    return user_for_token(find_api_token(secret), clock=clock)


def revoke_api_token(user: User, token_id: int, *, clock) -> None:
    """Revoke one of a user's own tokens; another's is not found (nor said to exist)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = clock.now()


def staff(role: str | None = None) -> list[User]:
    """Active staff, optionally of one role, by name."""
    query = db.select(User).where(User.active.is_(True)).order_by(User.name)
    if role:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))


def _check_own_account(actor: User, user: User, *, role: str, active: bool) -> None:
    """An admin keeps their own access: no deactivating or demoting oneself.

    Otherwise the last admin could lock everyone out of the admin pages.
    """
    if actor.id != user.id:
        return
    if not active:
        raise RuleViolation(_("You cannot deactivate your own account."),
                            code="own_account",
                            fields={"active": _("You cannot deactivate your own account.")})
    if actor.role == ADMIN and role != ADMIN:
        raise RuleViolation(_("You cannot remove your own administrator role."),
                            code="own_account",
                            fields={"role": _("You cannot remove your own administrator"
                                              " role.")})


def update_user(actor: User, user: User, *, name, role, municipalities=(), locale,
                active: bool, clock) -> list[str]:
    """Change a user's details; municipalities are given by name. Making the
    account inactive closes it as `deactivate` does.

    Returns the names of the fields that changed, for the audit log.
    """
    name = (name or "").strip()
    fields = {}
    if not name or len(name) > NAME_MAX:
        fields["name"] = _("Give a name of at most %(n)d characters.", n=NAME_MAX)
    if role not in ROLES:
        fields["role"] = _("Unknown role.")
    if fields:
        raise ValidationFailed(_("Check the highlighted fields."), fields=fields)
    _check_own_account(actor, user, role=role, active=active)
    places = municipalities_named(municipalities)
    changed = [field for field, old, new in (
        ("name", user.name, name),
        ("role", user.role, role),
        ("municipalities", {place.id for place in user.municipalities},
         {place.id for place in places}),
        ("locale", user.locale, locale),
        ("active", user.active, active),
    ) if old != new]
    closing = user.active and not active
    user.name, user.role, user.locale = name, role, locale
    user.municipalities = places
    if closing:
        _close(actor, user, now=clock.now())
    else:
        user.active = active
    return changed


def set_password(user: User, password: str, *, hash_method="scrypt") -> None:
    """Give a user a new password (an admin's reset; the old one stops working)."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        message = _("The password must have at least %(n)d characters.",
                    n=MIN_PASSWORD_LENGTH)
        raise ValidationFailed(message, fields={"password": message})
    user.password_hash = generate_password_hash(password, method=hash_method)
    if user.id is not None:
        end_sessions(user)  # whoever knew the old one is signed out
        unlock(user)


def deactivate(actor: User, user: User, *, clock) -> None:
    """Close an account: the user can no longer sign in, and every credential of
    it stops for good (see `_close`)."""
    _check_own_account(actor, user, role=user.role, active=False)
    if user.active:
        _close(actor, user, now=clock.now())


def _close(actor: User, user: User, *, now: datetime) -> None:
    """Make the account inactive and end what it holds: its sessions, its API
    tokens, and (through ``account_deactivated``) the calendar feeds it made or
    whose calendar it is. They are revoked, not merely refused, so making the
    account active again gives the person a fresh start, not the old secrets,
    some of which may be in hands they should no longer be in."""
    user.active = False
    end_sessions(user)
    for token in db.session.scalars(db.select(ApiToken).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = now
    account_deactivated.send(user, actor=actor, now=now)


def list_users(*, role: str | None = None, active: bool | None = None) -> list[User]:
    """Every account, optionally of one role or only (in)active ones, by name."""
    query = db.select(User).order_by(User.name, User.id)
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    return list(db.session.scalars(query))
