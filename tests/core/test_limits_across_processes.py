"""The limits of failed attempts hold across web processes when they are kept in
Redis: four gunicorn workers, and no more failures pass than one limit allows,
for sign-in, bearer tokens and feed secrets alike. (In memory, each process
counts its own: four workers let four limits' worth through.)

Needs Redis on 127.0.0.1:6379; skips without it, and fails where CI sets
REQUIRE_REDIS=1. Each worker of a run counts under a key prefix of its own
(``redis_key_prefix``), its keys removed afterwards.
"""

import http.client
import re
import secrets
import threading
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from tests.conftest import REDIS_URL
from tests.servers import WAIT_SECONDS, WORKERS, gunicorn_app

LIMIT = 5
ATTEMPTS = LIMIT * WORKERS + WORKERS  # more than a limit in every worker


@pytest.fixture(scope="module")
def port(_app, database_url, redis_key_prefix):
    """The app under gunicorn, its limits in Redis (each test counts in a scope
    of its own: sign-in, bearer, feed)."""
    settings = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_key_prefix,
                "LOGIN_LIMIT_PER_ADDRESS": f"{LIMIT} per 10 minutes",
                "BEARER_LIMIT_PER_ADDRESS": f"{LIMIT} per 10 minutes",
                "FEED_LIMIT_PER_ADDRESS": f"{LIMIT} per 10 minutes"}
    with gunicorn_app(database_url, settings=settings, every_worker=True) as served:
        yield served


def _request(port, method, path, *, headers=None, body=None):
    """One request on a connection of its own: the status, the headers and the body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT_SECONDS)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def _burst(port, requests: list[tuple]) -> list[tuple]:
    """Send (method, path, headers, body) requests released together, each on a
    connection opened beforehand: each of them goes to a worker of its own."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def client(index, method, path, headers, body):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT_SECONDS)
        try:
            connection.connect()
            barrier.wait(timeout=WAIT_SECONDS)
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            results[index] = (response.status, response.headers, response.read())
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(index, *request))
               for index, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_SECONDS)
    assert None not in results
    return results


def _in_bursts(port, requests: list[tuple]) -> list[tuple]:
    """The requests WORKERS at a time, so that every worker takes a share (one
    after another, the same worker tends to take them all)."""
    answers = []
    for start in range(0, len(requests), WORKERS):
        answers += _burst(port, requests[start:start + WORKERS])
    return answers


def _one_limit_held(port, answers: list[tuple], failed: int, last: tuple) -> None:
    """As many failures answered as one limit allows (a burst's requests are
    checked together before any is counted, so up to WORKERS - 1 more), every
    other one refused with 429 and Retry-After, and the next one refused too."""
    statuses = [status for status, _headers, _body in answers]
    assert set(statuses) <= {failed, 429}, statuses
    assert LIMIT <= statuses.count(failed) <= LIMIT + WORKERS - 1, statuses
    method, path, headers = last
    status, headers, _body = _request(port, method, path, headers=headers)
    assert status == 429 and int(headers["Retry-After"]) >= 1


def _bearer_request() -> tuple:
    return ("GET", "/api/v1/me", {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"},
            None)


def _feed_request() -> tuple:
    return ("GET", f"/calendars/feeds/{secrets.token_urlsafe(32)}.ics", {}, None)


def test_wrong_bearer_tokens_are_limited_across_processes(port):
    answers = _in_bursts(port, [_bearer_request() for _ in range(ATTEMPTS)])
    _one_limit_held(port, answers, 401, _bearer_request()[:3])


def test_unknown_feed_urls_are_limited_across_processes(port):
    answers = _in_bursts(port, [_feed_request() for _ in range(ATTEMPTS)])
    _one_limit_held(port, answers, 404, _feed_request()[:3])


def _sign_in_request(port, attempt: int) -> tuple:
    """A failed sign-in as a browser sends it: the login page's cookie and token,
    another account each time (so that only the limit per address can stop it)."""
    status, headers, body = _request(port, "GET", "/login")
    assert status == 200
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)
    cookie = SimpleCookie(headers["Set-Cookie"])
    session = "; ".join(f"{name}={morsel.value}" for name, morsel in cookie.items())
    form = urlencode({"email": f"nobody{attempt}@example.test", "password": "wrong-guess",
                      "csrf_token": token.decode()})
    return ("POST", "/login", {"Content-Type": "application/x-www-form-urlencoded",
                               "Cookie": session}, form)


def test_failed_sign_ins_are_limited_across_processes(port):
    # The forms are fetched first: a refused address gets the login page with 429.
    forms = [_sign_in_request(port, attempt) for attempt in range(ATTEMPTS + 1)]
    answers = _in_bursts(port, forms[:-1])
    method, path, headers, body = forms[-1]
    statuses = [status for status, _headers, _body in answers]
    assert set(statuses) <= {422, 429}, statuses
    assert LIMIT <= statuses.count(422) <= LIMIT + WORKERS - 1, statuses
    assert _request(port, method, path, headers=headers, body=body)[0] == 429
