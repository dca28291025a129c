"""Redirects to an address a request carries (``next``) stay on this site, read
as a browser reads the address, on every route that takes one."""

import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from core.http import local_target
from tests.conftest import (
    PASSWORD,
    csrf_token_from,
    login,
    make_family,
    make_user,
    second_factor_code,
)
from tests.reminders.helpers import at, book, rows

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = "/default"

# The known ways to write another host so that a naive check of the raw string
# lets it through: protocol-relative, backslashes (read as "/"), tabs and
# newlines (removed by the browser, or a 500 in a header), leading controls and
# spaces (trimmed), percent-encoded forms (decoded by some reader on the way),
# Unicode forms whose compatibility form (NFKC) is a slash or backslash, and
# plain absolute and scripted addresses.
HOSTILE = [
    "//evil.example", "///evil.example", "////evil.example/", "/\\evil.example",
    "\\\\evil.example", "\\/evil.example", "/\\/evil.example", "\\evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\r\n/evil.example",
    "\t//evil.example", " //evil.example", "\x00//evil.example", "/\x00/evil.example",
    "/\x0b/evil.example", "/\x7f/evil.example", "/%09/evil.example", "/%0a/evil.example",
    "/%0d%0a/evil.example", "/%2F/evil.example", "/%2f%2fevil.example",
    "%2F%2Fevil.example", "/%5Cevil.example", "/%5cevil.example", "/%252F/evil.example",
    "/%25252F/evil.example", "/\uff0fevil.example", "\uff0f\uff0fevil.example",
    "/\ufe68evil.example", "/\uff3cevil.example", "https://evil.example/",
    "http:/evil.example", "http:evil.example", "HTTPS://evil.example", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>", "evil.example",
    "@evil.example", "/%0d%0aSet-Cookie:x=1", "/\r\nSet-Cookie: x=1",
]
SAFE = ["/", "/families/3", "/families/?q=Virtanen+Anna", "/families/?q=Virtanen%20Anna",
        "/calendars/week?date=2026-12-01", "/reminders/?status=failed&page=2",
        "/groups/7#sessions", "/perheet/äiti"]


def browser_host(location: str, base: str = "http://localhost/login") -> str:
    """The host a browser goes to on ``Location: location`` (WHATWG URL reading):
    controls and spaces trimmed at the ends, tabs and newlines removed, a
    backslash read as a slash in an http(s) URL, and any number of slashes
    before a host read as two."""
    cleaned = location.strip("".join(chr(code) for code in range(0x21)))
    cleaned = re.sub(r"[\t\n\r]", "", cleaned).replace("\\", "/")
    if cleaned.startswith("//"):
        cleaned = "//" + cleaned.lstrip("/")
    return urlsplit(urljoin(base, cleaned)).netloc


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_address_gives_the_default(value):
    assert local_target(value, DEFAULT) == DEFAULT


@pytest.mark.parametrize("value", SAFE)
def test_a_path_of_this_site_is_kept(value):
    assert local_target(value, DEFAULT) == value


def test_nothing_or_a_very_long_address_gives_the_default():
    assert local_target(None, DEFAULT) == DEFAULT
    assert local_target("", DEFAULT) == DEFAULT
    assert local_target("/" + "a" * 5000, DEFAULT) == DEFAULT


# --- every route that redirects to a ``next`` ---------------------------------

def _assert_stays(response, value):
    """A redirect on this site, or a refusal of the request (a NUL is refused before
    any view: no database holds one); never a 500, never another host."""
    if response.status_code == 422 and "\x00" in value:
        assert "Location" not in response.headers
        return False
    assert response.status_code == 302, (value, response.status_code)
    location = response.headers["Location"]
    assert browser_host(location) in ("localhost", ""), (value, location)
    assert "\r" not in location and "\n" not in location
    return True


def test_signing_in_goes_only_to_a_page_of_this_site(client, coordinator):
    for value in HOSTILE:
        page = client.get("/login")
        response = client.post("/login", query_string={"next": value}, data={
            "email": coordinator.email, "password": PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True))})
        if _assert_stays(response, value):
            assert response.headers["Location"] == "/"
            client.post("/logout", data={"csrf_token": csrf_token_from(
                client.get("/account").get_data(as_text=True))})


