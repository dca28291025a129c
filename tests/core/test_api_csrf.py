"""The JSON API and the session cookie: every route that changes something
(POST, PUT, PATCH, DELETE under /api/), taken from the URL map, refuses what
another site's page could make a signed-in browser send, and bearer callers
are left as they are.
"""

import pytest
from werkzeug.routing import Rule

from calendars.feeds import tokens as feed_tokens
from calendars.models import FeedToken
from core.clock import FixedClock
from extensions import db
from tests.conftest import NOW, bearer, csrf_token_from, login, make_user

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
FOREIGN = "https://evil.example"
GUARD_CODES = {"cross_origin", "csrf_failed"}


def _unsafe_api_routes(app) -> list[tuple[Rule, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            found += [(rule, method) for method in sorted(rule.methods or ()) if method in UNSAFE]
    return sorted(found, key=lambda pair: (pair[0].rule, pair[1]))


def _path(rule: Rule) -> str:
    """The rule with ids that name nothing: the guard answers before any lookup."""
    return rule.build({argument: 999_999 for argument in rule.arguments})[1]


def _code(response) -> str | None:
    body = response.get_json(silent=True)
    return body["error"]["code"] if isinstance(body, dict) and "error" in body else None


@pytest.fixture
def signed_in(app, client):
    """A client signed in by the session cookie, and its CSRF token."""
    user = make_user("admin", municipalities=())
    login(client, user)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client, token, user


def test_there_are_unsafe_api_routes_to_guard(app):
    endpoints = {rule.endpoint for rule, _method in _unsafe_api_routes(app)}
    # The routes this guard was made for are among them.
    for endpoint in ("calendars_api.rotate_feed", "reminders_api.cancel",
                     "reminders_api.retry", "matching_api.reject_proposal"):
        assert endpoint in endpoints, sorted(endpoints)


def test_a_cookie_request_from_another_origin_is_refused_on_every_route(app, signed_in):
    client, token, _user = signed_in
    wrong = []
    for rule, method in _unsafe_api_routes(app):
        path = _path(rule)
        for body in ({"json": {}}, {}):
            response = client.open(path, method=method, headers={
                "Origin": FOREIGN, "X-CSRFToken": token}, **body)
            if response.status_code != 403 or _code(response) != "cross_origin":
                wrong.append(f"{method} {path}: {response.status_code} {_code(response)}")
    assert wrong == []


def test_a_cookie_request_without_the_token_is_refused_on_every_route(app, signed_in):
    client, token, _user = signed_in
    wrong = []
    for rule, method in _unsafe_api_routes(app):
        path = _path(rule)
        for headers in ({}, {"X-CSRFToken": "not-the-token"}, {"X-CSRFToken": ""},
                        {"Origin": "http://localhost"}):
            for body in ({"json": {}}, {}):
                response = client.open(path, method=method, headers=headers, **body)
                if response.status_code != 403 or _code(response) != "csrf_failed":
                    wrong.append(f"{method} {path} {headers}: {response.status_code} "
                                 f"{_code(response)}")
    assert wrong == []


def test_a_cookie_request_with_the_token_passes_the_guard_on_every_route(app, signed_in):
    client, token, _user = signed_in
    wrong = []
    for rule, method in _unsafe_api_routes(app):
        path = _path(rule)
        for headers in ({"X-CSRFToken": token},
                        {"X-CSRFToken": token, "Origin": "http://localhost"}):
            response = client.open(path, method=method, headers=headers, json={})
            if _code(response) in GUARD_CODES or response.status_code in (401, 500):
                wrong.append(f"{method} {path}: {response.status_code} {_code(response)}")
    assert wrong == []


def test_bearer_requests_need_neither_token_nor_origin_on_every_route(app):
    user = make_user("admin", municipalities=())
    headers = bearer(user)
    client = app.test_client()  # no session cookie at all
    wrong = []
    for rule, method in _unsafe_api_routes(app):
        path = _path(rule)
        for extra in ({}, {"Origin": FOREIGN}):
            response = client.open(path, method=method, headers={**headers, **extra},
                                   json={})
            if _code(response) in GUARD_CODES or response.status_code in (401, 403, 500):
                wrong.append(f"{method} {path} {extra}: {response.status_code} "
                             f"{_code(response)}")
    assert wrong == []


@pytest.mark.parametrize("body", [
    {"data": {"privacy": "detailed"}},
    {"data": "privacy=detailed", "content_type": "application/x-www-form-urlencoded"},
    {"data": '{"privacy": "detailed"}', "content_type": "text/plain"},
    {"data": b"--x\r\n", "content_type": "multipart/form-data; boundary=x"},
], ids=["form", "urlencoded", "text-plain", "multipart"])
def test_a_body_that_is_not_json_is_refused_on_every_route(app, signed_in, body):
    client, token, user = signed_in
    headers = bearer(user)
    wrong = []
    for rule, method in _unsafe_api_routes(app):
        path = _path(rule)
        for sent in ({"X-CSRFToken": token}, headers):
            response = client.open(path, method=method, headers=sent, **body)
            if response.status_code != 400 or _code(response) != "invalid_json":
                wrong.append(f"{method} {path}: {response.status_code} {_code(response)}")
    assert wrong == []


def _worker_feed():
    worker = make_user("family_worker")
    feed, _secret = feed_tokens.create_feed(
        worker, owner_type="worker", owner_id=worker.id, detailed_allowed=False,
        clock=FixedClock(NOW))
    db.session.commit()
    return worker, feed


def test_a_forged_rotation_changes_nothing(app, client):
    """The reported case: a signed-in browser made to post a form or text/plain
    body from another site to rotate the worker's feed."""
    worker, feed = _worker_feed()
    login(client, worker)
    for forged in ({"data": {"x": "1"}, "headers": {"Origin": FOREIGN}},
                   {"data": "x", "content_type": "text/plain", "headers": {"Origin": FOREIGN}},
                   {"headers": {"Origin": FOREIGN}},
                   {}):
        response = client.post(f"/api/v1/feeds/{feed.id}/rotate", **forged)
        assert response.status_code in (400, 403), forged
        assert response.is_json and set(response.get_json()["error"]) >= {
            "code", "message", "fields"}
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(FeedToken)) == 1
    assert db.session.get(FeedToken, feed.id).revoked_at is None


def test_the_page_s_token_rotates_through_the_api(app, client):
    worker, feed = _worker_feed()
    login(client, worker)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    response = client.post(f"/api/v1/feeds/{feed.id}/rotate", headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert response.get_json()["url"].endswith(".ics")


def test_signed_in_pages_carry_the_token_for_scripts(app, signed_in):
    client, token, _user = signed_in
    html = client.get("/account").get_data(as_text=True)
    assert '<meta name="csrf-token" content="' in html
