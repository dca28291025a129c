"""The feeds a process caches and sends before Flask (calendars.feeds.serving): the
same bytes and headers as the view, and every change, revocation and fetch seen at
once."""

import gzip
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import icalendar
import pytest
from flask import request, request_started

from calendars import services
from calendars.feeds import serving
from core.clock import FixedClock, set_clock
from core.security import HEADERS
from extensions import db
from tests.calendars.test_feeds import HELSINKI, SETTINGS, book, subscribe
from tests.conftest import NOW, bearer


@pytest.fixture
def dispatched(app):
    """The paths of the requests that reached Flask."""
    paths = []

    def note(sender, **extra):
        paths.append(request.path)

    request_started.connect(note, app)
    yield paths
    request_started.disconnect(note, app)


def answered(response):
    """Status, headers and body; but Cookie in Vary, which Flask-Login's hook adds to
    what the app answers, though a feed never depends on a cookie."""
    headers = sorted((name, value if name != "Vary" else ", ".join(
        part for part in value.split(", ") if part != "Cookie"))
        for name, value in response.headers.items())
    return response.status_code, headers, response.data


@pytest.mark.parametrize("encoding", [{}, {"Accept-Encoding": "gzip, deflate, br"}],
                         ids=["identity", "gzip"])
def test_an_unchanged_feed_is_sent_before_the_app_byte_for_byte_as_the_view_sent_it(
        client, coordinator, worker, family, dispatched, encoding):
    book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    etag = client.get(path, headers=encoding).headers["ETag"]
    requests = ((client.get, encoding), (client.get, {"If-None-Match": etag, **encoding}),
                (client.head, encoding))
    dispatched.clear()
    views = []
    for method, headers in requests:
        serving.feed_cache.clear()  # the view makes the answer again
        views.append(answered(method(path, headers=headers)))
    assert dispatched == [path] * 3

    sent = [answered(method(path, headers=headers)) for method, headers in requests]
    assert dispatched == [path] * 3  # none of these reached Flask
    assert sent == views
    status, headers, body = sent[0]
    assert status == 200
    assert (gzip.decompress(body) if encoding else body).startswith(b"BEGIN:VCALENDAR")
    assert dict(headers).get("Content-Encoding") == ("gzip" if encoding else None)
    assert dict(headers)["Vary"] == dict(sent[1][1])["Vary"] == "Accept-Encoding"
    assert dict(headers)["Content-Type"] == "text/calendar; charset=utf-8"
    assert all(dict(headers)[name] == value for name, value in HEADERS.items())
    assert sent[1][0] == 304 and sent[1][2] == b"" and "Last-Modified" not in dict(sent[1][1])


def test_a_304_by_date_needs_no_body_and_a_bad_date_gets_the_feed(client, worker,
                                                                   dispatched):
    _, path = subscribe(client, worker, "worker", worker.id)
    since = client.get(path).headers["Last-Modified"]
    dispatched.clear()
    assert client.get(path, headers={"If-Modified-Since": since}).status_code == 304
    for nonsense in ("yesterday", "Tue, 31 Feb 2026 25:00:00", "\u00e4" * 40):
        response = client.get(path, headers={"If-Modified-Since": nonsense})
        assert response.status_code == 200 and response.data.startswith(b"BEGIN:VCALENDAR")
    assert dispatched == []


