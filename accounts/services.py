"""The rules of accounts: creating users, checking passwords, two-factor, API tokens."""

import gzip
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from accounts import two_factor
from accounts.models import EMAIL_MAX, NAME_MAX, ApiToken, RecoveryCode, User
from accounts.signals import account_deactivated
from core import audit
from core.errors import Conflict, NotFound, RuleViolation, ValidationFailed
from core.places import municipalities_named
from core.roles import ADMIN, ROLES
from core.tokens import hash_secret, new_secret
from extensions import db

# NIST SP 800-63B: at least 12 characters of any kind, no composition rules,
# and none of the passwords people choose most often.
MIN_PASSWORD_LENGTH = 12
# 20,000 common passwords, lowercased: Django's
# django/contrib/auth/common-passwords.txt.gz (Django 5.2, BSD 3-clause licence,
# list by Royce Williams), taken as it is.
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"


@cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(normalise_password(line.strip()).lower() for line in lines)


def normalise_password(password: str) -> str:
    """The form a password is hashed and checked in: Unicode NFKC, so the same
    characters typed on another keyboard or device still match (NIST 800-63B)."""
    return unicodedata.normalize("NFKC", password or "")


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None: too short or too common."""
    password = normalise_password(password)
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    if password.lower() in _common_passwords() or password.casefold() in _common_passwords():
        return _("This password is among the most common ones. Choose another.")
    return None


def hash_password(password: str, *, hash_method="scrypt") -> str:
    """The hash of a new password, after the rules; ValidationFailed when refused."""
    problem = password_problem(password)
    if problem:
        raise ValidationFailed(problem, fields={"password": problem})
    return generate_password_hash(normalise_password(password), method=hash_method)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether a password is the one hashed, typed in any Unicode form.

    A password set before passwords were normalised was hashed as typed; it is
    tried as typed too, so it still signs in.
    """
    password = password or ""
    normalised = normalise_password(password)
    if check_password_hash(password_hash, normalised):
        return True
    return normalised != password and check_password_hash(password_hash, password)


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
    problem = password_problem(password)
    if problem:
        fields["password"] = problem
    if fields:
        raise ValidationFailed(_("Check the highlighted fields."), fields=fields)
    if user_by_email(email) is not None:
        raise Conflict(_("A user with this e-mail address already exists."),
                       code="duplicate_email", fields={"email": _("Already in use.")})
    user = User(
        email=email,
        name=(name or email.split("@")[0]).strip(),
        role=role,
        password_hash=hash_password(password, hash_method=hash_method),
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
    if not password_matches(user.password_hash, password):
        count_failed_sign_in(user, now=now, lockout=lockout)
        return None
    user.failed_sign_ins, user.locked_until = 0, None
    return user


def count_failed_sign_in(user: User, *, now: datetime, lockout: Lockout) -> None:
    """A wrong password or second-factor code: enough in a row pause the account."""
    user.failed_sign_ins += 1
    if user.failed_sign_ins >= lockout.failures:
        user.failed_sign_ins = 0
        user.locked_until = now + timedelta(minutes=lockout.minutes)
        audit.record(user, "account.lock", "user", user.id, at=now,
                     detail={"until": user.locked_until.isoformat()})


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
    user.password_hash = hash_password(password, hash_method=hash_method)
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


# --- two-factor sign-in ------------------------------------------------------

def two_factor_required(user: User, required_roles) -> bool:
    """Whether the user's role must sign in with a second factor.

    ``required_roles`` is the setting TWO_FACTOR_REQUIRED_ROLES: a list of
    roles, or a comma-separated string of them as the environment gives it.
    """
    if isinstance(required_roles, str):
        required_roles = required_roles.split(",")
    return user.role in {role.strip() for role in required_roles or ()}


def start_two_factor_enrolment(user: User, *, secret_key: str) -> str:
    """The TOTP secret to enrol, kept sealed on the account until confirmed.

    A started but unconfirmed enrolment keeps its secret, so reloading the page
    does not make the QR code already scanned useless.
    """
    if user.two_factor_enrolled:
        raise Conflict(_("Two-factor sign-in is already set up."), code="already_enrolled")
    if user.totp_secret:
        try:
            return two_factor.unseal(user.totp_secret, secret_key)
        except two_factor.SealBroken:
            pass  # sealed under another SECRET_KEY: start afresh
    secret = two_factor.new_totp_secret()
    user.totp_secret = two_factor.seal(secret, secret_key)
    user.totp_last_step = None
    return secret


def confirm_two_factor(user: User, code: str, *, secret_key: str, now: datetime) -> list[str]:
    """Finish enrolment with a code from the app; return the recovery codes, shown once."""
    if user.two_factor_enrolled:
        raise Conflict(_("Two-factor sign-in is already set up."), code="already_enrolled")
    try:
        secret = two_factor.unseal(user.totp_secret or "", secret_key)
    except two_factor.SealBroken:
        user.totp_secret = None
        raise RuleViolation(_("Start the set-up again."), code="no_enrolment") from None
    step = two_factor.matching_step(secret, code, now)
    if step is None:
        message = _("The code is not right. Check the time of your phone and try again.")
        raise ValidationFailed(message, code="wrong_code", fields={"code": message})
    user.totp_confirmed_at = now
    user.totp_last_step = step
    audit.record(user, "account.two_factor_enrol", "user", user.id, at=now)
    return replace_recovery_codes(user)


def replace_recovery_codes(user: User) -> list[str]:
    """New recovery codes in place of any old ones; the codes are returned once."""
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = two_factor.new_recovery_codes()
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id,
                                    code_hash=two_factor.recovery_code_key(code)))
    db.session.flush()
    return codes


