"""How fast calendar feeds answer: cold, after one change, 304, and under gunicorn.

Builds a throwaway database (SQLite in a temporary folder, or PostgreSQL when
BENCH_DATABASE_URL is set, in a schema of its own) and fills it in bulk with
two family workers' home visits inside the feed window: one worker with 1,000
visits, another with 10,000 (four a working day from the window's first day
on; the window ahead is raised so that 10,000 fit, and the printout says by
how much). Each worker's feed is created through calendars.feeds.tokens.

In-process (Flask's test client), for each feed:

- cold: the feed's caches emptied (calendars.feeds.ical._cache and
  calendars.feeds.serving.feed_cache), then the whole feed answered;
- after one change: one visit's start moved through the ORM (start, end,
  updated_at and sequence, as calendars.services.update_visit changes them, so
  the feed stamps are raised in the same transaction), then the whole feed
  answered, the other events' cached bytes kept;
- 304: the same feed asked with If-None-Match of its current ETag;
- gzip: the size of the gzip variant (Accept-Encoding: gzip), made once per
  answer, and that it decompresses to the identity body;
- beside them, on the same events in the same run, the library bound
  (icalendar builds a Calendar of the same VEVENTs and serialises it with
  to_ical()) and the floor (plain f-strings writing the same lines).

Then, under gunicorn with 2 sync workers on loopback, requests per second for
the full feed, the full feed gzip-encoded and its 304, beside a static body of
the same bytes (identity, and the gzip bytes with Content-Encoding) served by a
minimal WSGI callable (``static_app`` below) under gunicorn with the same 2
workers: the HTTP ceiling. Each HTTP case runs for a few seconds or a number
of requests, whichever ends first; the servers are stopped at the end.

Usage: .venv/bin/python benchmarks/feeds.py [--repeat 7] [--seconds 5] [--profile]
"""

import sys
from pathlib import Path

# The project's root, not this folder, comes first on the path: run as a
# script, this folder's calendar.py would shadow the standard calendar module.
ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import gzip  # noqa: E402
import http.client  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from datetime import time as clock_time  # noqa: E402

# --- the HTTP ceiling: the same bytes with nothing behind them -------------

_static_body: list[bytes] = []


def static_app(environ, start_response):
    """A minimal WSGI app answering every request with the file of
    BENCH_STATIC_BODY (with Content-Encoding: BENCH_STATIC_ENCODING when set):
    `gunicorn 'benchmarks.feeds:static_app'`."""
    if not _static_body:
        _static_body.append(Path(os.environ["BENCH_STATIC_BODY"]).read_bytes())
    body = _static_body[0]
    encoding = os.environ.get("BENCH_STATIC_ENCODING")
    start_response("200 OK", [("Content-Type", "text/calendar; charset=utf-8"),
                              *([("Content-Encoding", encoding)] if encoding else []),
                              ("Content-Length", str(len(body)))])
    return [body]


import sqlalchemy as sa  # noqa: E402
from flask_babel import force_locale  # noqa: E402
from icalendar import Event, Timezone  # noqa: E402

from accounts.services import create_user  # noqa: E402
from app import create_app  # noqa: E402
from benchmarks.support import start_gunicorn, stop, throwaway_database  # noqa: E402
from calendars.events import events_of  # noqa: E402
from calendars.feeds import ical, serving, tokens  # noqa: E402
from calendars.feeds.window import FeedWindow  # noqa: E402
from calendars.models import FeedToken, HomeVisit, visit_workers  # noqa: E402
from config import TestConfig, settings  # noqa: E402
from core.clock import Clock  # noqa: E402
from core.localtime import local_datetime, unit_zone  # noqa: E402
from core.models import Municipality  # noqa: E402
from core.places import ensure_reference_data  # noqa: E402
from extensions import db  # noqa: E402
from families.models import Family  # noqa: E402

