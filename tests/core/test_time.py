"""The UTC column type, the clock and local-time helpers."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from core.clock import FixedClock
from core.http import date_filter, datetime_filter, time_filter
from core.localtime import iso_local, local_datetime, parse_instant
from core.models import AuditEvent
from extensions import db

HELSINKI = ZoneInfo("Europe/Helsinki")


def test_instants_are_stored_in_utc_and_read_back_aware(app):
    instant = datetime(2026, 12, 1, 17, 0, tzinfo=HELSINKI)
    event = AuditEvent(at=instant, action="test", target_type="test", detail={})
    db.session.add(event)
    db.session.commit()
    db.session.expire_all()

    stored = db.session.get(AuditEvent, event.id).at
    assert stored == instant
    assert stored.tzinfo is not None and stored.utcoffset().total_seconds() == 0
    assert stored.hour == 15


def test_naive_datetimes_are_refused(app):
    db.session.add(AuditEvent(at=datetime(2026, 12, 1, 17), action="t", target_type="t",
                              detail={}))
    with pytest.raises(Exception, match="timezone-aware"):
        db.session.flush()
    db.session.rollback()


def test_fixed_clock_requires_an_aware_instant():
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 1, 1))
    assert FixedClock(datetime(2026, 1, 1, tzinfo=HELSINKI)).now().tzinfo == UTC


def test_api_times_carry_the_local_offset(app):
    instant = local_datetime(date(2026, 12, 1), time(17, 0))
    assert iso_local(instant) == "2026-12-01T17:00:00+02:00"
    summer = local_datetime(date(2026, 6, 2), time(17, 0))
    assert iso_local(summer) == "2026-06-02T17:00:00+03:00"


def test_requests_may_send_an_offset_or_local_time(app):
    assert parse_instant("2026-12-01T17:00:00+02:00") == datetime(2026, 12, 1, 15, 0,
                                                                  tzinfo=UTC)
    assert parse_instant("2026-12-01T17:00") == datetime(2026, 12, 1, 15, 0,
                                                         tzinfo=UTC)
    for bad in ("2026-12-01", "tomorrow", "2026-13-01T10:00", ""):
        with pytest.raises(ValueError):
            parse_instant(bad)


def test_dates_and_times_are_written_the_finnish_way(app):
    with app.test_request_context(), force_locale("fi"):
        assert datetime_filter(local_datetime(date(2026, 12, 3), time(17, 0))) == \
            "to 3.12.2026 klo 17.00"
        assert datetime_filter(local_datetime(date(2026, 12, 1), time(9, 5))) == \
            "ti 1.12.2026 klo 9.05"
        assert date_filter(date(2026, 12, 6)) == "6.12.2026"
        assert date_filter(date(2026, 12, 6), weekday=True) == "su 6.12.2026"


def test_dates_and_times_in_english(app):
    with app.test_request_context(), force_locale("en"):
        assert datetime_filter(local_datetime(date(2026, 12, 3), time(17, 0))) == \
            "Thu 3 Dec 2026, 17:00"
        assert time_filter(local_datetime(date(2026, 6, 3), time(9, 5))) == "09:05"
