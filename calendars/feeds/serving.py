"""Serving feeds to calendar services: the feeds each process keeps in its cache,
and a WSGI layer in front of Flask that sends them.

Calendar services fetch the same URLs again and again, most of them unchanged.
Each process keeps the last answer of each feed (its ETag, Last-Modified and
body) as a `CachedFeed`, with the feed stamps it was made under
(`calendars.feeds.stamps`). While the stamps are the same, and the day and the
cancelled events' retention have not moved on, the cached feed holds, and
`FeedServer` sends it without Flask: one indexed read of the secret with its
stamps, then the bytes. Anything else (nothing cached, or a cached feed that no
longer holds) goes on to the feed view in `calendars.feeds.views`, which makes
it (`calendars.feeds.content`) and keeps it here, so the next fetch is cheap
again. Both send what `reply` makes of a cached feed, so a client cannot tell
which of them answered.
"""

import gzip
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import sqlalchemy as sa
from werkzeug.http import parse_accept_header, parse_etags

from calendars.feeds.tokens import FeedRead, FeedStamps, find_feed, note_feed_use
from core.throttle import FEED_FAILURES
from extensions import db

# The feeds' URLs: this prefix, the secret, ".ics" (the feed view's route).
PREFIX = "/calendars/feeds"
SUFFIX = ".ics"
# Where FeedServer leaves the feed it read for the view, which need not read it again.
FEED_READ = "perhetyo.feed_read"
# A fetch is noted at most this often, so that busy feeds cost no write each time.
LAST_USED_GRANULARITY = timedelta(minutes=10)
FEED_CACHE_BUDGET = 64 * 2**20  # bytes of bodies kept per process
# The gzip variant is made once per cached feed, at zlib's default level: 9 saves
# a little more at twice the time, which a feed made after each change pays.
GZIP_LEVEL = 6


@dataclass
class CachedFeed:
    """What a feed answers while its stamps stay as they were and until a given
    instant (the next local midnight moves the window; a cancelled event leaves
    at the end of its retention). Its ETag is the hash of its body."""

    stamps: FeedStamps | None
    valid_until: datetime
    etag: str
    last_modified: datetime
    body: bytes
    gzipped: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # The gzip variant, made once with the body: with mtime 0, so that every
        # process makes the same bytes for a body, as its ETag says.
        self.gzipped = gzip.compress(self.body, GZIP_LEVEL, mtime=0)

    def holds(self, stamps: FeedStamps | None, now: datetime) -> bool:
        return stamps is not None and stamps == self.stamps and now < self.valid_until

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped)


class FeedCache:
    """The feeds served last, by the hash of their secret, within a budget of
    bytes; each process keeps its own."""

    def __init__(self, budget: int):
        self.budget, self.used = budget, 0
        self.feeds: OrderedDict[str, CachedFeed] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> CachedFeed | None:
        with self.lock:
            cached = self.feeds.get(key)
            if cached is not None:
                self.feeds.move_to_end(key)
            return cached

    def put(self, key: str, cached: CachedFeed) -> None:
        with self.lock:
            old = self.feeds.pop(key, None)
            self.used += cached.size - (old.size if old else 0)
            self.feeds[key] = cached
            while self.used > self.budget and self.feeds:
                _, dropped = self.feeds.popitem(last=False)
                self.used -= dropped.size

    def clear(self) -> None:
        with self.lock:
            self.feeds.clear()
            self.used = 0


feed_cache = FeedCache(FEED_CACHE_BUDGET)


def secret_in(path: str) -> str | None:
    """The secret of a feed URL's path, or None when the path is not a feed's."""
    if not (path.startswith(PREFIX + "/") and path.endswith(SUFFIX)):
        return None
    secret = path[len(PREFIX) + 1:-len(SUFFIX)]
    return secret if secret and "/" not in secret else None


def not_modified(environ: dict, cached: CachedFeed) -> bool:
    """Whether the client's copy is current (If-None-Match wins over If-Modified-Since).

    If-None-Match compares weakly (RFC 9110, 13.1.2): a proxy that compresses
    the body marks the ETag weak (nginx's gzip does), and its clients send it
    back so. A list matches if any of its tags does, ``*`` always."""
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match:  # either encoding of the same body is current
        tags = parse_etags(if_none_match)
        return tags.contains_weak(cached.etag) or tags.contains_weak(gzip_etag(cached.etag))
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        try:
            return cached.last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):  # unreadable, or a date without a zone
            return False
    return False


def gzip_etag(etag: str) -> str:
    """The ETag of the gzip-encoded body: another representation, so another strong
    validator (RFC 9110, 8.8.3), suffixed as Flask-Compress suffixes the pages'."""
    return f"{etag}:gzip"


def accepts_gzip(environ: dict) -> bool:
    """Whether the client takes gzip (``gzip`` or ``*`` with a quality above 0, and
    not below one it gives ``identity``)."""
    accept = parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING"))
    quality = accept["gzip"]
    return quality > 0 and not ("identity" in accept and accept["identity"] > quality)


def _held_etag(environ: dict, cached: CachedFeed, etag: str) -> str:
    """The ETag a 304 confirms: the one of the encoding the client would get, unless
    its If-None-Match names only the other encoding's, which is then the copy it
    holds (a cache updates only the stored response of that validator)."""
    tags = parse_etags(environ.get("HTTP_IF_NONE_MATCH"))
    other = cached.etag if etag != cached.etag else gzip_etag(cached.etag)
    return other if not tags.contains_weak(etag) and tags.contains_weak(other) else etag


