"""The means of the second factor: TOTP secrets sealed at rest, codes, recovery codes.

A TOTP secret is kept sealed with a key derived from SECRET_KEY, so a copy of
the database alone gives no codes. The seal is Fernet (the `cryptography`
package: AES-128-CBC with an HMAC-SHA256 tag), whose key is derived from
SECRET_KEY for this one purpose. A key may be a list: the first (SECRET_KEY)
seals, each opens (MultiFernet), so the keys of SECRET_KEY_FALLBACKS keep
opening secrets while a new SECRET_KEY is rolled out, and a sign-in seals the
secret again with the new one. Without the old key, a sealed secret cannot be
opened: that person's two-factor sign-in is reset by an admin and set up
again (docs/operations.md).

Recovery codes have 80 random bits, so, like API tokens, a SHA-256 of each is
enough to keep: nobody can search that many for the one that matches.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.tokens import hash_secret

STEP_SECONDS = 30
DIGITS = 6
# A code of the step before or after is taken too: clocks drift, people type slowly.
ACCEPTED_STEPS = (-1, 0, 1)
RECOVERY_CODE_COUNT = 10
ISSUER = "Perhetyö"


class SealBroken(ValueError):
    """A sealed value that this SECRET_KEY did not seal, or that was changed."""


def _fernet(secret_key) -> MultiFernet:
    """One Fernet per key, the first sealing; each key derived for this purpose alone,
    so a SECRET_KEY that also signs cookies never encrypts with the same bytes."""
    keys = [secret_key] if isinstance(secret_key, str) else list(secret_key)
    return MultiFernet([
        Fernet(base64.urlsafe_b64encode(hmac.new(
            str(key).encode(), b"perhetyo totp seal", hashlib.sha256).digest()))
        for key in keys])


def seal(plain: str, secret_key) -> str:
    """``plain`` encrypted and authenticated with a key derived from ``secret_key``
    (the first, when a list of keys is given)."""
    return _fernet(secret_key).encrypt(plain.encode()).decode()


def unseal(sealed: str, secret_key) -> str:
    """The value :func:`seal` sealed; SealBroken when no key opens it or it was changed."""
    try:
        return _fernet(secret_key).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError) as error:
        raise SealBroken("sealed with another key, or changed") from error


def new_totp_secret() -> str:
    """A new TOTP secret: 160 random bits in base32, as authenticator apps take it."""
    return pyotp.random_base32(32)


def step_at(now: datetime) -> int:
    """The number of the 30-second step an instant falls in."""
    return int(now.timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The step whose code ``code`` is (this one, the one before or after), or None."""
    code = "".join((code or "").split())
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = step_at(now)
    for offset in ACCEPTED_STEPS:
        step = current + offset
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def provisioning_uri(secret: str, account: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=ISSUER)


def qr_svg(uri: str, title: str) -> str:
    """The QR code of ``uri`` as an inline SVG element (no external image, no script)."""
    return segno.make(uri, error="m").svg_inline(scale=4, title=title, border=2,
                                                 svgclass="qr-code")


def new_recovery_codes() -> list[str]:
    """Fresh one-time recovery codes, 16 base32 characters each, in groups of four."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = base64.b32encode(secrets.token_bytes(10)).decode()
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)).lower())
    return codes


def recovery_code_key(code: str) -> str | None:
    """The stored hash of a recovery code as typed (any case, dashes or spaces), or None
    when it cannot be one."""
    cleaned = "".join(character for character in (code or "").lower()
                      if character not in "- \t")
    if len(cleaned) != 16 or not cleaned.isascii() or not cleaned.isalnum():
        return None
    return hash_secret(cleaned)
