"""With the limits' storage down, requests are served uncounted, never a 500:
the app under gunicorn with its limits in a Redis that does not answer (a
loopback port nothing listens on), for sign-in, bearer tokens and feeds.
"""

import http.client
import re
import secrets
import socket
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from tests.servers import WAIT_SECONDS, gunicorn_app


def _closed_port() -> int:
    """A loopback port that was free a moment ago: nothing answers there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def port(_app, database_url):
    settings = {"RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{_closed_port()}",
                "LOGIN_LIMIT_PER_ADDRESS": "2 per 10 minutes",
                "BEARER_LIMIT_PER_ADDRESS": "2 per 10 minutes",
                "FEED_LIMIT_PER_ADDRESS": "2 per 10 minutes"}
    with gunicorn_app(database_url, workers=1, settings=settings) as served:
        yield served


def _request(port, method, path, *, headers=None, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT_SECONDS)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_wrong_bearer_tokens_are_answered_while_the_storage_is_down(port):
    for _ in range(4):
        status, _headers, body = _request(port, "GET", "/api/v1/me", headers={
            "Authorization": f"Bearer {secrets.token_urlsafe(32)}"})
        assert status == 401, body


def test_feeds_are_answered_while_the_storage_is_down(port):
    for _ in range(4):
        status, _headers, body = _request(
            port, "GET", f"/calendars/feeds/{secrets.token_urlsafe(32)}.ics")
        assert status == 404, body


def test_sign_in_is_answered_while_the_storage_is_down(port):
    for attempt in range(4):
        status, headers, body = _request(port, "GET", "/login")
        assert status == 200, body
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)
        cookie = SimpleCookie(headers["Set-Cookie"])
        form = urlencode({"email": f"nobody{attempt}@example.test",
                          "password": "wrong-guess-of-a-password",
                          "csrf_token": token.decode()})
        status, _headers, body = _request(port, "POST", "/login", body=form, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{name}={m.value}" for name, m in cookie.items())})
        assert status == 422, body
