"""Feeds and pages gzip-encoded for clients that take it: the feed's gzip variant is
made once per answer and carries its own ETag; pages and JSON go through
Flask-Compress; every answer says Vary: Accept-Encoding."""

import gzip
import json
from datetime import datetime

import pytest

from calendars.feeds import serving
from tests.calendars.test_feeds import HELSINKI, book, subscribe
from tests.conftest import bearer, login

GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture
def feed(client, coordinator, worker, family):
    """A worker's feed with a few visits, big enough to be worth compressing."""
    for day in (1, 2, 3, 4, 7):  # weekdays, in working hours
        book(coordinator, family, worker, datetime(2026, 12, day, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    return path


def assert_gzip(response, identity):
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"].startswith("Accept-Encoding")
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert gzip.decompress(response.data) == identity.data
    assert len(response.data) < len(identity.data) / 2


def assert_identity(response, identity):
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.headers["Vary"].startswith("Accept-Encoding")
    assert response.data == identity.data and response.headers["ETag"] == \
        identity.headers["ETag"]


def test_the_gzip_body_is_the_identity_body_compressed(client, feed):
    identity = client.get(feed)
    assert identity.data.startswith(b"BEGIN:VCALENDAR")
    for sent_before_flask in (False, True):  # the view makes the answer, then keeps it
        if not sent_before_flask:
            serving.feed_cache.clear()
        assert_gzip(client.get(feed, headers=GZIP), identity)


@pytest.mark.parametrize("accept", [
    "gzip", "GZIP", "gzip, deflate, br", "*", "br;q=1, gzip;q=0.5", "identity;q=0.5, gzip",
])
def test_a_client_that_takes_gzip_gets_it(client, feed, accept):
    identity = client.get(feed)
    assert_gzip(client.get(feed, headers={"Accept-Encoding": accept}), identity)


@pytest.mark.parametrize("accept", [
    None, "", "identity", "gzip;q=0", "gzip;q=0, *", "*;q=0", "br", "deflate",
    "gzip;q=0.5, identity;q=1", "gzip;q=nonsense",
])
def test_a_client_that_does_not_take_gzip_gets_the_identity_body(client, feed, accept):
    identity = client.get(feed)
    headers = {} if accept is None else {"Accept-Encoding": accept}
    for _ in range(2):  # made by the view, then sent before Flask
        serving.feed_cache.clear()
        assert_identity(client.get(feed, headers=headers), identity)
        assert_identity(client.get(feed, headers=headers), identity)


def test_the_gzip_variant_has_its_own_strong_etag(client, feed):
    identity, encoded = client.get(feed), client.get(feed, headers=GZIP)
    etag = identity.headers["ETag"]
    assert etag.startswith('"') and encoded.headers["ETag"] == etag[:-1] + ':gzip"'
    # The same bytes every time, in every process: the ETag is a promise on them.
    serving.feed_cache.clear()
    again = client.get(feed, headers=GZIP)
    assert again.data == encoded.data and again.headers["ETag"] == encoded.headers["ETag"]


def test_head_tells_the_length_of_the_variant_it_would_send(client, feed):
    encoded = client.get(feed, headers=GZIP)
    for sent_before_flask in (False, True):
        if not sent_before_flask:
            serving.feed_cache.clear()
        head = client.head(feed, headers=GZIP)
        assert head.status_code == 200 and head.data == b""
        assert head.headers["Content-Encoding"] == "gzip"
        assert head.headers["Content-Length"] == encoded.headers["Content-Length"]
        assert head.headers["ETag"] == encoded.headers["ETag"]
        assert head.headers["Vary"].startswith("Accept-Encoding")


def test_a_304_confirms_the_variant_the_client_holds(client, feed):
    identity, encoded = client.get(feed), client.get(feed, headers=GZIP)
    plain_tag, gzip_tag = identity.headers["ETag"], encoded.headers["ETag"]
    cases = [
        # (If-None-Match, Accept-Encoding, ETag of the 304)
        (gzip_tag, GZIP, gzip_tag),
        (f"W/{gzip_tag}", GZIP, gzip_tag),  # as a proxy that weakened it sends it
        (plain_tag, {}, plain_tag),
        # The client stored the other variant: its ETag is the one confirmed.
        (plain_tag, GZIP, plain_tag),
        (gzip_tag, {}, gzip_tag),
        (f'"other", {plain_tag}, {gzip_tag}', GZIP, gzip_tag),
        ("*", GZIP, gzip_tag),
    ]
    for sent_before_flask in (False, True):
        for if_none_match, encoding, expected in cases:
            if not sent_before_flask:
                serving.feed_cache.clear()
            response = client.get(feed, headers={"If-None-Match": if_none_match, **encoding})
            assert response.status_code == 304, if_none_match
            assert response.data == b"" and "Content-Encoding" not in response.headers
            assert response.headers["ETag"] == expected, (if_none_match, encoding)
            assert response.headers["Vary"].startswith("Accept-Encoding")


def test_a_changed_feed_is_sent_again_in_gzip(client, coordinator, worker, family, feed):
    encoded = client.get(feed, headers=GZIP)
    book(coordinator, family, worker, datetime(2026, 12, 9, 10, tzinfo=HELSINKI))
    after = client.get(feed, headers={"If-None-Match": encoded.headers["ETag"], **GZIP})
    assert after.status_code == 200 and after.headers["ETag"] != encoded.headers["ETag"]
    assert gzip.decompress(after.data).count(b"BEGIN:VEVENT") == 6


def test_the_gzip_bytes_are_made_once_per_answer(client, feed, monkeypatch):
    made = []
    compress = serving.gzip.compress
    monkeypatch.setattr(serving.gzip, "compress",
                        lambda data, *args, **kwargs: made.append(1) or compress(
                            data, *args, **kwargs))
    serving.feed_cache.clear()
    for _ in range(3):
        client.get(feed, headers=GZIP)
        client.head(feed, headers=GZIP)
        client.get(feed)
    assert made == [1]


# --- pages and JSON (Flask-Compress) -----------------------------------------------

def test_a_page_is_gzip_encoded_when_the_client_takes_it(client, worker):
    login(client, worker)
    identity = client.get("/calendars/week")
    encoded = client.get("/calendars/week", headers=GZIP)
    assert identity.status_code == encoded.status_code == 200
    assert "Content-Encoding" not in identity.headers
    assert "Accept-Encoding" in identity.headers["Vary"]
    assert encoded.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in encoded.headers["Vary"]
    page = gzip.decompress(encoded.data).decode()
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")


def test_json_is_gzip_encoded_and_reads_the_same(client, worker):
    path, headers = "/api/v1/openapi.json", bearer(worker)
    identity = client.get(path, headers=headers)
    refused = client.get(path, headers={**headers, "Accept-Encoding": "gzip;q=0"})
    encoded = client.get(path, headers={**headers, **GZIP})
    assert "Content-Encoding" not in identity.headers and refused.data == identity.data
    assert encoded.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(encoded.data)) == identity.get_json()
    # Below Flask-Compress's least size (500 bytes) it is not worth it.
    small = client.get("/api/v1/me", headers={**headers, **GZIP})
    assert small.status_code == 200 and "Content-Encoding" not in small.headers
    assert "Accept-Encoding" in small.headers["Vary"]


def test_report_exports_are_sent_as_they_are(client, coordinator):
    login(client, coordinator)
    period = "from=2026-01-01&to=2026-06-30"
    for path in (f"/reports/families/by_track.csv?{period}",
                 f"/reports/referrals/by_month.xlsx?{period}"):
        identity = client.get(path)
        encoded = client.get(path, headers=GZIP)
        assert identity.status_code == encoded.status_code == 200, path
        assert "Content-Encoding" not in encoded.headers
        assert encoded.data[:4] == identity.data[:4]
        assert encoded.data.startswith(b"PK") or encoded.data.startswith(b"\xef\xbb\xbf")


def test_the_feed_view_is_not_compressed_twice(client, feed):
    serving.feed_cache.clear()  # the view answers, Flask-Compress sees its answer
    response = client.get(feed, headers={"Accept-Encoding": "gzip, br, zstd, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data).startswith(b"BEGIN:VCALENDAR")
    assert response.headers["Vary"].count("Accept-Encoding") == 1