def reply(cached: CachedFeed, environ: dict, *,
          fresh: bool) -> tuple[int, list[tuple[str, str]], bytes]:
    """The status, headers and body for a cached feed, or for one which the client
    already has (``fresh``, from ``not_modified``: a 304 needs no body).

    The body goes gzip-encoded to a client that takes it, with its own ETag; both
    variants say Vary: Accept-Encoding, the 304 too (RFC 9110, 15.4.5)."""
    encoded = accepts_gzip(environ)
    etag = gzip_etag(cached.etag) if encoded else cached.etag
    if fresh:
        etag = _held_etag(environ, cached, etag)
    headers = [("ETag", f'"{etag}"'),
               ("Cache-Control", "private, max-age=0, must-revalidate"),
               ("Vary", "Accept-Encoding")]
    if fresh:
        return 304, headers, b""  # what a 304 carries (RFC 9110, 15.4.5)
    body = cached.gzipped if encoded else cached.body
    headers += [("Last-Modified", format_datetime(cached.last_modified, usegmt=True)),
                ("Content-Type", "text/calendar; charset=utf-8"),
                *([("Content-Encoding", "gzip")] if encoded else []),
                ("Content-Length", str(len(body)))]
    return 200, headers, body if environ["REQUEST_METHOD"] == "GET" else b""


def note_use(engine: sa.Engine, feed: FeedRead, now: datetime) -> None:
    """Record that a calendar fetched the feed, at most once per
    LAST_USED_GRANULARITY, in a statement of its own."""
    if feed.last_used_at is not None and now - feed.last_used_at < LAST_USED_GRANULARITY:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        note_feed_use(connection, feed, now)


STATUS_LINES = {200: "200 OK", 304: "304 Not Modified", 404: "404 Not Found",
                429: "429 Too Many Requests"}
# For calendar programs, which show no page: both languages, no template, no query.
TOO_MANY = ("Liian monta tuntematonta kalenterilinkkiä tästä osoitteesta. Yritä myöhemmin "
            "uudelleen.\nToo many unknown calendar links from this address. Try again "
            "later.\n").encode()


def lookup(engine: sa.Engine, config, secret: str,
           address: str) -> tuple[FeedRead | None, int | None]:
    """The live feed of a secret, and how long the address must wait first.

    An address that asked for too many secrets no feed ever had waits (the
    seconds, and no feed), whatever it asks for next: a guess that came right
    would otherwise still be answered. A revoked feed, or one of a closed
    account, answers as an unknown one does but is not counted: its secret was
    given out once, and calendars go on fetching it. A calendar fetching its
    live feed is never counted."""
    wait = FEED_FAILURES.wait(config, address)
    if wait is not None:
        return None, wait
    feed = find_feed(engine, secret)
    if feed is None:
        FEED_FAILURES.fail(config, address)
        return None, None
    return (feed if feed.live else None), None


def too_many(wait: int) -> tuple[int, list[tuple[str, str]], bytes]:
    """A feed client's answer while its address waits: plain text, and when to
    try again."""
    return 429, [("Retry-After", str(wait)), ("Content-Type", "text/plain; charset=utf-8"),
                 ("Content-Length", str(len(TOO_MANY)))], TOO_MANY


class FeedServer:
    """WSGI middleware: GET and HEAD of a feed's URL answered from the process's
    cached feed when it holds; every other request, and every feed that must be
    made, passed on to the app. Unknown secrets are counted per address
    (`lookup`) here, before anything else reads them."""

    def __init__(self, app, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        with app.app_context():
            self.engine = db.engine
        # Every response of the app carries them (core.security), these too.
        self.headers = list(app.extensions["security_headers"].items())

    def __call__(self, environ, start_response):
        secret = secret_in(environ.get("PATH_INFO", ""))
        if secret is None or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        try:
            feed, wait = lookup(self.engine, self.app.config, secret,
                                environ.get("REMOTE_ADDR", ""))
        except Exception:
            # The database or the limits' storage failed: the app reads it again
            # and answers a failure as it answers any.
            return self.wsgi_app(environ, start_response)
        if wait is not None:
            status, headers, body = too_many(wait)
            return self._send(start_response, status, headers,
                              body if environ["REQUEST_METHOD"] == "GET" else b"")
        if feed is None:  # unknown, revoked or closed: a bare 404, nothing else
            return self._send(start_response, 404, [("Content-Length", "0")], b"")
        now = self.app.extensions["clock"].now()
        cached = feed_cache.get(feed.token_hash)
        if cached is None or not cached.holds(feed.stamps, now):
            environ[FEED_READ] = feed
            return self.wsgi_app(environ, start_response)
        note_use(self.engine, feed, now)
        return self._send(start_response, *reply(
            cached, environ, fresh=not_modified(environ, cached)))

    def _send(self, start_response, status: int, headers: list, body: bytes):
        start_response(STATUS_LINES[status], headers + self.headers)
        return [body]


def init_app(app) -> None:
    """Put FeedServer in front of the app (after core.security.init_app, and
    inside core.security.trust_proxies, so that it sees the client's address)."""
    app.wsgi_app = FeedServer(app, app.wsgi_app)
