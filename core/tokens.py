"""Random secrets for URLs and headers, kept in the database only as hashes."""

import hashlib
import secrets

# 32 random bytes: 256 bits, far above the 128 the feeds and API need.
TOKEN_BYTES = 32


def new_secret() -> str:
    """A fresh URL-safe secret."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_secret(secret: str) -> str:
    """The SHA-256 hex digest stored in place of a secret.

    The secrets are random and long, so a fast hash is enough: there is no
    dictionary to guess from. Looking up by the digest keeps the comparison
    inside the database index, independent of how much of the secret matches.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
