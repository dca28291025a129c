"""What a feed says, made from the database: its owner's events in its window as
iCalendar bytes, and the cached feed (ETag, Last-Modified, body) made of them.

A feed is made once per change of its stamps, per local day and per cancelled
event leaving, from events serialised once (``calendars.feeds.ical``). The
ETag is the body's hash, so it changes exactly when the body does, in every
process alike.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from flask_babel import force_locale

from calendars.events import events_of
from calendars.feeds import ical
from calendars.feeds.serving import CachedFeed
from calendars.feeds.tokens import FeedRead, feed_name
from calendars.feeds.window import FeedWindow, served_privacy, within_limit
from core.localtime import local_datetime, to_local, unit_zone


@dataclass(frozen=True)
class MadeFeed:
    """A feed's body as the database has it, the last instant at which that body
    may have changed, and the instant at which time alone changes it."""

    body: bytes
    changed: datetime
    valid_until: datetime


def made_feed(subscription: FeedRead, now: datetime) -> MadeFeed:
    """The feed made from the database alone: no feed cached by a process is read.

    Its last change is the latest of what the body depends on: its events'
    revisions, the stamps of its owner and of every feed (a deletion, a rename),
    the day's start (the window and the limit move with the local day), and the
    end of retention of the last cancelled event that left. All of them are in
    the database or the clock, so every process gives the same.
    """
    config, zone = current_app.config, unit_zone()
    window = FeedWindow.around(now, zone, config)
    retention = timedelta(days=config["FEED_CANCELLED_RETENTION_DAYS"])
    events = events_of(subscription.owner_type, subscription.owner_id, window.start,
                       window.end, include_cancelled=True)
    kept = [event for event in events
            if event.active or event.last_modified >= window.cancelled_since]
    today = to_local(now, zone).date()
    day_start = local_datetime(today, time(0), zone)
    shown = within_limit(kept, day_start, config["FEED_MAX_EVENTS"])
    with force_locale(subscription.locale):  # the feed's language, not the fetcher's
        name = feed_name(subscription)
    body = ical.build(shown, name=name, owner_type=subscription.owner_type,
                      privacy=served_privacy(subscription.privacy),
                      locale=subscription.locale, zone=zone,
                      refresh_seconds=config["FEED_REFRESH_INTERVAL"],
                      first=window.first_day, last=window.last_day)
    feed_stamps = subscription.stamps
    changes = [day_start, subscription.created_at,
               *(event.last_modified for event in shown),
               *(event.last_modified + retention for event in events
                 if not event.active and event.last_modified < window.cancelled_since),
               *(feed_stamps.changed_at if feed_stamps else (now,))]
    valid_until = min([local_datetime(today + timedelta(days=1), time(0), zone),
                       *(event.last_modified + retention for event in kept
                         if not event.active)])
    return MadeFeed(body, max(change for change in changes if change), valid_until)


def make_cached_feed(subscription: FeedRead, now: datetime, *,
                     previous: CachedFeed | None) -> CachedFeed:
    """The feed to cache and send: its body, an ETag that is the body's hash (the
    same in every process and after a restart, and new exactly when the body is),
    and a Last-Modified that advances with every new body."""
    made = made_feed(subscription, now)
    etag = hashlib.sha256(made.body).hexdigest()[:32]
    if previous is not None and previous.etag == etag:
        last_modified = previous.last_modified  # the same body: the client's date holds
    else:
        last_modified = made.changed.replace(microsecond=0)
    return CachedFeed(subscription.stamps, made.valid_until, etag, last_modified, made.body)
