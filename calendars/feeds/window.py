"""What of its owner's events a feed shows: the stretch of time it covers, the
cancelled events it still keeps, at most how many events, and at which
privacy level."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app

from calendars.events import Event as CalendarEvent
from core.localtime import local_datetime, to_local


@dataclass(frozen=True)
class FeedWindow:
    """The stretch of time a feed covers and which cancelled events it still shows."""

    start: datetime
    end: datetime
    cancelled_since: datetime
    first_day: date
    last_day: date

    @classmethod
    def around(cls, now: datetime, zone, config) -> "FeedWindow":
        today = to_local(now, zone).date()
        first = today - timedelta(days=config["FEED_WINDOW_PAST_DAYS"])
        last = today + timedelta(days=config["FEED_WINDOW_FUTURE_DAYS"])
        return cls(local_datetime(first, time(0), zone),
                   local_datetime(last + timedelta(days=1), time(0), zone),
                   now - timedelta(days=config["FEED_CANCELLED_RETENTION_DAYS"]),
                   first, last)


def within_limit(events: list[CalendarEvent], today: datetime,
                 limit: int) -> list[CalendarEvent]:
    """At most ``limit`` events: those from today on first, then the latest of those
    before; the oldest are dropped first. Split at the day's start, the
    selection changes only when the window moves or an event does."""
    if len(events) <= limit:
        return events
    coming = [event for event in events if event.end > today]
    past = [event for event in events if event.end <= today]
    room = max(limit - len(coming), 0)
    kept = (past[len(past) - room:] if room else []) + coming[:limit]
    return sorted(kept, key=lambda event: (event.start, event.kind, event.id))


def served_privacy(privacy: str) -> str:
    """A feed's level as served: minimal wherever the policy no longer allows
    detailed feeds, so one made while it did shows no surname or address once it
    does not."""
    if privacy == "detailed" and not current_app.config["FEED_DETAILED_ALLOWED"]:
        return "minimal"
    return privacy
