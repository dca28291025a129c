"""What the reminder tests share: booking through the services, a dispatcher pass."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from calendars import services as calendar_services
from calendars.conflicts import TravelPolicy
from core.clock import FixedClock
from extensions import db
from reminders import dispatcher
from reminders.channels import Channel
from reminders.models import Reminder
from tests.conftest import NOW

HELSINKI = ZoneInfo("Europe/Helsinki")
SETTINGS = calendar_services.CalendarSettings(TravelPolicy(1.2, 15), "1-7 00:00-23:59", 15)


def at(month, day, hour, minute=0, year=2026):
    return datetime(year, month, day, hour, minute, tzinfo=HELSINKI)


def book(actor, family, start, minutes=60, kind="home_visit", clock=None):
    """A visit booked through the calendar service, committed."""
    visit = calendar_services.book_visit(
        actor, family, kind=kind, start=start, end=start + timedelta(minutes=minutes),
        worker_ids=[worker.id for worker in family.family_workers], confirm=True,
        zone=HELSINKI, settings=SETTINGS, clock=clock or FixedClock(NOW))
    db.session.commit()
    return visit


def change(actor, visit, clock=None, **changes):
    calendar_services.update_visit(actor, visit, changes, confirm=True, zone=HELSINKI,
                                   settings=SETTINGS, clock=clock or FixedClock(NOW))
    db.session.commit()


def rows(**where) -> list[Reminder]:
    """Outbox rows, oldest first, read afresh."""
    db.session.expire_all()
    query = sa.select(Reminder).order_by(Reminder.id)
    for name, value in where.items():
        query = query.where(getattr(Reminder, name) == value)
    return list(db.session.scalars(query))


class Recorder(Channel):
    """A channel that keeps what it is given (no ``kind``: not a setting's choice)."""

    def __init__(self, fail_with=None):
        self.sent = []
        self.fail_with = fail_with

    def send(self, message):
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)
        return f"id-{len(self.sent)}"


def dispatch(now, channels=None, **settings):
    """One dispatcher pass at a fixed instant; returns (result, channels)."""
    channels = channels or {"email": Recorder(), "sms": Recorder()}
    options = {"retry_seconds": 60, "max_attempts": 3, **settings}
    result = dispatcher.dispatch_pass(
        clock=FixedClock(now), channels=channels,
        settings=dispatcher.DispatchSettings(**options), zone=HELSINKI, worker="test")
    return result, channels
