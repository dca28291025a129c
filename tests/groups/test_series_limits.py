"""A series' limits are one set: 104 occurrences, the last date 103 weeks and
6 days after the first, for the fields' check and the materialiser alike."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import ValidationFailed
from core.recurrence import MAX_OCCURRENCES, MAX_SPAN, SeriesRule, materialise
from groups import series as group_series

HELSINKI = ZoneInfo("Europe/Helsinki")
FIRST = date(2027, 1, 4)  # a Monday
FIELDS = {"start_time": time(17, 0), "duration_minutes": 90, "first_date": FIRST}


def test_the_limit_is_two_years_of_weekly_meetings():
    assert MAX_OCCURRENCES == 104
    assert timedelta(weeks=103, days=6) == MAX_SPAN


def test_a_series_of_the_most_occurrences_is_taken_and_one_more_is_refused(app):
    rule = group_series.series_rule(weekday=1, count=MAX_OCCURRENCES, **FIELDS)
    assert len(materialise(rule, HELSINKI).occurrences) == MAX_OCCURRENCES
    with pytest.raises(ValidationFailed) as refused:
        group_series.series_rule(weekday=1, count=MAX_OCCURRENCES + 1, **FIELDS)
    assert "104" in str(refused.value.fields["count"])
    with pytest.raises(ValueError):
        SeriesRule(weekday=1, count=MAX_OCCURRENCES + 1, **FIELDS)


@pytest.mark.parametrize("weekday", range(1, 8))
def test_the_longest_weekly_series_by_its_last_date_stays_within_the_limit(app, weekday):
    """Whichever weekday the first date falls on: the materialiser never meets
    more occurrences than the fields' check lets through."""
    rule = group_series.series_rule(weekday=weekday, until=FIRST + MAX_SPAN, **FIELDS)
    occurrences = materialise(rule, HELSINKI).occurrences
    assert len(occurrences) <= MAX_OCCURRENCES
    assert len(occurrences) >= MAX_OCCURRENCES - 1


def test_a_last_date_beyond_the_span_is_refused(app):
    with pytest.raises(ValidationFailed) as refused:
        group_series.series_rule(weekday=1, until=FIRST + MAX_SPAN + timedelta(days=1), **FIELDS)
    assert "until" in refused.value.fields