PASSWORD = "benchmark-password"
SECRET_KEY = "benchmark-secret-key-" + uuid.uuid4().hex
SIZES = (1_000, 10_000)
FAMILIES_PER_WORKER = 40
SLOTS = ((clock_time(8, 30), 60), (clock_time(10, 0), 90), (clock_time(12, 30), 75),
         (clock_time(14, 15), 90))  # four visits a working day, never overlapping
PAST_DAYS = 60
MAX_HTTP_REQUESTS = 20_000
GZIP = {"Accept-Encoding": "gzip"}
CLIENT_THREADS = 4


def window_days_ahead(count: int) -> int:
    """Days ahead the window needs so that ``count`` visits, four a working day
    from its first day on, all fall inside it (the default 365 at least)."""
    working_days = -(-count // len(SLOTS))
    calendar_days = working_days * 7 // 5 + 7
    return max(365, calendar_days - PAST_DAYS + 7)


def feed_config(url: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY,
            "FEED_WINDOW_PAST_DAYS": PAST_DAYS,
            "FEED_WINDOW_FUTURE_DAYS": window_days_ahead(max(SIZES))}


def build_app(url):
    return create_app(settings(TestConfig, WTF_CSRF_ENABLED=False, **feed_config(url)))


def fill(now) -> list[dict]:
    """Two workers, their families and visits, in bulk; a feed for each worker."""
    zone = unit_zone()
    today = now.astimezone(zone).date()
    first = today - timedelta(days=PAST_DAYS - 1)
    ensure_reference_data()
    municipalities = db.session.scalars(sa.select(Municipality).order_by(Municipality.id)).all()
    clock = Clock()
    cases = []
    visit_id = 0
    for number, count in enumerate(SIZES):
        municipality = municipalities[number % len(municipalities)]
        worker = create_user(email=f"worker{number}@bench.example", name=f"Worker {number}",
                             role="family_worker", password=PASSWORD,
                             municipalities=[municipality.name], clock=clock,
                             hash_method="pbkdf2:sha256:1000")
        db.session.flush()
        db.session.execute(sa.insert(Family), [{
            "reference": f"PT-2026-{number}{n:04d}", "surname": f"Sukunimi{number}{n}",
            "surname_key": f"sukunimi{number}{n}",
            "municipality_id": municipality.id, "address": f"Katu {n}", "track": "preventive",
            "referral_source": "child_health_clinic", "referral_date": today,
            "status": "active", "languages": ["fi"], "created_at": now, "updated_at": now}
            for n in range(FAMILIES_PER_WORKER)])
        family_ids = db.session.scalars(sa.select(Family.id).where(
            Family.reference.like(f"PT-2026-{number}%")).order_by(Family.id)).all()
        visits, links = [], []
        day = first
        while len(visits) < count:
            if day.weekday() < 5:
                for start_time, minutes in SLOTS[:count - len(visits)]:
                    visit_id += 1
                    start = local_datetime(day, start_time, zone)
                    visits.append({
                        "id": visit_id, "family_id": family_ids[visit_id % len(family_ids)],
                        "kind": "home_visit", "start": start,
                        "end": start + timedelta(minutes=minutes), "place": "Katu 1",
                        "municipality_id": municipality.id,
                        "status": "done" if day < today else "scheduled",
                        "status_reason": "", "sequence": 0, "notes": "",
                        "changed_by_hand": False, "created_at": now, "updated_at": now})
                    links.append({"visit_id": visit_id, "user_id": worker.id})
            day += timedelta(days=1)
        db.session.execute(sa.insert(HomeVisit), visits)
        db.session.execute(sa.insert(visit_workers), links)
        feed, secret = tokens.create_feed(worker, owner_type="worker", owner_id=worker.id,
                                          locale="fi", detailed_allowed=False, clock=clock)
        db.session.flush()
        cases.append({"events": count, "worker": worker.id, "feed": feed.id,
                      "path": f"/calendars/feeds/{secret}.ics",
                      "visit_ids": [visit["id"] for visit in visits], "last_day": day})
    db.session.commit()
    return cases


# --- in-process timings ----------------------------------------------------

def clear_caches():
    with ical._lock:
        ical._cache.clear()
    serving.feed_cache.clear()


def ms(seconds: float) -> float:
    return seconds * 1000


def time_get(client, path, headers=None, expect=200):
    started = time.perf_counter()
    response = client.get(path, headers=headers or {})
    elapsed = time.perf_counter() - started
    assert response.status_code == expect, (path, response.status_code)
    return elapsed, response


_changes = [0]


def change_one(visit_ids):
    """Move one visit by five minutes, as an edit would: start, end, updated_at and
    sequence change together."""
    _changes[0] += 1
    visit_id = visit_ids[(_changes[0] * 7919) % len(visit_ids)]
    step = timedelta(minutes=5 if _changes[0] % 2 else -5)
    visit = db.session.get(HomeVisit, visit_id)
    visit.start, visit.end = visit.start + step, visit.end + step
    visit.updated_at, visit.sequence = datetime.now(UTC), visit.sequence + 1
    db.session.commit()
    db.session.expire_all()


def the_events(app, worker_id):
    """The events the feed carries, as the endpoint loads them."""
    window = FeedWindow.around(datetime.now(UTC), unit_zone(), app.config)
    events = events_of("worker", worker_id, window.start, window.end,
                       include_cancelled=window.cancelled_since)
    return events[:app.config["FEED_MAX_EVENTS"]], window


def library_bound(events, *, name, zone, window, refresh_seconds, locale, vtimezone):
    """icalendar alone: one Calendar with the same properties, zone and VEVENTs."""
    calendar = ical.calendar_with_properties(name=name, zone=zone,
                                             refresh_seconds=refresh_seconds)
    calendar.add_component(vtimezone)
    with force_locale(locale):
        for event in events:
            summary, location = ical.summary_and_location(event, "worker", "minimal")
            component = Event()
            component.add("uid", event.uid)
            component.add("dtstamp", event.last_modified.astimezone(UTC))
            component.add("created", event.created.astimezone(UTC))
            component.add("last-modified", event.last_modified.astimezone(UTC))
            component.add("sequence", event.sequence)
            component.add("dtstart", event.start.astimezone(zone))
            component.add("dtend", event.end.astimezone(zone))
            component.add("summary", summary)
            if location:
                component.add("location", location)
            component.add("status", "CANCELLED" if event.status == "cancelled"
                          else "CONFIRMED")
            component.add("transp", "TRANSPARENT" if event.status == "cancelled"
                          else "OPAQUE")
            calendar.add_component(component)
    return calendar.to_ical()


def _utc_text(instant) -> str:
    i = instant.astimezone(UTC)
    return f"{i.year:04d}{i.month:02d}{i.day:02d}T{i.hour:02d}{i.minute:02d}{i.second:02d}Z"


def _local_text(instant, zone) -> str:
    i = instant.astimezone(zone)
    return f"{i.year:04d}{i.month:02d}{i.day:02d}T{i.hour:02d}{i.minute:02d}{i.second:02d}"


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def floor(events, *, head: bytes, zone, label: str) -> bytes:
    """Plain f-strings writing the same lines (long lines are not folded)."""
    tzid = zone.key
    parts = []
    for event in events:
        summary = _escape(f"{label} {event.family_reference}, {event.municipality}")
        location = _escape(event.municipality) if event.municipality else ""
        stamp = _utc_text(event.last_modified)
        # icalendar's order of the properties, so that the bytes are the same.
        parts.append(
            f"BEGIN:VEVENT\r\nSUMMARY:{summary}\r\n"
            f"DTSTART;TZID={tzid}:{_local_text(event.start, zone)}\r\n"
            f"DTEND;TZID={tzid}:{_local_text(event.end, zone)}\r\n"
            f"DTSTAMP:{stamp}\r\nUID:{event.uid}\r\nSEQUENCE:{event.sequence}\r\n"
            f"CREATED:{_utc_text(event.created)}\r\nLAST-MODIFIED:{stamp}\r\n"
            + (f"LOCATION:{location}\r\n" if location else "")
            + ("STATUS:CANCELLED\r\nTRANSP:TRANSPARENT\r\n" if event.status == "cancelled"
               else "STATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\n")
            + "END:VEVENT\r\n")
    return head + "".join(parts).encode() + ical.END


def best_of(function, repeat):
    """The median of ``repeat`` timed calls, and the last result."""
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def in_process(app, case, repeat, profile):
    client = app.test_client()
    path = case["path"]
    colds = []
    for _ in range(repeat):
        clear_caches()
        elapsed, response = time_get(client, path)
        colds.append(elapsed)
    body, etag = response.data, response.headers["ETag"]
    warm = statistics.median(time_get(client, path)[0] for _ in range(repeat))

    changed = []
    for _ in range(repeat):
        change_one(case["visit_ids"])
        elapsed, response = time_get(client, path)
        assert response.headers["ETag"] != etag
        etag = response.headers["ETag"]
        changed.append(elapsed)
    body = response.data
    not_modified = statistics.median(
        time_get(client, path, {"If-None-Match": etag}, expect=304)[0]
        for _ in range(max(repeat, 50)))
    gzipped = time_get(client, path, GZIP)[1].data
    assert gzip.decompress(gzipped) == body, "the gzip variant is another body"

    zone = unit_zone()
    events, window = the_events(app, case["worker"])
    assert len(events) == case["events"], (len(events), case["events"])
    feed = db.session.get(FeedToken, case["feed"])
    with force_locale(feed.locale):  # the feed's name in its language, as served
        name = tokens.feed_name(feed)
    head = ical.calendar_head(name=name, zone=zone,
                              refresh_seconds=app.config["FEED_REFRESH_INTERVAL"],
                              first=window.first_day - timedelta(days=366),
                              last=window.last_day + timedelta(days=366))
    vtimezone = Timezone.from_ical(ical._vtimezone(
        zone.key, (window.first_day - timedelta(days=366)).year,
        (window.last_day + timedelta(days=366)).year))
    library, library_body = best_of(lambda: library_bound(
        events, name=name, zone=zone, window=window,
        refresh_seconds=app.config["FEED_REFRESH_INTERVAL"], locale=feed.locale,
        vtimezone=vtimezone), repeat)
    with force_locale(feed.locale):
        label = str(ical._label("home_visit"))
    floor_time, floor_body = best_of(lambda: floor(events, head=head, zone=zone,
                                                   label=label), repeat)
    if profile:
        import cProfile
        import pstats

        for title, before in (("cold", clear_caches),
                              ("after one change", lambda: change_one(case["visit_ids"]))):
            profiler = cProfile.Profile()
            for _ in range(3):
                before()
                profiler.enable()
                client.get(path)
                profiler.disable()
            print(f"--- profile: {case['events']} events, {title} (3 requests) ---")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return {"cold": statistics.median(colds), "warm": warm,
            "changed": statistics.median(changed), "304": not_modified,
            "library": library, "floor": floor_time, "body": body,
            "sizes": (len(body), len(library_body), len(floor_body)),
            "floor_equal": floor_body == body, "etag": etag, "gzipped": gzipped}


# --- under gunicorn --------------------------------------------------------

def rate(port, path, headers, expect, seconds) -> tuple[float, int]:
    """Requests per second of CLIENT_THREADS keep-alive clients, for ``seconds`` or
    MAX_HTTP_REQUESTS requests, whichever ends first (after a warm-up each)."""
    counts = [0] * CLIENT_THREADS
    errors = []
    start = threading.Barrier(CLIENT_THREADS + 1)
    bounds = {}

    def client(index):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for _ in range(2):
                connection.request("GET", path, headers=headers)
                connection.getresponse().read()
            start.wait()
            while time.perf_counter() < bounds["end"] \
                    and sum(counts) < MAX_HTTP_REQUESTS:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != expect:
                    raise AssertionError(f"{path}: {response.status}, expected {expect}")
                counts[index] += 1
            connection.close()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
            if not start.broken:
                start.abort()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    bounds["end"] = time.perf_counter() + 3600
    with contextlib.suppress(threading.BrokenBarrierError):
        start.wait()  # broken when a client failed: its error is raised below
    began = time.perf_counter()
    bounds["end"] = began + seconds
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return sum(counts) / elapsed, sum(counts)


def under_gunicorn(url, cases, results, folder, seconds):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update({f"FLASK_{key}": str(value) for key, value in feed_config(url).items()})
    figures = {}
    servers = []
    try:
        app_server, app_port = start_gunicorn("app:create_app()", env)
        servers.append(app_server)
        for case in cases:
            result = results[case["events"]]
            static_file = Path(folder) / f"static-{case['events']}.ics"
            static_file.write_bytes(result["body"])
            static_server, static_port = start_gunicorn(
                "benchmarks.feeds:static_app", {**env, "BENCH_STATIC_BODY": str(static_file)})
            servers.append(static_server)
            gzip_file = Path(folder) / f"static-{case['events']}.ics.gz"
            gzip_file.write_bytes(result["gzipped"])
            gzip_server, gzip_port = start_gunicorn(
                "benchmarks.feeds:static_app", {**env, "BENCH_STATIC_BODY": str(gzip_file),
                                                "BENCH_STATIC_ENCODING": "gzip"})
            servers.append(gzip_server)
            # The etag the servers give (their clock and ours see the same data).
            connection = http.client.HTTPConnection("127.0.0.1", app_port, timeout=60)
            connection.request("GET", case["path"])
            response = connection.getresponse()
            served = response.read()
            etag = response.getheader("ETag")
            connection.close()
            assert served == result["body"], "gunicorn served other bytes than the app"
            connection = http.client.HTTPConnection("127.0.0.1", app_port, timeout=60)
            connection.request("GET", case["path"], headers=GZIP)
            response = connection.getresponse()
            assert response.getheader("Content-Encoding") == "gzip"
            assert response.read() == result["gzipped"], "gunicorn served other gzip bytes"
            connection.close()
            figures[case["events"]] = {
                "full": rate(app_port, case["path"], {}, 200, seconds),
                "gzip": rate(app_port, case["path"], GZIP, 200, seconds),
                "304": rate(app_port, case["path"], {"If-None-Match": etag}, 304, seconds),
                "static": rate(static_port, "/", {}, 200, seconds),
                "static gzip": rate(gzip_port, "/", {}, 200, seconds),
            }
            stop(static_server)
            stop(gzip_server)
    finally:
        for server in servers:
            stop(server)
    return figures


# --- the run ---------------------------------------------------------------

def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7,
                        help="timed requests per in-process case (medians are printed)")
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="length of each HTTP case under gunicorn")
    parser.add_argument("--no-http", action="store_true", help="skip the gunicorn part")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of the cold and changed answers")
    args = parser.parse_args()

    with throwaway_database() as url:
        app = build_app(url)
        try:
            with app.app_context():
                db.create_all()
                started = time.perf_counter()
                cases = fill(datetime.now(UTC))
                fill_seconds = time.perf_counter() - started
                if db.engine.dialect.name == "postgresql":
                    with db.engine.begin() as connection:
                        connection.execute(sa.text("ANALYZE"))
                report_head(app, fill_seconds)
                results = {}
                for case in cases:
                    results[case["events"]] = in_process(app, case, args.repeat, args.profile)
                    report_case(case, results[case["events"]])
            if not args.no_http:
                with tempfile.TemporaryDirectory() as folder:
                    figures = under_gunicorn(url, cases, results, folder, args.seconds)
                report_http(figures, results, args.seconds)
        finally:
            with app.app_context():
                db.engine.dispose()


