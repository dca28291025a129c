"""The unit's time zone: turning instants into local wall-clock time and back."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


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


def local_today(now: datetime, zone: ZoneInfo | None = None) -> date:
    """The local calendar date at an instant."""
    return to_local(now, zone).date()


def parse_instant(text: str, zone: ZoneInfo | None = None) -> datetime:
    """Parse an ISO 8601 date-time, with an offset or as local wall-clock time.

    Returns the instant in UTC; raises ValueError for anything else.
    """
    if not isinstance(text, str) or "T" not in text and " " not in text.strip():
        raise ValueError("not an ISO 8601 date-time")
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        return local_datetime(value.date(), value.time(), zone)
    return value.astimezone(UTC)


def iso_local(instant: datetime | None, zone: ZoneInfo | None = None) -> str | None:
    """ISO 8601 with the local offset, the API's form: 2026-12-01T17:00:00+02:00."""
    if instant is None:
        return None
    return to_local(instant, zone).isoformat(timespec="seconds")
