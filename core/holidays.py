"""Days when the unit does no scheduled work: Finnish public holidays and blackouts."""

from datetime import date
from functools import cache

import holidays as holiday_calendars

# The Finnish calendar of the `holidays` package includes Midsummer Eve and
# Christmas Eve, which are de facto days off in Finland.


@cache
def _year(year: int, language: str) -> tuple[tuple[date, str], ...]:
    """One year's holidays; a year's holidays never change, so they are kept."""
    names = holiday_calendars.Finland(years=year,
                                      language="en_US" if language == "en" else "fi")
    return tuple(sorted(names.items()))


def finnish_holidays(start: date, end: date, language: str = "fi") -> dict[date, str]:
    """Finnish public holidays between two dates (inclusive), named in a language."""
    return {day: name for year in range(start.year, end.year + 1)
            for day, name in _year(year, language) if start <= day <= end}


def days_off(start: date, end: date, blackouts: dict[date, str] | None = None,
             language: str = "fi") -> dict[date, str]:
    """Holidays and blackout dates between two dates, each with its reason.

    ``blackouts`` maps admin blackout dates to their reasons; a blackout on a
    holiday keeps the holiday's name.
    """
    result = {day: reason for day, reason in (blackouts or {}).items()
              if start <= day <= end}
    result.update(finnish_holidays(start, end, language))
    return result