def report_head(app, fill_seconds):
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, "
          f"feeds of {' and '.join(f'{n:,}' for n in SIZES)} events (home visits, minimal, fi)")
    print(f"window: {app.config['FEED_WINDOW_PAST_DAYS']} days back, "
          f"{app.config['FEED_WINDOW_FUTURE_DAYS']} days ahead (raised from "
          f"{TestConfig.FEED_WINDOW_FUTURE_DAYS} so that {max(SIZES):,} visits, four a "
          f"working day, fit)")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"fill: {fill_seconds:.1f} s")


def report_case(case, result):
    cold, changed, not_modified = result["cold"], result["changed"], result["304"]
    library, floor_time = result["library"], result["floor"]
    body, library_size, floor_size = result["sizes"]
    print(f"\n{case['events']:,} events, body {body / 1024:.0f} KiB "
          f"(icalendar alone {library_size / 1024:.0f} KiB, f-strings {floor_size / 1024:.0f}"
          f" KiB{', byte for byte the same' if result['floor_equal'] else ''})")
    print(f"  gzip variant: {len(result['gzipped']) / 1024:.1f} KiB "
          f"({len(result['gzipped']) / body:.1%} of the body)")
    print(f"  cold (caches emptied):       {ms(cold):8.1f} ms")
    print(f"  again, unchanged (cached):   {ms(result['warm']):8.1f} ms")
    print(f"  after one change:            {ms(changed):8.1f} ms")
    print(f"  304 (If-None-Match):         {ms(not_modified):8.2f} ms")
    print(f"  library bound (icalendar):   {ms(library):8.1f} ms")
    print(f"  floor (f-strings):           {ms(floor_time):8.1f} ms")
    print(f"  cold / library bound = {cold / library:.2f} (target <= 1.5: "
          f"{verdict(cold <= 1.5 * library)})")
    print(f"  after one change / floor = {changed / floor_time:.2f} (target <= 5: "
          f"{verdict(changed <= 5 * floor_time)})")
    print(f"  cold / 304 = {cold / not_modified:.0f} (target >= 20: "
          f"{verdict(cold >= 20 * not_modified)})")


