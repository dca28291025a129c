"""Weekly and fortnightly series in local wall-clock time, made into occurrences.

A series such as "Tuesdays 17:00-18:30, ten times" is defined in the unit's
local time and materialised into one occurrence per date, each with its own UTC
instant, so that a DST change keeps 17:00 at 17:00. Holidays and blackout
dates are skipped and reported, and do not count towards ``count``: a group
promised ten sessions gets ten.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.localtime import local_datetime

# The limits of a series, for groups' sessions and home visits alike: two
# years of weekly occurrences. A longer series is a typing error, not a plan.
MAX_OCCURRENCES = 104
# The last date of a series is at most this long after its first: 104 weekly
# dates at most, whichever weekday the first date falls on.
MAX_SPAN = timedelta(weeks=MAX_OCCURRENCES - 1, days=6)


@dataclass(frozen=True)
class SeriesRule:
    """A series as people describe it, in local time.

    ``weekday`` is 1-7 from Monday (ISO). Exactly one of ``count`` and
    ``until`` bounds the series; ``until`` is inclusive.
    """

    weekday: int
    start_time: time
    duration_minutes: int
    first_date: date
    count: int | None = None
    until: date | None = None
    interval_weeks: int = 1

    def __post_init__(self):
        if not 1 <= self.weekday <= 7:
            raise ValueError("weekday must be 1-7 from Monday")
        if self.duration_minutes <= 0:
            raise ValueError("duration must be positive")
        if self.interval_weeks not in (1, 2):
            raise ValueError("a series is weekly or fortnightly")
        if (self.count is None) == (self.until is None):
            raise ValueError("give either count or until")
        if self.count is not None and not 1 <= self.count <= MAX_OCCURRENCES:
            raise ValueError(f"count must be 1-{MAX_OCCURRENCES}")
        if self.until is not None and self.until < self.first_date:
            raise ValueError("until is before the first date")


@dataclass(frozen=True)
class Occurrence:
    """One occurrence: its local date and its instants in UTC."""

    day: date
    start: datetime
    end: datetime


@dataclass(frozen=True)
class SkippedDate:
    """A date the series would have had, and why it was left out."""

    day: date
    reason: str


@dataclass
class Schedule:
    """What a series becomes: the occurrences and the dates skipped."""

    occurrences: list[Occurrence] = field(default_factory=list)
    skipped: list[SkippedDate] = field(default_factory=list)


def first_on_weekday(start: date, weekday: int) -> date:
    """The first date on or after ``start`` that falls on an ISO weekday."""
    return start + timedelta(days=(weekday - start.isoweekday()) % 7)


def materialise(rule: SeriesRule, zone: ZoneInfo,
                day_off: Callable[[date], str | None] = lambda day: None) -> Schedule:
    """Turn a series rule into occurrences, skipping the days ``day_off`` names.

    ``day_off(day)`` returns the reason a date is not worked (a holiday's
    name, a blackout's reason) or None.
    """
    schedule = Schedule()
    day = first_on_weekday(rule.first_date, rule.weekday)
    step = timedelta(weeks=rule.interval_weeks)
    # Bounded even when every date is off: at most this many candidate dates.
    for _ in range(MAX_OCCURRENCES * 2):
        if rule.until is not None and day > rule.until:
            break
        if rule.count is not None and len(schedule.occurrences) >= rule.count:
            break
        reason = day_off(day)
        if reason:
            schedule.skipped.append(SkippedDate(day, reason))
        else:
            start = local_datetime(day, rule.start_time, zone)
            end_local = datetime.combine(day, rule.start_time) + timedelta(
                minutes=rule.duration_minutes)
            end = local_datetime(end_local.date(), end_local.time(), zone)
            schedule.occurrences.append(Occurrence(day, start, end))
        day += step
    if len(schedule.occurrences) > MAX_OCCURRENCES:
        raise ValueError(f"a series has at most {MAX_OCCURRENCES} occurrences")
    return schedule
