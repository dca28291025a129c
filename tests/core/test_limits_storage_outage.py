"""With the limits' storage down, requests are served uncounted, never a 500:
the app under gunicorn with its limits in a Redis that does not answer (a
loopback port nothing listens on), for sign-in, bearer tokens and feeds.
"""

import secrets

import pytest

from tests.core.test_limits_across_processes import _request, _sign_in_request
from tests.servers import gunicorn_app
from tests.workers import free_port


@pytest.fixture(scope="module")
def port(_app, database_url):
    # A port of this worker's that nothing listens on: a Redis that does not answer.
    settings = {"RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}",
                "LOGIN_LIMIT_PER_ADDRESS": "2 per 10 minutes",
                "BEARER_LIMIT_PER_ADDRESS": "2 per 10 minutes",
                "FEED_LIMIT_PER_ADDRESS": "2 per 10 minutes"}
    with gunicorn_app(database_url, workers=1, settings=settings) as served:
        yield served


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
        method, path, headers, body = _sign_in_request(port, attempt)
        status, _headers, answer = _request(port, method, path, headers=headers, body=body)
        assert status == 422, answer