def test_the_reported_tab_bypass_is_refused_as_the_raw_query_string(client, coordinator):
    """``?next=/%09/evil.example`` once answered ``Location: //evil.example``."""
    for raw in ("next=/%09/evil.example", "next=/%0d%0a/evil.example",
                "next=/%0A/evil.example", "next=%2F%5Cevil.example"):
        page = client.get("/login")
        response = client.post(f"/login?{raw}", data={
            "email": coordinator.email, "password": PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True))})
        _assert_stays(response, raw)
        client.post("/logout", data={"csrf_token": csrf_token_from(
            client.get("/account").get_data(as_text=True))})


def test_a_path_of_this_site_is_where_signing_in_goes(client, coordinator):
    page = client.get("/login")
    response = client.post("/login", query_string={"next": "/families/?q=a"}, data={
        "email": coordinator.email, "password": PASSWORD,
        "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.headers["Location"] == "/families/?q=a"


def test_the_second_factor_goes_only_to_a_page_of_this_site(client, admin):
    """The address is checked before it is kept for after the second step."""
    for value in HOSTILE[:12] + ["/families/"]:
        page = client.get("/login")
        response = client.post("/login", query_string={"next": value}, data={
            "email": admin.email, "password": PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True))})
        assert response.headers["Location"].endswith("/login/two-factor")
        page = client.get("/login/two-factor")
        response = client.post("/login/two-factor", data={
            "code": second_factor_code(admin),
            "csrf_token": csrf_token_from(page.get_data(as_text=True))})
        _assert_stays(response, value)
        assert response.headers["Location"] == ("/families/" if value == "/families/" else "/")
        client.post("/logout", data={"csrf_token": csrf_token_from(
            client.get("/account").get_data(as_text=True))})


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_language_switch_goes_only_to_a_page_of_this_site(client, coordinator, signed_in):
    if signed_in:
        login(client, coordinator)
    for value in HOSTILE:
        token = csrf_token_from(client.get("/login" if not signed_in else "/account")
                                .get_data(as_text=True))
        response = client.post("/language", data={"locale": "en", "next": value,
                                                  "csrf_token": token})
        _assert_stays(response, value)


def test_the_outbox_actions_go_back_only_to_a_page_of_this_site(client, coordinator):
    worker = make_user("family_worker")
    family = make_family(coordinator, workers=[worker], plan=True)
    book(coordinator, family, at(12, 3, 10))
    login(client, coordinator)
    reminder = rows()[0]
    for value in HOSTILE:
        token = csrf_token_from(client.get("/reminders/").get_data(as_text=True))
        response = client.post(f"/reminders/{reminder.id}/cancel",
                                data={"next": value, "csrf_token": token})
        if _assert_stays(response, value):
            assert response.headers["Location"] == "/reminders/"


# --- no other way in ------------------------------------------------------------

def _sources():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "tests", "migrations", "benchmarks", "node_modules"}:
            continue
        yield relative, path.read_text(encoding="utf-8")


def test_every_address_read_from_a_request_for_a_redirect_goes_through_local_target():
    """An enumeration of the sources: wherever a request's ``next`` (or any
    ``*next*``/``*return*``/``*back*`` parameter) or its Referer is read, the
    same line hands it to ``local_target`` (or the login page's ``_safe_next``,
    which is that function with the dashboard as default)."""
    reading = re.compile(
        r"request\.(?:args|form|values)\.get\(\s*[\"'][^\"']*(?:next|return|back|redirect)"
        r"|request\.referrer|request\.headers\.get\(\s*[\"']Referer", re.IGNORECASE)
    unchecked = []
    for relative, text in _sources():
        for number, line in enumerate(text.splitlines(), 1):
            if reading.search(line) and not re.search(r"local_target\(|_safe_next\(", line):
                unchecked.append(f"{relative}:{number}: {line.strip()}")
    assert unchecked == []
    found = sum(len(reading.findall(text)) for _relative, text in _sources())
    assert found >= 3  # the login page, the language switch, the outbox's actions
