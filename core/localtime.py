"""The unit's time zone: turning instants into local wall-clock time and back."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

# The years of dates and times the app takes as input, in every form, query and
# body: work is planned within them, and outside them a typing error would
# overflow date arithmetic (year 1 less a day) or, before 2000, meet the zone's
# local mean time, whose offset has seconds that ISO 8601 cannot write.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
# The same bounds as days: the first and the last day the app takes as input.
EARLIEST_DAY, LATEST_DAY = date(EARLIEST_YEAR, 1, 1), date(LATEST_YEAR, 12, 31)
# People are born before the work's years: a guardian's birth date may be older.
EARLIEST_BIRTH_YEAR = 1900


def plausible_day(day: date, earliest_year: int = EARLIEST_YEAR) -> bool:
    """Whether a date (or a date-time) falls in the years the app takes as input."""
    return earliest_year <= day.year <= LATEST_YEAR


def age_in_months(born: date, on: date) -> int:
    """Whole months of age on a date, as groups' age ranges count them.

    A child born on the 31st turns a month older on the last day of a
    shorter month only when that day is reached: the day of the month must
    have come round (10 January to 9 February is 0 months, to 10 February 1).
    """
    months = (on.year - born.year) * 12 + on.month - born.month
    return months - 1 if on.day < born.day else months


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by the spring DST change: input, not a series, gave it."""

    def __init__(self, day: date, at: time, gap: timedelta):
        super().__init__(f"{at:%H:%M} does not exist on {day.isoformat()}")
        self.day = day
        self.at = at
        self.gap = gap


def unit_zone() -> ZoneInfo:
    """The unit's zone from the TIMEZONE setting (default Europe/Helsinki)."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(instant: datetime, zone: ZoneInfo | None = None) -> datetime:
    """An aware instant shown in the unit's zone."""
    return instant.astimezone(zone or unit_zone())


def local_datetime(day: date, at: time, zone: ZoneInfo | None = None) -> datetime:
    """The instant of a wall-clock time on a day in the unit's zone, in UTC.

    A time that does not exist (skipped by the spring DST change) is moved
    forward by the gap, as a wall clock would be; an ambiguous autumn time
    takes its first occurrence.
    """
    zone = zone or unit_zone()
    # PEP 495: with fold=0 a time in the spring gap takes the offset from before
    # the change, which lands after the gap; an autumn time its first occurrence.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def strict_local_datetime(day: date, at: time, zone: ZoneInfo | None = None) -> datetime:
    """The instant of a wall-clock time on a day, in UTC, for input.

    Unlike ``local_datetime`` (which series use, moving a time in the spring gap
    forward), a time that does not exist that day raises NonexistentLocalTime:
    someone typed it, and should be told rather than booked an hour later. An
    ambiguous autumn time takes its first occurrence.
    """
    zone = zone or unit_zone()
    instant = local_datetime(day, at, zone)
    wall = datetime.combine(day, at)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        before = wall.replace(tzinfo=zone, fold=0).utcoffset()
        after = wall.replace(tzinfo=zone, fold=1).utcoffset()
        raise NonexistentLocalTime(day, at, abs(after - before))
    return instant


def local_today(now: datetime, zone: ZoneInfo | None = None) -> date:
    """The local calendar date at an instant."""
    return to_local(now, zone).date()


def parse_instant(text: str, zone: ZoneInfo | None = None) -> datetime:
    """Parse an ISO 8601 date-time, with an offset or as local wall-clock time.

    Returns the instant in UTC; raises ValueError for anything else, and
    NonexistentLocalTime (a ValueError) for a local time skipped by the spring
    DST change.
    """
    if not isinstance(text, str) or "T" not in text and " " not in text.strip():
        raise ValueError("not an ISO 8601 date-time")
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        return strict_local_datetime(value.date(), value.time(), zone)
    return value.astimezone(UTC)


def iso_local(instant: datetime | None, zone: ZoneInfo | None = None) -> str | None:
    """ISO 8601 with the local offset, the API's form: 2026-12-01T17:00:00+02:00."""
    if instant is None:
        return None
    return to_local(instant, zone).isoformat(timespec="seconds")