def report_http(figures, results, seconds):
    print(f"\nunder gunicorn, 2 sync workers, loopback, {CLIENT_THREADS} client threads, "
          f"{seconds:g} s or {MAX_HTTP_REQUESTS:,} requests per case")
    for events, cases in figures.items():
        (full, full_n), (not_modified, nm_n), (static, static_n) = (
            cases["full"], cases["304"], cases["static"])
        (encoded, encoded_n), (static_gzip, static_gzip_n) = (
            cases["gzip"], cases["static gzip"])
        size = len(results[events]["body"]) / 1024
        gzip_size = len(results[events]["gzipped"]) / 1024
        print(f"  {events:,} events ({size:.0f} KiB): full feed {full:,.0f} req/s ({full_n}), "
              f"304 {not_modified:,.0f} req/s ({nm_n}), static body {static:,.0f} req/s "
              f"({static_n})")
        print(f"    full / static = {full / static:.2f} (target >= 0.5: "
              f"{verdict(full >= 0.5 * static)})")
        print(f"    gzip ({gzip_size:.1f} KiB): full feed {encoded:,.0f} req/s ({encoded_n}), "
              f"static gzip body {static_gzip:,.0f} req/s ({static_gzip_n}); "
              f"gzip / static gzip = {encoded / static_gzip:.2f} (target >= 0.5: "
              f"{verdict(encoded >= 0.5 * static_gzip)})")


if __name__ == "__main__":
    main()
