"""Text as it is stored and compared: one Unicode form, and a key for finding names.

The same name typed on two keyboards (``Ö`` as one character, or ``O`` with a
combining diaeresis) is stored as one string (NFC), and a search compares
keys in which case is folded for every letter, not only ASCII's: SQLite's
``lower()`` folds A-Z alone, so a search key computed here, stored beside the
name and indexed, answers alike on SQLite and PostgreSQL.
"""

import unicodedata

LIKE_ESCAPE = "\\"


def nfc(value):
    """Text in Unicode's composed form (NFC); anything else as it is."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def search_key(value: str | None) -> str:
    """The key a name is found by: composed, case folded, trimmed."""
    return unicodedata.normalize("NFC", nfc(value or "").strip().casefold())


def contains_pattern(text: str) -> str:
    """A LIKE pattern (escape ``LIKE_ESCAPE``) matching keys that contain ``text``."""
    key = search_key(text)
    for special in (LIKE_ESCAPE, "%", "_"):
        key = key.replace(special, LIKE_ESCAPE + special)
    return f"%{key}%"
