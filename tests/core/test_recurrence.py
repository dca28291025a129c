"""The recurrence helper: local wall-clock series across DST, holidays skipped."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.holidays import days_off
from core.recurrence import SeriesRule, materialise

HELSINKI = ZoneInfo("Europe/Helsinki")


def finnish_days_off(blackouts=None):
    """A day_off function over the Finnish holidays of a wide range of years."""
    calendar = days_off(date(2026, 1, 1), date(2028, 12, 31), blackouts)
    return calendar.get


def test_tuesday_series_keeps_local_time_across_october_dst_change():
    # The last Sunday of October 2026 is the 25th: EEST (+03) turns into EET (+02).
    rule = SeriesRule(weekday=2, start_time=time(17, 0), duration_minutes=90,
                      first_date=date(2026, 10, 13), count=4)
    schedule = materialise(rule, HELSINKI, finnish_days_off())

    local_starts = [occurrence.start.astimezone(HELSINKI) for occurrence in schedule.occurrences]
    assert [start.date() for start in local_starts] == [
        date(2026, 10, 13), date(2026, 10, 20), date(2026, 10, 27), date(2026, 11, 3)]
    assert all(start.time() == time(17, 0) for start in local_starts)
    assert [start.utcoffset() for start in local_starts] == [
        timedelta(hours=3), timedelta(hours=3), timedelta(hours=2), timedelta(hours=2)]
    # In UTC the instant moves by an hour: 14:00 before the change, 15:00 after.
    assert schedule.occurrences[1].start.hour == 14
    assert schedule.occurrences[2].start.hour == 15
    assert all(o.end - o.start == timedelta(minutes=90) for o in schedule.occurrences)


def test_independence_day_is_skipped_and_reported():
    # 6 December 2027 is a Monday.
    rule = SeriesRule(weekday=1, start_time=time(10, 0), duration_minutes=60,
                      first_date=date(2027, 11, 22), count=3)
    schedule = materialise(rule, HELSINKI, finnish_days_off())

    assert [o.day for o in schedule.occurrences] == [
        date(2027, 11, 22), date(2027, 11, 29), date(2027, 12, 13)]
    assert [s.day for s in schedule.skipped] == [date(2027, 12, 6)]
    assert schedule.skipped[0].reason == "Itsenäisyyspäivä"


def test_midsummer_eve_is_skipped_and_reported():
    # Midsummer Eve 2027 is Friday 25 June.
    rule = SeriesRule(weekday=5, start_time=time(9, 30), duration_minutes=120,
                      first_date=date(2027, 6, 11), until=date(2027, 7, 2))
    schedule = materialise(rule, HELSINKI, finnish_days_off())

    assert [o.day for o in schedule.occurrences] == [
        date(2027, 6, 11), date(2027, 6, 18), date(2027, 7, 2)]
    assert [(s.day, s.reason) for s in schedule.skipped] == [
        (date(2027, 6, 25), "Juhannusaatto")]


def test_blackout_dates_are_skipped_with_their_reason():
    rule = SeriesRule(weekday=3, start_time=time(13, 0), duration_minutes=60,
                      first_date=date(2027, 1, 13), count=2)
    schedule = materialise(rule, HELSINKI,
                           finnish_days_off({date(2027, 1, 13): "Koulutuspäivä"}))

    assert [o.day for o in schedule.occurrences] == [date(2027, 1, 20), date(2027, 1, 27)]
    assert [(s.day, s.reason) for s in schedule.skipped] == [
        (date(2027, 1, 13), "Koulutuspäivä")]


def test_fortnightly_series_starts_on_the_first_matching_weekday():
    rule = SeriesRule(weekday=4, start_time=time(17, 0), duration_minutes=60,
                      first_date=date(2027, 2, 1), count=3, interval_weeks=2)
    schedule = materialise(rule, HELSINKI)

    assert [o.day for o in schedule.occurrences] == [
        date(2027, 2, 4), date(2027, 2, 18), date(2027, 3, 4)]


def test_time_in_the_spring_gap_moves_past_the_gap():
    # 28 March 2027: Helsinki clocks jump from 03:00 to 04:00.
    rule = SeriesRule(weekday=7, start_time=time(3, 30), duration_minutes=30,
                      first_date=date(2027, 3, 28), count=1)
    occurrence = materialise(rule, HELSINKI).occurrences[0]

    assert occurrence.start.astimezone(HELSINKI).time() == time(4, 30)


@pytest.mark.parametrize("kwargs", [
    {"weekday": 0}, {"weekday": 8}, {"duration_minutes": 0}, {"interval_weeks": 3},
    {"count": None}, {"count": 0}, {"count": 1000}, {"until": date(2026, 1, 1), "count": None},
    {"until": date(2027, 1, 1)},
])
def test_malformed_series_are_refused(kwargs):
    arguments = {"weekday": 2, "start_time": time(17), "duration_minutes": 60,
                 "first_date": date(2026, 12, 1), "count": 5, **kwargs}
    with pytest.raises(ValueError):
        SeriesRule(**arguments)