def test_a_change_is_seen_at_once_by_the_next_fetch(client, coordinator, worker, family):
    book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    before = client.get(path)
    assert client.get(path).headers["ETag"] == before.headers["ETag"]
    book(coordinator, family, worker, datetime(2026, 12, 3, 10, tzinfo=HELSINKI))
    after = client.get(path, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.data.count(b"BEGIN:VEVENT") == 2


def test_a_revoked_feed_is_gone_at_once_though_its_answer_is_kept(client, worker):
    body, path = subscribe(client, worker, "worker", worker.id)
    client.get(path)
    client.delete(f"/api/v1/feeds/{body['id']}", headers=bearer(worker))
    for method in (client.get, client.head):
        gone = method(path)
        assert gone.status_code == 404 and gone.data == b""
        assert gone.headers["X-Content-Type-Options"] == "nosniff"


def test_the_next_day_moves_the_window_and_the_answer_is_made_again(app, client, worker,
                                                                    dispatched):
    _, path = subscribe(client, worker, "worker", worker.id)
    client.get(path)
    dispatched.clear()
    set_clock(app, FixedClock(NOW + timedelta(days=1)))
    client.get(path)
    assert dispatched == [path]


def test_a_fetch_sent_before_the_app_is_noted_every_ten_minutes(app, client, worker):
    _, path = subscribe(client, worker, "worker", worker.id)
    client.get(path)

    def last_fetch():
        return client.get("/api/v1/feeds", headers=bearer(worker)).get_json()[0][
            "last_used_at"]

    first = last_fetch()
    set_clock(app, FixedClock(NOW + timedelta(minutes=5)))
    client.get(path)
    assert last_fetch() == first
    set_clock(app, FixedClock(NOW + timedelta(minutes=11)))
    client.get(path)
    db.session.expire_all()
    assert last_fetch() != first


@pytest.mark.parametrize("path", [
    "/calendars/feeds/a/b.ics",
    "/calendars/feeds/.ics",
    "/calendars/feeds/x" + "y" * 200 + ".ics",
    "/calendars/feeds/%00.ics",
    "/calendars/feeds/%C3%A4%F0%9F%98%80.ics",
])
def test_paths_that_are_no_feed_get_a_bare_404(client, path):
    response = client.get(path)
    assert response.status_code == 404


def test_other_methods_and_pages_still_reach_the_app(client, worker, dispatched):
    _, path = subscribe(client, worker, "worker", worker.id)
    dispatched.clear()
    assert client.post(path).status_code == 405
    assert client.get("/calendars/feeds/subscribe").status_code in (302, 401)
    assert dispatched == [path, "/calendars/feeds/subscribe"]


def test_the_secret_is_recognised_only_in_a_feeds_path():
    assert serving.secret_in("/calendars/feeds/abc.ics") == "abc"
    assert serving.secret_in("/calendars/feeds/abc.ics/") is None
    assert serving.secret_in("/calendars/feedsabc.ics") is None
    assert serving.secret_in("/calendars/feeds/a/b.ics") is None
    assert serving.secret_in("/other/abc.ics") is None


# --- validators: weak If-None-Match, dates that follow the body ---------------

def test_if_none_match_compares_weakly_and_takes_lists_and_a_star(client, worker,
                                                                  dispatched):
    _, path = subscribe(client, worker, "worker", worker.id)
    etag = client.get(path).headers["ETag"]
    for sent in (etag, f"W/{etag}", f'"other", W/{etag}', f'W/"other",{etag}', "*"):
        response = client.get(path, headers={"If-None-Match": sent})
        assert response.status_code == 304, sent
    for sent in ('"other"', 'W/"other"', etag[:-2] + '"'):
        assert client.get(path, headers={"If-None-Match": sent}).status_code == 200, sent
    serving.feed_cache.clear()  # the view compares as the layer before it does
    assert client.get(path, headers={"If-None-Match": f"W/{etag}"}).status_code == 304


def test_if_none_match_wins_over_if_modified_since(client, worker):
    _, path = subscribe(client, worker, "worker", worker.id)
    first = client.get(path)
    since = first.headers["Last-Modified"]
    assert client.get(path, headers={"If-None-Match": '"other"',
                                     "If-Modified-Since": since}).status_code == 200
    far = "Fri, 01 Jan 2100 00:00:00 GMT"
    assert client.get(path, headers={"If-None-Match": first.headers["ETag"],
                                     "If-Modified-Since": far}).status_code == 304


def test_a_client_with_only_a_date_sees_events_come_into_the_window(app, client,
                                                                    coordinator, worker,
                                                                    family, monkeypatch):
    monkeypatch.setitem(app.config, "FEED_WINDOW_FUTURE_DAYS", 2)
    book(coordinator, family, worker, datetime(2026, 12, 3, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    set_clock(app, FixedClock(datetime(2026, 11, 30, 23, 0, tzinfo=HELSINKI)))
    first = client.get(path)
    assert first.data.count(b"BEGIN:VEVENT") == 0

    set_clock(app, FixedClock(datetime(2026, 12, 1, 0, 1, tzinfo=HELSINKI)))
    since = {"If-Modified-Since": first.headers["Last-Modified"]}
    for _attempt in ("the view", "the layer before it"):
        response = client.get(path, headers=since)
        assert response.status_code == 200 and response.data.count(b"BEGIN:VEVENT") == 1
    assert parsedate_to_datetime(response.headers["Last-Modified"]) \
        > parsedate_to_datetime(first.headers["Last-Modified"])


def test_a_client_with_only_a_date_sees_a_cancelled_event_leave(app, client, coordinator,
                                                                worker, family):
    visit = book(coordinator, family, worker, datetime(2026, 12, 18, 10, tzinfo=HELSINKI))
    services.update_visit(coordinator, visit, {"status": "cancelled"}, zone=HELSINKI,
                          settings=SETTINGS, clock=FixedClock(NOW))
    db.session.commit()
    _, path = subscribe(client, worker, "worker", worker.id)
    leaves = NOW + timedelta(days=app.config["FEED_CANCELLED_RETENTION_DAYS"])
    set_clock(app, FixedClock(leaves - timedelta(minutes=1)))
    first = client.get(path)
    assert first.data.count(b"BEGIN:VEVENT") == 1

    for restarted in (False, True):
        if restarted:
            serving.feed_cache.clear()
        set_clock(app, FixedClock(leaves + timedelta(minutes=1)))
        response = client.get(path, headers={
            "If-Modified-Since": first.headers["Last-Modified"]})
        assert response.status_code == 200 and b"BEGIN:VEVENT" not in response.data


def test_a_restart_sends_the_same_body_under_the_same_validators(client, coordinator,
                                                                 worker, family):
    book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    before = client.get(path)
    serving.feed_cache.clear()
    after = client.get(path)
    assert after.data == before.data
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.headers["Last-Modified"] == before.headers["Last-Modified"]


def test_a_new_day_with_the_same_body_keeps_the_etag(app, client, coordinator, worker,
                                                     family, dispatched):
    book(coordinator, family, worker, datetime(2026, 12, 18, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    first = client.get(path)
    set_clock(app, FixedClock(NOW + timedelta(days=1)))
    dispatched.clear()
    for validators in ({"If-None-Match": first.headers["ETag"]},
                       {"If-Modified-Since": first.headers["Last-Modified"]}):
        assert client.get(path, headers=validators).status_code == 304
    assert dispatched == [path]  # made again once for the new day, then kept


# --- the limit on events -------------------------------------------------------

DAYS = [datetime(2026, 12, day, 10, tzinfo=HELSINKI) for day in (1, 2, 3, 4)]


def starts(client, path) -> list[datetime]:
    return sorted(event.decoded("DTSTART")
                  for event in icalendar.Calendar.from_ical(client.get(path).data)
                  .walk("VEVENT"))


@pytest.mark.parametrize("limit", [4, 3, 2])
def test_at_the_limit_the_coming_events_stay_and_the_oldest_go_first(
        app, client, coordinator, worker, family, monkeypatch, limit):
    monkeypatch.setitem(app.config, "FEED_MAX_EVENTS", limit)
    for start in DAYS:
        book(coordinator, family, worker, start)
    _, path = subscribe(client, worker, "worker", worker.id)
    assert starts(client, path) == DAYS[:limit]  # all coming: the soonest

    # On the 3rd, the 1st and the 2nd are past: the 1st goes before the 2nd.
    set_clock(app, FixedClock(datetime(2026, 12, 3, 12, tzinfo=HELSINKI)))
    assert starts(client, path) == DAYS[len(DAYS) - limit:]
