"""Serving calendar feeds to calendar services: `/calendars/feeds/<token>.ics`.

No sign-in: the secret in the URL is the key. An unknown or revoked secret
gets a bare 404. A client that already has the current version gets a 304
after two aggregate queries, without the calendar being built.
"""

import hashlib
import threading
from collections import OrderedDict
from email.utils import format_datetime, parsedate_to_datetime

from flask import Blueprint, Response, current_app, request

from calendars import feeds, services
from calendars.events import events_of, version_of
from core.clock import get_clock
from core.localtime import unit_zone
from extensions import db

bp = Blueprint("feeds", __name__, url_prefix="/calendars/feeds")

# A fetch is noted at most this often, so that busy feeds cost no write each time.
LAST_USED_GRANULARITY_SECONDS = 600


class BodyCache:
    """The last bodies served, by feed and version, within a budget of bytes.

    A version (the ETag) changes whenever anything in the feed does, so a body
    found here is the one that would be built; each process keeps its own.
    """

    def __init__(self, budget: int):
        self.budget, self.used = budget, 0
        self.bodies: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            body = self.bodies.get(key)
            if body is not None:
                self.bodies.move_to_end(key)
            return body

    def put(self, key, body: bytes) -> None:
        with self.lock:
            old = self.bodies.pop(key, None)
            self.used += len(body) - (len(old) if old else 0)
            self.bodies[key] = body
            while self.used > self.budget and self.bodies:
                _, dropped = self.bodies.popitem(last=False)
                self.used -= len(dropped)


_bodies = BodyCache(64 * 2**20)


def _not_found() -> Response:
    return Response(status=404)


@bp.route("/<token>.ics", methods=["GET", "HEAD"])
def feed(token):
    subscription = services.feed_by_secret(token)
    if subscription is None:
        return _not_found()
    config, zone, now = current_app.config, unit_zone(), get_clock().now()
    window = services.FeedWindow.around(now, zone, config)
    owner = (subscription.owner_type, subscription.owner_id)
    count, changed, fingerprint = version_of(*owner, window.start, window.end,
                                             include_cancelled=window.cancelled_since)
    last_modified = (changed or subscription.created_at).replace(microsecond=0)
    etag = hashlib.sha256(repr((
        subscription.token_hash, subscription.privacy, subscription.locale, count, changed,
        fingerprint,
        window.first_day, config["FEED_REFRESH_INTERVAL"], config["FEED_MAX_EVENTS"],
    )).encode()).hexdigest()[:32]
    _note_use(subscription, now)

    headers = {"ETag": f'"{etag}"', "Last-Modified": format_datetime(last_modified, usegmt=True),
               "Cache-Control": "private, max-age=0, must-revalidate"}
    if _not_modified(etag, last_modified):
        return Response(status=304, headers=headers)
    body = _bodies.get((subscription.token_hash, etag))
    if body is None:
        events = events_of(*owner, window.start, window.end,
                           include_cancelled=window.cancelled_since)[:config["FEED_MAX_EVENTS"]]
        body = feeds.build(events, name=services.feed_name(subscription),
                           owner_type=subscription.owner_type, privacy=subscription.privacy,
                           locale=subscription.locale, zone=zone,
                           refresh_seconds=config["FEED_REFRESH_INTERVAL"],
                           first=window.first_day, last=window.last_day)
        _bodies.put((subscription.token_hash, etag), body)
    response = Response(body if request.method == "GET" else b"",
                        content_type="text/calendar; charset=utf-8", headers=headers)
    response.content_length = len(body)
    return response


def _not_modified(etag: str, last_modified) -> bool:
    """Whether the client's copy is current (If-None-Match wins over If-Modified-Since)."""
    if request.if_none_match:
        return request.if_none_match.contains(etag)
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            return last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _note_use(subscription, now) -> None:
    last = subscription.last_used_at
    if last is None or (now - last).total_seconds() >= LAST_USED_GRANULARITY_SECONDS:
        subscription.last_used_at = now
        db.session.commit()
