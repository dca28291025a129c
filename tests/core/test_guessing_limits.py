"""Guessing secrets is limited per address: wrong bearer tokens on the API and
feed URLs whose secret no feed ever had. Only failures count, so a right token
or a calendar polling its feed never meets the limit; once an address is over
it, every attempt from it waits (429 with Retry-After), right or wrong, and
other addresses are not affected.
"""

import secrets

import pytest

from accounts.models import ApiToken
from accounts.services import issue_api_token, revoke_api_token
from calendars.feeds import serving
from calendars.feeds import tokens as feed_tokens
from calendars.models import FeedToken
from core.clock import FixedClock
from extensions import db
from tests.conftest import NOW, make_user

LIMIT = 5
ATTACKER = {"REMOTE_ADDR": "192.0.2.66"}
NEIGHBOUR = {"REMOTE_ADDR": "192.0.2.7"}


@pytest.fixture
def limits(app):
    saved = {key: app.config[key] for key in ("BEARER_LIMIT_PER_ADDRESS",
                                              "FEED_LIMIT_PER_ADDRESS")}
    app.config.update({key: f"{LIMIT} per 10 minutes" for key in saved})
    yield
    app.config.update(saved)


@pytest.fixture
def worker(app):
    return make_user("family_worker")


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def _wrong() -> str:
    return secrets.token_urlsafe(32)


def _assert_waits(response, *, json: bool) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    if json:
        error = response.get_json()["error"]
        assert error["code"] == "too_many_requests" and error["message"]
        assert error["fields"] == {}
    else:
        assert response.mimetype == "text/plain"
        assert b"Try again later" in response.data


# --- bearer tokens -----------------------------------------------------------

def test_wrong_bearer_tokens_are_limited_per_address(client, limits, worker):
    right = issue_api_token(worker, clock=FixedClock(NOW))
    db.session.commit()
    for _attempt in range(LIMIT):
        response = client.get("/api/v1/me", headers=_bearer(_wrong()), environ_base=ATTACKER)
        assert response.status_code == 401
    for method, path in (("GET", "/api/v1/me"), ("POST", "/api/v1/feeds"),
                         ("DELETE", "/api/v1/feeds/1")):
        response = client.open(path, method=method, headers=_bearer(_wrong()), json={},
                               environ_base=ATTACKER)
        _assert_waits(response, json=True)
    # A guess that came right now would be answered no differently.
    _assert_waits(client.get("/api/v1/me", headers=_bearer(right), environ_base=ATTACKER),
                  json=True)
    # Another address is not affected, right or wrong.
    assert client.get("/api/v1/me", headers=_bearer(right),
                      environ_base=NEIGHBOUR).status_code == 200
    assert client.get("/api/v1/me", headers=_bearer(_wrong()),
                      environ_base=NEIGHBOUR).status_code == 401


def test_a_right_token_used_all_day_is_never_limited(client, limits, worker):
    right = _bearer(issue_api_token(worker, clock=FixedClock(NOW)))
    db.session.commit()
    for _attempt in range(LIMIT * 4):
        assert client.get("/api/v1/me", headers=right,
                          environ_base=ATTACKER).status_code == 200


def test_a_revoked_token_is_refused_but_not_counted_as_a_guess(client, limits, worker):
    """An old script with a revoked token is not an attacker: it must not lock its
    colleagues at the same address out."""
    old = issue_api_token(worker, clock=FixedClock(NOW))
    db.session.commit()
    revoke_api_token(worker, _token_id(worker), clock=FixedClock(NOW))
    db.session.commit()
    for _attempt in range(LIMIT * 3):
        assert client.get("/api/v1/me", headers=_bearer(old),
                          environ_base=ATTACKER).status_code == 401
    right = _bearer(issue_api_token(worker, clock=FixedClock(NOW)))
    db.session.commit()
    assert client.get("/api/v1/me", headers=right, environ_base=ATTACKER).status_code == 200


def _token_id(worker) -> int:
    return db.session.scalar(db.select(ApiToken.id).where(ApiToken.user_id == worker.id))


# --- feed secrets --------------------------------------------------------------

def _feed(worker) -> str:
    _made, secret = feed_tokens.create_feed(
        worker, owner_type="worker", owner_id=worker.id, detailed_allowed=False,
        clock=FixedClock(NOW))
    db.session.commit()
    return f"/calendars/feeds/{secret}.ics"


def test_unknown_feed_urls_are_limited_per_address(client, limits, worker):
    live = _feed(worker)
    assert client.get(live, environ_base=ATTACKER).status_code == 200
    for _attempt in range(LIMIT):
        response = client.get(f"/calendars/feeds/{_wrong()}.ics", environ_base=ATTACKER)
        assert response.status_code == 404
    _assert_waits(client.get(f"/calendars/feeds/{_wrong()}.ics", environ_base=ATTACKER),
                  json=False)
    head = client.head(f"/calendars/feeds/{_wrong()}.ics", environ_base=ATTACKER)
    assert head.status_code == 429 and head.data == b""
    # The live feed too, from that address: both the answer kept and a fresh one.
    _assert_waits(client.get(live, environ_base=ATTACKER), json=False)
    serving.feed_cache.clear()
    _assert_waits(client.get(live, environ_base=ATTACKER), json=False)
    assert client.get(live, environ_base=NEIGHBOUR).status_code == 200
    assert client.get(f"/calendars/feeds/{_wrong()}.ics",
                      environ_base=NEIGHBOUR).status_code == 404


def test_a_calendar_polling_its_feed_is_never_limited(client, limits, worker):
    live = _feed(worker)
    first = client.get(live, environ_base=ATTACKER)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    for attempt in range(LIMIT * 4):
        headers = {"If-None-Match": etag} if attempt % 2 else {}
        response = client.get(live, headers=headers, environ_base=ATTACKER)
        assert response.status_code == (304 if attempt % 2 else 200)


def test_a_revoked_feed_is_not_found_but_not_counted_as_a_guess(client, limits, worker):
    """Calendar services go on fetching a revoked link for months, from the
    addresses they fetch every other feed from."""
    revoked, live = _feed(worker), _feed(worker)
    feed = db.session.scalar(db.select(FeedToken).order_by(FeedToken.id))
    feed_tokens.revoke_feed(worker, feed, clock=FixedClock(NOW))
    db.session.commit()
    for _attempt in range(LIMIT * 3):
        assert client.get(revoked, environ_base=ATTACKER).status_code == 404
    assert client.get(live, environ_base=ATTACKER).status_code == 200
