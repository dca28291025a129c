"""Days and clocks of the demo's history, replayed step by step in time."""

from datetime import date, datetime, time, timedelta

from core.clock import FixedClock
from core.localtime import local_datetime

HISTORY_DAYS = 540  # referrals spread over the last ~18 months


def clock_on(day: date, now: datetime, hour: int = 9) -> FixedClock:
    """A clock on a past working morning, never later than the real "now"."""
    return FixedClock(min(local_datetime(day, time(hour, 0)), now))


def working_day(day: date, closed: dict) -> date:
    """The day itself or the next one that is neither a weekend nor in ``closed``."""
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    return day


def days_from(day: date, count: int, closed: dict) -> list[date]:
    """``count`` working days from ``day`` on (``closed``: days off by date)."""
    days = []
    while len(days) < count:
        day = working_day(day, closed)
        days.append(day)
        day += timedelta(days=1)
    return days


def by_id(rows: list) -> list:
    """Rows in the order they were created.

    A relationship loaded from the database comes in its own order, one still
    in memory since its creation in the order it was built; which of the two
    the demo sees depends on garbage collection, so order explicitly.
    """
    return sorted(rows, key=lambda row: row.id)
