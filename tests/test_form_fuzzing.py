"""Hypothesis-driven posts to every form of the pages: whatever is sent, no 500.

The routes come from the app's own URL map (every rule outside /api/ that takes
a POST), so a new form is fuzzed without a line here. Each route is one test over
fresh data, signed in as a user who may use it, with a valid CSRF token. Field
names, and the choices of select boxes, are read from the forms on the pages, once
for the run (which page holds which form) and again in each test (its choices are
the ids of that test's data). Each field is then left out, emptied, or given text,
unicode with control characters, very long text, numbers, dates, a known choice or
a list of values. The examples are bounded and derandomized.
"""

import os
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from flask import got_request_exception
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from tests.conftest import csrf_token_from, login
from tests.fuzzing import collection_app, make_region, reference_data_kept

# More for a deeper search on a developer's machine: FUZZ_EXAMPLES=200.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 12))
SKIPPED_PAGES = ("/api/", "/static/", "/calendars/feeds/<token>")


def _form_rules():
    return sorted(rule.rule for rule in collection_app().url_map.iter_rules()
                  if "POST" in rule.methods and not rule.rule.startswith("/api/"))


# --- reading the forms on the pages ---------------------------------------

class FormReader(HTMLParser):
    """The POST forms of a page: action, and per field name the values offered."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.links = []
        self._form = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "?" in (attrs.get("href") or ""):
            self.links.append(attrs["href"])
        if tag == "form":
            self._form = None
            if (attrs.get("method") or "get").lower() == "post":
                self._form = {"action": attrs.get("action") or "", "fields": {}}
                self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "textarea", "select", "button") and attrs.get("name"):
            values = self._form["fields"].setdefault(attrs["name"], [])
            if tag == "select":
                self._select = values
            elif attrs.get("value") not in (None, ""):
                values.append(attrs["value"])
        elif tag == "option" and self._select is not None and attrs.get("value"):
            self._select.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _read(client, path) -> FormReader:
    reader = FormReader()
    answer = client.get(path)
    if answer.status_code == 200 and answer.mimetype == "text/html":
        reader.feed(answer.get_data(as_text=True))
    return reader


def _forms_on(client, path, reader=None):
    """(endpoint, action, fields) of each POST form on a page; the action keeps its
    query (whose family, which owner)."""
    reader = reader or _read(client, path)
    adapter = client.application.url_map.bind("localhost")
    found = []
    for form in reader.forms:
        action = urlsplit(urljoin(path, form["action"] or path))
        try:
            endpoint, _args = adapter.match(action.path, method="POST")
        except HTTPException:
            continue
        target = f"{action.path}?{action.query}" if action.query else action.path
        found.append((endpoint, target, form["fields"]))
    return found


def _forms_of(client, path, via_link):
    """The forms on a page, or on the pages it links to with a query."""
    reader = _read(client, path)
    if not via_link:
        yield from _forms_on(client, path, reader)
        return
    for link in dict.fromkeys(_form_links(client, path, reader)):
        yield from _forms_on(client, link)


def _form_links(client, path, reader):
    """Links with a query to pages that hold a form of their own (subscribe to the
    feed of this group, place this family)."""
    adapter = client.application.url_map.bind("localhost")
    for href in reader.links:
        link = urlsplit(urljoin(path, href))
        try:
            adapter.match(link.path, method="POST")
        except HTTPException:
            continue
        yield f"{link.path}?{link.query}"


def _fill(rule, ids):
    """A path of a rule with the ids of this test's data, or None."""
    values = {}
    for name in rule.arguments:
        if not ids.get(name):
            return None
        values[name] = ids[name][0]
    return rule.build(values, append_unknown=False)[1]


# Which page holds each endpoint's form, or links to the page that does, and as
# whom: learnt in the first test.
FORM_PAGES: dict[str, tuple[str, bool, str | None]] = {}
# Forms for those who are not signed in: the login and opting out of reminders.
ANONYMOUS = ("accounts.login", "opt_out.stop")


def _learn_form_pages(app, client, region):
    if FORM_PAGES:
        return
    for role in ("coordinator", "admin", None):
        if role is not None:
            login(client, getattr(region, role))
        for rule in app.url_map.iter_rules():
            if ("GET" not in rule.methods or rule.rule.startswith(SKIPPED_PAGES)
                    or rule.endpoint == "accounts.logout"):
                continue
            path = _fill(rule, region.ids)
            if path is None:
                continue
            for via_link in (False, True):
                for endpoint, _target, _fields in _forms_of(client, path, via_link):
                    FORM_PAGES.setdefault(endpoint, (rule.rule, via_link, role))
        if role is not None:
            client.post("/logout", data={"csrf_token": _csrf(client)})


