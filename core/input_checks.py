"""The checks of input shared by the API's fields (core/fields.py), the forms and
the command line: text without control characters, whole numbers and dates within
bounds, and the messages that say why a value is refused."""

import re
from datetime import date

from flask_babel import format_date, ngettext
from flask_babel import gettext as _

from core.localtime import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    NonexistentLocalTime,
    plausible_day,
)

# What text may not hold. Control characters (Unicode category Cc: C0, DEL and
# C1) break calendar lines and terminals wherever the text goes next; one-line
# text (names, places, references) also refuses line and paragraph separators,
# multi-line text (descriptions, notes) keeps its line breaks. Lone surrogates
# are not characters at all and cannot be encoded to be saved.
ONE_LINE_REFUSED = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MULTI_LINE_REFUSED = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SURROGATE = re.compile(r"[\ud800-\udfff]")


# The largest id, and whole number, both databases hold (a 32-bit integer).
MAX_ID = 2**31 - 1


def unstorable_text_message():
    """Why text with a NUL character is refused: PostgreSQL cannot store one."""
    return _("Contains a character that cannot be saved (NUL).")


def surrogate_message():
    """Why text with a lone surrogate (JSON's "\\ud800") is refused."""
    return _("Contains a character that cannot be saved (a lone surrogate).")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why a text cannot be taken as it is, or None: the one check of text input,
    for the API's fields, the forms and the command line."""
    if "\x00" in value:
        return unstorable_text_message()
    if SURROGATE.search(value):
        return surrogate_message()
    if multiline:
        if MULTI_LINE_REFUSED.search(value):
            return _("Contains a control character; only line breaks are allowed.")
    elif ONE_LINE_REFUSED.search(value):
        return _("Write this on one line, without line breaks or control characters.")
    return None


def years_message(earliest_year: int = EARLIEST_YEAR) -> str:
    """Why a date outside the years the app takes is refused."""
    return _("Give a date in the years %(first)d–%(last)d.", first=earliest_year,
             last=LATEST_YEAR)


def nonexistent_time_message(error: NonexistentLocalTime) -> str:
    """Why a local time skipped by the spring DST change is refused."""
    minutes = int(error.gap.total_seconds() // 60)
    day = format_date(error.day, "medium")
    if minutes == 60:
        return _("There is no %(time)s on %(date)s: the clocks go forward an hour.",
                 time=error.at.strftime("%H:%M"), date=day)
    return ngettext("There is no %(time)s on %(date)s: the clocks go forward"
                    " %(num)d minute.",
                    "There is no %(time)s on %(date)s: the clocks go forward"
                    " %(num)d minutes.", minutes, time=error.at.strftime("%H:%M"), date=day)


def read_whole_number(raw: str | None, low: int = 1, high: int = MAX_ID) -> int | None:
    """A whole number written in ASCII digits within bounds, else None.

    ``str.isdigit`` alone is not enough: "²" is a digit that ``int`` refuses.
    """
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > len(str(high)):
        return None
    number = int(raw)
    return number if low <= number <= high else None


def read_date(raw: str | None, earliest_year: int = EARLIEST_YEAR) -> date | None:
    """An ISO date (2026-12-01) in the years the app takes, else None."""
    try:
        day = date.fromisoformat(raw or "")
    except ValueError:
        return None
    return day if plausible_day(day, earliest_year) else None