def verify_second_factor(user: User, code: str, *, secret_key: str, now: datetime,
                         lockout: Lockout) -> str | None:
    """Check a TOTP code or a recovery code; return which ("totp", "recovery") or None.

    A TOTP code is taken once: the step it belongs to must come after the last
    step taken, and the update that records it is conditional, so two requests
    with the same code cannot both pass. A recovery code is spent by a
    conditional update too. A wrong code counts as a failed sign-in.
    """
    if user.two_factor_enrolled and user.totp_secret and not user.locked(now):
        try:
            secret = two_factor.unseal(user.totp_secret, secret_key)
        except two_factor.SealBroken:
            secret = None
        step = two_factor.matching_step(secret, code, now) if secret else None
        if step is not None and _take_step(user, step):
            user.failed_sign_ins, user.locked_until = 0, None
            # Sealed again with the current SECRET_KEY, should a fallback have opened it.
            user.totp_secret = two_factor.seal(secret, secret_key)
            return "totp"
        key = two_factor.recovery_code_key(code)
        if key is not None and _spend_recovery_code(user, key, now):
            user.failed_sign_ins, user.locked_until = 0, None
            audit.record(user, "account.recovery_code_used", "user", user.id, at=now,
                         detail={"left": recovery_codes_left(user)})
            return "recovery"
    if not user.locked(now):
        count_failed_sign_in(user, now=now, lockout=lockout)
    return None


def _take_step(user: User, step: int) -> bool:
    taken = db.session.execute(
        db.update(User).where(User.id == user.id, db.or_(
            User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if taken.rowcount == 1:
        user.totp_last_step = step
        db.session.flush()
        return True
    return False


def _spend_recovery_code(user: User, key: str, now: datetime) -> bool:
    spent = db.session.execute(
        db.update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                      RecoveryCode.code_hash == key,
                                      RecoveryCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    return spent.rowcount == 1


def recovery_codes_left(user: User) -> int:
    """How many of the user's recovery codes are still unused."""
    return db.session.scalar(db.select(db.func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


def reset_two_factor(user: User) -> None:
    """Forget the user's second factor (an admin's decision, for a lost phone).

    Their sessions end, and where their role requires two-factor sign-in they
    enrol again at their next sign-in.
    """
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_sessions(user)