def _csrf(client, signed_in=True):
    """A CSRF token of this client's session, from a page with a form."""
    page = client.get("/account" if signed_in else "/login")
    return csrf_token_from(page.get_data(as_text=True))


# --- what is sent ----------------------------------------------------------

JUNK = st.one_of(
    st.just(""),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12),
    st.sampled_from(["\x00", "a\x00b", "\u202e", "😀" * 3, " ", "NULL", "'; --", "<b>",
                     "%", "\\", "0", "-1", "1e309", "nan", "2**31"]),
    # Line breaks and control characters inside one-line text (core.forms.PlainText).
    st.sampled_from(["Virta\nnen", "a\r\nb", "a\tb", "a\x0bb", "\x1b[2Ja", "a\x7f",
                     "a\x85b", "a\u2028b", "a\x9bb"]),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.sampled_from(["2026-02-30", "2026-12-01T25:00", "0000-01-01", "31.12.2026",
                     "17:00", "24:00", "9:5", "2026-12-01 17:00", "PT-2026-0001",
                     "2027-03-28", "03:30", "0001-01-01", "9999-12-31"]),
    st.sampled_from([2**31, 2**63, 10**20]).map(str),
    st.sampled_from([300, 2_000, 20_000]).map(lambda n: "ä" * n),
)


def _value(known):
    if known:
        return st.one_of(st.sampled_from(known), JUNK)
    return JUNK


@st.composite
def form_data(draw, fields):
    """Some of the form's fields, each once or several times, known or junk."""
    items = []
    for name, known in fields.items():
        if name == "csrf_token":
            continue
        how = draw(st.sampled_from(["known", "known", "junk", "missing", "list"]))
        if how == "missing":
            continue
        if how == "known" and known:
            items.append((name, draw(st.sampled_from(known))))
        elif how == "list":
            items.extend((name, value) for value in draw(
                st.lists(_value(known), min_size=2, max_size=4)))
        else:
            items.append((name, draw(JUNK)))
    if draw(st.booleans()):
        items.append((draw(st.sampled_from(["extra", "id", "role", "page"])), draw(JUNK)))
    return items


def fuzzed_query(target):
    """The form's action, its query kept or its values replaced."""
    path, _, query = target.partition("?")
    if not query:
        return st.just(target)
    pairs = parse_qsl(query, keep_blank_values=True)
    fuzzed = st.lists(st.tuples(st.sampled_from([name for name, _value in pairs]), JUNK),
                      max_size=2)
    return st.one_of(st.just(target), fuzzed.map(
        lambda extra: f"{path}?{urlencode(dict([*pairs, *extra]))}"))


# --- the test --------------------------------------------------------------

@pytest.fixture
def region(app):
    with reference_data_kept():
        yield make_region()


@pytest.mark.parametrize("path_rule", _form_rules())
def test_no_form_post_is_a_server_error(app, client, region, path_rule):
    _learn_form_pages(app, client, region)
    [rule] = [rule for rule in app.url_map.iter_rules()
              if rule.rule == path_rule and "POST" in rule.methods]
    page_rule, via_link, role = FORM_PAGES.get(rule.endpoint, (None, False, "coordinator"))
    if path_rule.startswith("/admin/") or rule.endpoint in ("policies.reminder_policy",
                                                            "policies.matching_policy"):
        role = "admin"
    if rule.endpoint in ANONYMOUS:
        role = None
    else:
        login(client, getattr(region, role))
    target = _fill(rule, region.ids) or rule.build(
        {name: "x" for name in rule.arguments}, append_unknown=False)[1]
    fields = {}
    if page_rule is not None:
        [page] = [r for r in app.url_map.iter_rules()
                  if r.rule == page_rule and "GET" in r.methods]
        for endpoint, action, found in _forms_of(client, _fill(page, region.ids), via_link):
            if endpoint == rule.endpoint:
                target = action
                for name, values in found.items():
                    fields.setdefault(name, []).extend(values)
    token = _csrf(client, signed_in=role is not None)
    errors = []

    def record(sender, exception, **extra):
        errors.append(exception)

    @given(items=form_data(fields), url=fuzzed_query(target))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def post(items, url):
        data = MultiDict([("csrf_token", token), *items])
        answer = client.post(url, data=data)
        assert not errors, errors
        assert answer.status_code < 500, (url, items, answer.status_code)

    with got_request_exception.connected_to(record, app):
        post()
