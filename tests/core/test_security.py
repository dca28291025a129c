"""Security headers on every kind of response, and a session cookie that is
Secure, HttpOnly and SameSite=Lax."""

import re
from pathlib import Path

import pytest

from app import create_app
from config import TestConfig, settings
from core.security import CONTENT_SECURITY_POLICY
from extensions import db
from tests.conftest import PASSWORD, csrf_token_from

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize("path", [
    "/login",                                  # a page
    "/api/v1/me",                              # the API, unauthenticated
    "/calendars/feeds/unknown.ics",            # a feed's bare 404
    "/no-such-page",                           # an error page
    "/static/app.css",                         # a static file
])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    response.close()
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers  # served over http here


def test_the_policy_allows_no_inline_script_and_no_framing():
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_no_template_has_an_inline_script_style_or_handler():
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\son[a-z]+=|\sstyle=", re.I)
    found = [f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
             for path in TEMPLATES.rglob("*.html")
             for match in inline.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


@pytest.fixture
def https_app(app):
    """The same database served as it is in production, behind HTTPS."""
    served = create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI=app.config[
        "SQLALCHEMY_DATABASE_URI"], PUBLIC_BASE_URL="https://perhetyo.example"))
    yield served
    with served.app_context():
        db.engine.dispose()  # its connections, not left to the garbage collector


def test_over_https_the_session_cookie_is_secure_and_transport_is_strict(https_app,
                                                                         coordinator):
    client = https_app.test_client()
    page = client.get("/login", base_url="https://perhetyo.example")
    response = client.post("/login", base_url="https://perhetyo.example", data={
        "email": coordinator.email, "password": PASSWORD,
        "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    [cookie] = [value for value in response.headers.getlist("Set-Cookie")
                if value.startswith("session=")]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_setting_overrides_the_cookies_secure_flag(app):
    forced = create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI=app.config[
        "SQLALCHEMY_DATABASE_URI"], SESSION_COOKIE_SECURE=True))
    assert forced.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is False
