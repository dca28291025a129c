"""Hostile input is refused as bad input naming its field, and a fault is still an
answer: never a 500 for input, never the WSGI server's bare page for anything.

Through the API and the pages alike: JSON nested too deeply, lone surrogates,
bodies too large, dates outside the years the app takes, page numbers past any
list, local times that do not exist, and control characters in one-line text.
"""

import contextlib
import re
from datetime import date, time

import pytest
import sqlalchemy as sa
from flask import Blueprint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema as MarshmallowSchema
from sqlalchemy.exc import IntegrityError
from wtforms import DateField, Form, PasswordField, StringField, TextAreaField

from accounts.models import User
from app import create_app
from calendars import services as calendar_services
from calendars.models import HomeVisit
from config import TestConfig
from config import settings as app_settings
from core.clock import FixedClock
from core.fields import Text
from core.forms import PlainText, PlausibleDate
from core.localtime import (
    NonexistentLocalTime,
    local_datetime,
    parse_instant,
    strict_local_datetime,
)
from core.models import Municipality
from extensions import db
from families.models import Family
from tests.conftest import (
    HELSINKI,
    NOW,
    bearer,
    csrf_token_from,
    login,
    make_family,
    make_group,
    make_user,
)
from tests.fuzzing import CALENDAR, collection_app, make_region, reference_data_kept

FAMILY = {"surname": "Virtanen", "municipality": "Mikkeli", "track": "preventive",
          "referral_source": "child_health_clinic", "referral_date": "2026-11-02"}
# Each control character a one-line field refuses, from C0, DEL, C1 and the
# Unicode line separators; each sits inside the text, where no strip removes it.
ONE_LINE_BREAKERS = ["\n", "\r", "\t", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85",
                     "\x9b", "\u2028", "\u2029"]
MULTI_LINE_BREAKERS = ["\t", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9b"]
ONE_LINE_MESSAGE = "Write this on one line, without line breaks or control characters."
GAP_MESSAGE = "There is no 03:30 on Mar 28, 2027: the clocks go forward an hour."


def html_of(response) -> str:
    return response.get_data(as_text=True)


def field_error(html: str, field: str) -> str:
    """The error shown beside a field of a form, or "" when there is none."""
    match = re.search(rf'id="{re.escape(field)}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def post_form(client, url, data, page_url=None):
    """Post a page's form as a browser would: with the CSRF token of the session."""
    token = csrf_token_from(html_of(client.get(page_url or url)))
    return client.post(url, data={**data, "csrf_token": token})


def refused_field(response, field, status=422) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    error = response.get_json()["error"]
    assert field in error["fields"], error
    return error["fields"][field]


# --- item 3: an error is an answer, whatever failed -------------------------

fault = Blueprint("fault", __name__)


def _fail_a_flush_then_raise():
    """A unique violation at flush, then a fault: the session now refuses every
    query until it is rolled back, the error page's own included."""
    db.session.add(Municipality(name="Mikkeli", latitude=61.0, longitude=27.0))
    with contextlib.suppress(IntegrityError):
        db.session.flush()
    raise RuntimeError("a fault after a failed flush")


fault.add_url_rule("/fault", "page", _fail_a_flush_then_raise)
fault.add_url_rule("/api/v1/fault", "api", _fail_a_flush_then_raise)


@pytest.fixture
def served(app):
    """The app as it is served, on the same database, with routes that fail."""
    served = create_app(app_settings(TestConfig, SQLALCHEMY_DATABASE_URI=app.config[
        "SQLALCHEMY_DATABASE_URI"]))
    served.register_blueprint(fault)
    yield served
    with served.app_context():
        db.session.remove()
        db.engine.dispose()


def mikkeli_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Municipality).where(
            Municipality.name == "Mikkeli"))


def test_after_a_failed_flush_a_page_gets_the_error_page(served, coordinator):
    client = served.test_client()
    login(client, coordinator)  # the error page then loads the user: a query
    response = client.get("/fault")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    html = html_of(response)
    assert "Something went wrong on our side." in html
    assert "Back to the dashboard" in html  # the real page, with the user loaded
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/account").status_code == 200  # the next request is served
    assert mikkeli_count(served) == 1


def test_after_a_failed_flush_the_api_gets_the_json_error(served, coordinator):
    client = served.test_client()
    login(client, coordinator)
    response = client.get("/api/v1/fault")
    assert response.status_code == 500
    assert response.get_json() == {"error": {
        "code": "server_error", "message": "Something went wrong on our side.",
        "fields": {}}}
    assert client.get("/api/v1/me").status_code == 200


def test_when_the_rollback_fails_too_the_answer_is_still_made(served, coordinator,
                                                              monkeypatch):
    client = served.test_client()
    login(client, coordinator)

    def broken_rollback():
        raise ConnectionError("the database went away")

    monkeypatch.setattr(db.session, "rollback", broken_rollback)
    page = client.get("/fault")
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "Something went wrong on our side." in html_of(page)
    api = client.get("/api/v1/fault")
    assert api.status_code == 500
    assert api.get_json()["error"]["code"] == "server_error"


@pytest.fixture
def locale_fails(served):
    """An app whose every translation fails: the locale lookup raises."""

    def broken_locale():
        raise RuntimeError("the locale could not be looked up")

    served.extensions["babel"].locale_selector = broken_locale
    return served


@pytest.mark.parametrize("path", ["/fault", "/no-such-page", "/login"])
def test_when_the_error_page_cannot_be_made_a_plain_one_is_sent(locale_fails, path):
    response = locale_fails.test_client().get(path)
    assert response.status_code in (404, 500)
    assert response.mimetype == "text/html"
    html = html_of(response)
    assert str(response.status_code) in html
    assert "Something went wrong" in html or "could not be handled" in html
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path, status, code", [
    ("/api/v1/fault", 500, "server_error"),
    ("/api/v1/no-such-thing", 404, "not_found"),
])
def test_when_the_json_error_cannot_be_translated_a_plain_one_is_sent(locale_fails, path,
                                                                      status, code):
    response = locale_fails.test_client().get(path)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code and error["fields"] == {} and error["message"]


# --- item 4: JSON that cannot be read --------------------------------------

@pytest.mark.parametrize("body", [
    "[" * 100_000,
    "{" + '"a":{' * 50_000,
    '{"surname": ' + "[" * 40 + "]" * 40 + "}",
])
def test_json_nested_too_deeply_is_a_400(client, coordinator, body):
    response = client.post("/api/v1/families", headers=bearer(coordinator), data=body,
                           content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_json" and "nested" in error["message"]


@pytest.mark.parametrize("body", [b'{"surname": "\xff\xfe"}', b"\xef\xbb\xbf{",
                                  b'{"surname": 1' + b"0" * 5000 + b"}"])
def test_json_that_cannot_be_decoded_is_a_400(client, coordinator, body):
    response = client.post("/api/v1/families", headers=bearer(coordinator), data=body,
                           content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_json_nested_a_little_names_the_field(client, coordinator):
    response = client.post("/api/v1/families", headers=bearer(coordinator),
                           data='{"surname": ' + "[" * 10 + "]" * 10 + "}",
                           content_type="application/json")
    assert refused_field(response, "surname") == "Expected text."


@pytest.mark.parametrize("body, field", [
    ('{"surname": "\\ud800x"}', "surname"),
    ('{"surname": "x\\udfff"}', "surname"),
    ('{"members": [{"role": "child", "first_name": "\\udc00"}]}', "members"),
    ('{"\\ud800": "x"}', "\ufffd"),
    ('{"languages": ["fi", "\\ud83d"]}', "languages"),
])
def test_a_lone_surrogate_anywhere_names_its_field(client, coordinator, body, field):
    response = client.post("/api/v1/families", headers=bearer(coordinator),
                           data=body[:-1] + ', "municipality": "Mikkeli"}',
                           content_type="application/json")
    assert "surrogate" in refused_field(response, field)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Family)) == 0


def test_a_lone_surrogate_in_a_change_costs_nothing(client, coordinator):
    family = make_family(coordinator, surname="Virtanen")
    response = client.patch(f"/api/v1/families/{family.id}", headers=bearer(coordinator),
                            data='{"surname": "Virta\\ud800nen"}',
                            content_type="application/json")
    refused_field(response, "surname")
    db.session.expire_all()
    assert db.session.get(Family, family.id).surname == "Virtanen"
    assert client.get(f"/api/v1/families/{family.id}",
                      headers=bearer(coordinator)).status_code == 200


def test_a_body_too_large_is_a_413_in_the_json_shape(client, coordinator):
    body = '{"surname": "' + "a" * (2 * 1024 * 1024) + '"}'
    response = client.post("/api/v1/families", headers=bearer(coordinator), data=body,
                           content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_a_form_too_large_is_a_413_error_page(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/families/new", {**FAMILY, "address": "a" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "The request is too large." in html_of(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Family)) == 0


def test_the_body_limit_is_a_setting_of_a_mebibyte(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


# --- item 4: dates and numbers in queries ----------------------------------

@pytest.fixture
def worker(app):
    return make_user("family_worker")


QUERY_DATES = [("from=0001-01-01", "from"), ("from=9999-12-31", "from"),
               ("from=1999-12-31", "from"), ("from=2101-01-01", "from"),
               ("to=9999-12-31", "to"), ("from=2026-12-01&to=0001-01-01", "to")]
DATED_PATHS = ["/api/v1/visits", "/api/v1/workers/{worker}/events",
               "/api/v1/workers/{worker}/free-slots?duration=60",
               "/api/v1/workers/{worker}/absences"]


@pytest.mark.parametrize("path, query, field", [
    (path, query, field) for path in DATED_PATHS for query, field in QUERY_DATES
    if field == "from" or not path.endswith("/absences")])  # absences take only a from
def test_query_dates_outside_the_years_name_the_parameter(client, coordinator, worker,
                                                          path, query, field):
    url = path.format(worker=worker.id)
    url += ("&" if "?" in url else "?") + query
    message = refused_field(client.get(url, headers=bearer(coordinator)), field)
    assert "2000" in message and "2100" in message


@pytest.mark.parametrize("query", ["page=99999999999999999999", "page=²", "page=0",
                                   "page=-1", "page=1e9"])
@pytest.mark.parametrize("path", ["/families/", "/reminders/", "/admin/audit"])
def test_a_page_number_past_any_list_is_a_422_saying_so(client, coordinator, admin, path,
                                                        query):
    login(client, admin if path.startswith("/admin") else coordinator)
    response = client.get(f"{path}?{query}")
    assert response.status_code == 422
    assert "The page is a whole number from 1 to" in html_of(response)


@pytest.mark.parametrize("query, field", [
    ("per_page=²", "per_page"), ("page=99999999999999999999", "page"),
])
def test_an_api_page_number_that_is_not_one_names_the_parameter(client, coordinator,
                                                                 query, field):
    refused_field(client.get(f"/api/v1/families?{query}", headers=bearer(coordinator)),
                  field)


@pytest.mark.parametrize("path", ["/calendars/week", "/calendars/month", "/calendars/day"])
@pytest.mark.parametrize("query", ["date=0001-01-01", "date=9999-12-31",
                                   "date=1999-12-31"])
def test_calendar_pages_refuse_dates_outside_the_years(client, coordinator, path, query):
    login(client, coordinator)
    response = client.get(f"{path}?{query}")
    assert response.status_code == 422


@pytest.mark.parametrize("query", ["worker=²", "worker=99999999999999999999"])
def test_calendar_and_working_time_pages_take_ids_in_ascii_digits_only(client, worker,
                                                                       query):
    login(client, worker)
    assert client.get(f"/calendars/week?{query}").status_code == 404
    assert client.get(f"/calendars/working-time?{query}").status_code == 404
    owner = query.replace("worker=", "owner_type=worker&owner_id=")
    assert client.get(f"/calendars/feeds/subscribe?{owner}").status_code == 404


@pytest.mark.parametrize("query, field", [
    ("worker=²", "worker"), ("from=0001-01", "from"), ("to=9999-12", "to"),
    ("from=1999-12-31", "from"),
])
def test_report_filters_name_what_cannot_be_read(client, coordinator, query, field):
    api = client.get(f"/api/v1/reports/home_visits?{query}", headers=bearer(coordinator))
    refused_field(api, field)
    login(client, coordinator)
    assert client.get(f"/reports/?{query}").status_code == 422


def test_a_suggested_time_with_odd_numbers_leaves_them_out(client, worker, coordinator):
    family = make_family(coordinator, workers=[worker], plan=True)
    login(client, worker)
    response = client.get(f"/calendars/visits/new?family={family.id}&duration=²"
                          f"&worker=²&count=²&date=0001-01-01")
    assert response.status_code == 200


# --- item 4: dates in bodies and forms -------------------------------------

@pytest.mark.parametrize("changes, field", [
    ({"referral_date": "0001-01-01"}, "referral_date"),
    ({"referral_date": "1999-12-31"}, "referral_date"),
    ({"referral_date": "9999-12-31"}, "referral_date"),
    ({"members": [{"role": "child", "first_name": "Eeli", "birth_date": "1850-01-01"}]},
     "members"),
    ({"members": [{"role": "child", "first_name": "Eeli", "birth_date": "9999-01-01"}]},
     "members"),
])
def test_a_family_with_an_implausible_date_is_refused(client, coordinator, changes, field):
    response = client.post("/api/v1/families", headers=bearer(coordinator),
                           json={**FAMILY, **changes})
    refused_field(response, field)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Family)) == 0


def test_a_future_referral_date_is_refused(client, coordinator):
    response = client.post("/api/v1/families", headers=bearer(coordinator),
                           json={**FAMILY, "referral_date": "2027-01-01"})
    assert "future" in refused_field(response, "referral_date")


def test_a_guardian_born_last_century_is_recorded(client, coordinator):
    response = client.post("/api/v1/families", headers=bearer(coordinator), json={
        **FAMILY, "members": [{"role": "guardian", "first_name": "Anna",
                               "birth_date": "1985-04-01"}]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["members"][0]["birth_date"] == "1985-04-01"


@pytest.mark.parametrize("body, field", [
    ({"start_date": "0001-01-01", "review_date": "2027-01-01"}, "start_date"),
    ({"start_date": "2026-12-01", "review_date": "9999-12-31"}, "review_date"),
])
def test_a_plan_with_an_implausible_date_is_refused(client, coordinator, body, field):
    family = make_family(coordinator)
    response = client.put(f"/api/v1/families/{family.id}/plan",
                          headers=bearer(coordinator),
                          json={"goals": ["parenthood"], **body})
    refused_field(response, field)


@pytest.mark.parametrize("changes, field", [
    ({"enrollment_opens": "0001-01-01"}, "enrollment_opens"),
    ({"enrollment_closes": "9999-12-31"}, "enrollment_closes"),
])
def test_a_group_window_with_an_implausible_date_is_refused(client, coordinator, changes,
                                                            field):
    group = make_group(coordinator)
    response = client.patch(f"/api/v1/groups/{group.id}", headers=bearer(coordinator),
                            json=changes)
    refused_field(response, field)


@pytest.mark.parametrize("series", [
    {"first_date": "0001-01-01", "count": 3},
    {"first_date": "2026-12-01", "until": "9999-12-31"},
    {"first_date": "2026-12-01", "count": 3, "removed_dates": ["0001-01-01"]},
    {"first_date": "2026-12-01", "count": 3, "added_dates": ["9999-12-31"]},
])
def test_a_series_with_an_implausible_date_is_refused(client, coordinator, series):
    response = client.post("/api/v1/groups/series-preview", headers=bearer(coordinator),
                           json={"weekday": 2, "start_time": "17:00",
                                 "duration_minutes": 90, "interval_weeks": 1, **series})
    assert response.status_code == 422
    [field] = response.get_json()["error"]["fields"]
    assert field in series


@pytest.mark.parametrize("fields, field", [
    ({"referral_date": "0001-01-01"}, "referral_date"),
    ({"referral_date": "9999-12-31"}, "referral_date"),
])
def test_the_family_form_refuses_an_implausible_referral_date(client, coordinator, fields,
                                                              field):
    login(client, coordinator)
    response = post_form(client, "/families/new", {**FAMILY, **fields})
    assert response.status_code == 422
    assert "Give a date in the years 2000–2100." in field_error(html_of(response), field)


def test_the_member_form_takes_a_guardians_birth_date_and_refuses_an_old_one(client,
                                                                            coordinator):
    family = make_family(coordinator)
    login(client, coordinator)
    url = f"/families/{family.id}/members/new"
    member = {"role": "guardian", "first_name": "Mikko", "reminder_channel": "none",
              "locale": "fi"}
    old = post_form(client, url, {**member, "birth_date": "1850-01-01"})
    assert old.status_code == 422
    assert "1900–2100" in field_error(html_of(old), "birth_date")
    assert post_form(client, url, {**member, "birth_date": "1985-04-01"}).status_code == 302


def test_the_audit_search_refuses_dates_outside_the_years(client, admin):
    login(client, admin)
    response = client.get("/admin/audit?start=0001-01-01&end=2999-01-01")
    assert response.status_code == 422
    html = html_of(response)
    assert "Give a date in the years 2000–2100." in field_error(html, "start")
    assert "Give a date in the years 2000–2100." in field_error(html, "end")


# --- item 4: local times that do not exist ----------------------------------

def test_a_time_in_the_spring_gap_does_not_exist_for_input():
    with pytest.raises(NonexistentLocalTime) as raised:
        strict_local_datetime(date(2027, 3, 28), time(3, 30), HELSINKI)
    assert raised.value.gap.total_seconds() == 3600
    with pytest.raises(NonexistentLocalTime):
        parse_instant("2027-03-28T03:30", HELSINKI)


def test_series_still_move_a_time_in_the_gap_forward():
    moved = local_datetime(date(2027, 3, 28), time(3, 30), HELSINKI)
    assert moved.astimezone(HELSINKI).time() == time(4, 30)


def test_an_ambiguous_autumn_time_takes_its_first_occurrence():
    first = strict_local_datetime(date(2027, 10, 31), time(3, 30), HELSINKI)
    assert first.astimezone(HELSINKI).utcoffset().total_seconds() == 3 * 3600
    assert parse_instant("2027-03-28T03:30+02:00", HELSINKI).hour == 1  # an offset is exact


def test_an_api_visit_in_the_spring_gap_names_the_start(client, coordinator, worker):
    family = make_family(coordinator, workers=[worker], plan=True)
    response = client.post("/api/v1/visits", headers=bearer(coordinator), json={
        "family_id": family.id, "worker_ids": [worker.id], "kind": "home_visit",
        "start": "2027-03-28T03:30", "end": "2027-03-28T04:30"})
    assert refused_field(response, "start") == GAP_MESSAGE


def test_an_api_absence_ending_in_the_spring_gap_names_the_end(client, worker):
    response = client.post(f"/api/v1/workers/{worker.id}/absences", headers=bearer(worker),
                           json={"kind": "leave", "start": "2027-03-27T08:00",
                                 "end": "2027-03-28T03:30"})
    assert refused_field(response, "end") == GAP_MESSAGE


@pytest.mark.parametrize("changes, field", [
    ({"start": "03:30", "end": "05:00"}, "start"),
    ({"start": "02:00", "end": "03:30"}, "end"),
])
def test_the_booking_form_says_the_time_does_not_exist(client, worker, coordinator, changes,
                                                       field):
    family = make_family(coordinator, workers=[worker], plan=True)
    login(client, worker)
    response = post_form(client, "/calendars/visits/new", {
        "family_id": str(family.id), "kind": "home_visit", "day": "2027-03-28",
        "duration_minutes": "", "worker_ids": [str(worker.id)], "place": "", "repeat": "",
        "count": "", "confirm": "y", **changes})
    assert response.status_code == 422
    html = html_of(response)
    assert GAP_MESSAGE in field_error(html, field)
    assert "after the start" not in html


def test_the_session_form_says_the_time_does_not_exist(client, coordinator):
    group = make_group(coordinator, count=2)
    login(client, coordinator)
    url = f"/groups/sessions/{group.sessions[0].id}"
    response = post_form(client, url, {"day": "2027-03-28", "start": "03:30",
                                       "end": "05:00", "move": "Save"})
    assert response.status_code == 422
    assert GAP_MESSAGE in field_error(html_of(response), "start")


def test_the_absence_form_says_the_time_does_not_exist(client, worker):
    login(client, worker)
    url = "/calendars/working-time/absences"
    response = post_form(client, f"{url}?worker={worker.id}", {
        "kind": "leave", "first_day": "2027-03-28", "start_time": "03:30",
        "last_day": "2027-03-29", "end_time": "12:00", "note": ""},
        page_url="/calendars/working-time")
    assert response.status_code == 422
    assert GAP_MESSAGE in field_error(html_of(response), "start_time")


# --- item 6: one-line text -------------------------------------------------

@pytest.mark.parametrize("character", ONE_LINE_BREAKERS)
def test_a_one_line_api_field_refuses_line_breaks_and_control_characters(
        client, coordinator, character):
    response = client.post("/api/v1/families", headers=bearer(coordinator),
                           json={**FAMILY, "surname": f"Virta{character}nen"})
    assert refused_field(response, "surname") == ONE_LINE_MESSAGE


@pytest.mark.parametrize("method, path, body, field", [
    ("post", "/api/v1/groups", {"name": "Vauva\nryhmä"}, "name"),
    ("post", "/api/v1/families", {"address": "Katu 1\x1b[2J"}, "address"),
    ("post", "/api/v1/families", {"members": [{"role": "guardian",
                                                "first_name": "An\nna"}]}, "members"),
    ("post", "/api/v1/families", {"members": [{"role": "guardian", "first_name": "Anna",
                                                "phone": "040\x7f1"}]}, "members"),
    ("post", "/api/v1/visits", {"place": "Koti\u2028Katu"}, "place"),
    ("post", "/api/v1/visits", {"status_reason": "Sairas\ttuminen"}, "status_reason"),
    ("post", "/api/v1/matching/proposals", {"municipalities": ["Mik\nkeli"]},
     "municipalities"),
])
def test_one_line_fields_across_the_api_refuse_control_characters(client, coordinator,
                                                                   method, path, body,
                                                                   field):
    response = getattr(client, method)(path, headers=bearer(coordinator), json=body)
    assert ONE_LINE_MESSAGE in refused_field(response, field)


@pytest.mark.parametrize("character", MULTI_LINE_BREAKERS)
def test_multi_line_text_keeps_line_breaks_but_refuses_other_control_characters(
        client, coordinator, character):
    group = make_group(coordinator)
    kept = client.patch(f"/api/v1/groups/{group.id}", headers=bearer(coordinator),
                        json={"description": "Ensimmäinen rivi\r\nToinen rivi\nKolmas"})
    assert kept.status_code == 200, kept.get_json()
    assert kept.get_json()["description"] == "Ensimmäinen rivi\r\nToinen rivi\nKolmas"
    refused = client.patch(f"/api/v1/groups/{group.id}", headers=bearer(coordinator),
                           json={"description": f"Rivi{character}rivi"})
    assert "control character" in refused_field(refused, "description")


def test_the_api_document_lists_400_and_413_for_every_body(client):
    document = client.get("/api/v1/openapi.json").get_json()
    bodies = [operation for operations in document["paths"].values()
              for operation in operations.values()
              if isinstance(operation, dict) and "requestBody" in operation]
    assert len(bodies) > 15
    assert all({"400", "413"} <= set(operation["responses"]) for operation in bodies)


def test_the_api_document_says_which_characters_text_refuses(client):
    document = client.get("/api/v1/openapi.json").get_json()
    family = document["components"]["schemas"]["Family"]["properties"]
    group = document["components"]["schemas"]["Group"]["properties"]
    assert re.fullmatch(family["surname"]["pattern"], "Virtanen")
    assert not re.fullmatch(family["surname"]["pattern"], "Virta\nnen")
    assert re.fullmatch(group["description"]["pattern"], "rivi\nrivi")
    assert not re.fullmatch(group["description"]["pattern"], "rivi\x1brivi")


@pytest.mark.parametrize("url, fields, field, role", [
    ("/families/new", {**FAMILY, "surname": "Virta\nnen"}, "surname", "coordinator"),
    ("/families/new", {**FAMILY, "address": "Katu\x0b1"}, "address", "coordinator"),
    ("/groups/new", {"name": "Vauva\x1bryhmä"}, "name", "coordinator"),
    ("/admin/venues/new", {"name": "Perhe\nkeskus", "municipality": "Mikkeli"}, "name",
     "admin"),
    ("/admin/municipalities/new", {"name": "Mik\x7fkeli", "latitude": "61",
                                   "longitude": "27"}, "name", "admin"),
    ("/admin/users/new", {"name": "Liisa\u2028Laine", "email": "liisa@example.test",
                          "role": "family_worker", "locale": "fi",
                          "password": "correct horse", "confirm": "correct horse"},
     "name", "admin"),
    ("/admin/blackouts", {"day": "2026-12-28", "reason": "Koulutus\r\npäivä"}, "reason",
     "admin"),
])
def test_one_line_fields_across_the_pages_refuse_control_characters(
        client, coordinator, admin, url, fields, field, role):
    login(client, admin if role == "admin" else coordinator)
    response = post_form(client, url, fields)
    assert response.status_code == 422
    assert ONE_LINE_MESSAGE in field_error(html_of(response), field)


def test_the_visit_notes_keep_line_breaks_on_the_page(client, coordinator, worker):
    family = make_family(coordinator, workers=[worker], plan=True)
    start = local_datetime(date(2026, 12, 2), time(10), HELSINKI)
    visit = calendar_services.book_visit(
        coordinator, family, kind="home_visit", start=start,
        end=local_datetime(date(2026, 12, 2), time(11), HELSINKI), worker_ids=[worker.id],
        confirm=True, zone=HELSINKI, settings=CALENDAR, clock=FixedClock(NOW))
    db.session.commit()
    login(client, worker)
    page = f"/calendars/visits/{visit.id}"
    refused = post_form(client, f"{page}/notes", {"notes": "Rivi\x1b[31m"}, page_url=page)
    assert refused.status_code == 422
    assert "control character" in field_error(html_of(refused), "notes")
    kept = post_form(client, f"{page}/notes", {"notes": "Rivi yksi\r\nRivi kaksi"},
                     page_url=page)
    assert kept.status_code == 302
    db.session.expire_all()
    assert "Rivi kaksi" in db.session.get(HomeVisit, visit.id).notes


def test_the_command_line_refuses_a_user_name_on_two_lines(runner):
    result = runner.invoke(args=["users", "create", "liisa@example.test", "--role",
                                 "family_worker", "--name", "Liisa\nLaine", "--password",
                                 "correct horse battery"])
    assert result.exit_code == 2
    assert "one line" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize("now, message", [
    ("0001-01-01T00:00", "in the years 2000-2100"),
    ("9999-12-31T23:59", "in the years 2000-2100"),
    ("2027-03-28T03:30", "03:30 does not exist on 2027-03-28"),
])
def test_the_command_lines_now_is_refused_outside_the_years_and_in_the_gap(runner, now,
                                                                           message):
    result = runner.invoke(args=["families", "anonymise", "--dry-run", "--now", now])
    assert result.exit_code == 2
    assert message in result.output


# --- every text field is declared: the forms and the API's schemas ----------

def _all_subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _all_subclasses(subclass)


PACKAGES = ("accounts.", "families.", "groups.", "calendars.", "matching.", "reminders.",
            "reports.", "core.")


def _form_classes(app):
    return sorted({form for form in _all_subclasses(Form)
                   if form.__module__.startswith(PACKAGES)},
                  key=lambda form: f"{form.__module__}.{form.__qualname__}")


def test_every_text_field_of_every_form_refuses_control_characters(app):
    forms = _form_classes(app)
    assert len(forms) > 20
    unchecked = []
    for form in forms:
        for name in dir(form):
            unbound = getattr(form, name)
            field_class = getattr(unbound, "field_class", None)
            if field_class is None or not issubclass(field_class, (StringField,
                                                                   TextAreaField)):
                continue
            if issubclass(field_class, PasswordField):
                continue  # hashed, never shown nor sent anywhere
            multiline = issubclass(field_class, TextAreaField)
            checks = [validator for validator in unbound.kwargs.get("validators", ())
                      if isinstance(validator, PlainText)]
            if [check.multiline for check in checks] != [multiline]:
                unchecked.append(f"{form.__module__}.{form.__qualname__}.{name}")
    assert unchecked == []


def test_every_date_field_of_every_form_takes_only_the_years_of_the_app(app):
    unbounded = []
    for form in _form_classes(app):
        for name in dir(form):
            unbound = getattr(form, name)
            field_class = getattr(unbound, "field_class", None)
            if field_class is None or not issubclass(field_class, DateField):
                continue
            if not any(isinstance(validator, PlausibleDate)
                       for validator in unbound.kwargs.get("validators", ())):
                unbounded.append(f"{form.__module__}.{form.__qualname__}.{name}")
    assert unbounded == []


# Multi-line text in the API: everything else is one line.
MULTI_LINE_API_FIELDS = {"Plan.content", "Group.description", "Visit.notes"}


def _api_modules():
    """The modules that declare the API's schemas (a family's are in its
    representation, which the right-of-access export dumps too)."""
    from accounts import api as accounts_api
    from calendars import api as calendars_api
    from families import api as families_api
    from families import representation as families_representation
    from groups import api as groups_api
    from matching import api as matching_api
    from reminders import api as reminders_api
    from reports import api as reports_api

    return (accounts_api, families_api, families_representation, groups_api,
            calendars_api, matching_api, reminders_api, reports_api)


def _text_of_the_api():
    """(schema.field, multi-line) of every text field each API module declares in
    its marshmallow schemas, named as the document names them."""
    found = {}
    for module in _api_modules():
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, MarshmallowSchema) \
                    and value.__module__ == module.__name__:
                name = value.__name__.removesuffix("Schema")
                for field_name, field in value._declared_fields.items():
                    if any(getattr(base, "_declared_fields", {}).get(field_name) is field
                           for base in value.__mro__[1:]):
                        continue  # declared by the schema it extends
                    item = getattr(field, "inner", field)
                    if isinstance(item, Text) and not field.dump_only:
                        found[f"{name}.{field_name}"] = item.multiline
    return found


def test_only_the_declared_api_fields_are_multi_line(app):
    text = _text_of_the_api()
    assert len(text) > 15
    multi_line = {name for name, multiline in text.items() if multiline}
    one_line = {name for name, multiline in text.items() if not multiline}
    assert multi_line == MULTI_LINE_API_FIELDS
    assert {"Family.surname", "Member.first_name", "Group.name", "Visit.place"} <= one_line


# --- properties: whatever hostile text a declared field gets ----------------

NAME_CHARACTERS = st.characters(categories=["L", "N"])


def hostile_text(multiline: bool, max_length: int, surrogates: bool = True):
    """Text every field refuses: a control character inside, a lone surrogate,
    one character too many, or a list where text belongs."""
    breakers = MULTI_LINE_BREAKERS if multiline else ONE_LINE_BREAKERS
    word = st.text(NAME_CHARACTERS, min_size=1, max_size=8)
    inside = st.tuples(word, st.sampled_from(breakers), word).map("".join)
    options = [inside, st.just("a" * (max_length + 1))]
    if surrogates:
        options.append(st.tuples(word, st.characters(categories=["Cs"]), word).map(
            "".join))
    return st.one_of(*options)


def _text_fields(document):
    """(operation path, method, field, multi-line, max length) of each text field in
    a declared request body."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch"):
                continue
            body = operation.get("requestBody")
            if body is None:
                continue
            name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            schema = document["components"]["schemas"][name]
            for field, declared in schema["properties"].items():
                text = declared.get("items", declared)
                types = text.get("type")
                if declared.get("readOnly") or "string" not in (types or ()) \
                        or "pattern" not in text or "maxLength" not in text:
                    continue
                # Multi-line text's pattern leaves line feed and carriage return out
                # of the refused characters (core.fields.Text).
                multiline = "\\x0e" in text["pattern"]
                yield path, method, field, multiline, text["maxLength"], "items" in declared


@pytest.fixture
def region(app):
    with reference_data_kept():
        yield make_region()


TEXT_FIELDS = list(_text_fields(collection_app().extensions["openapi"]))


def test_the_property_covers_the_text_of_the_api():
    assert {(path, field) for path, _method, field, *_rest in TEXT_FIELDS} >= {
        ("/families", "surname"), ("/families/{family_id}/members", "first_name"),
        ("/groups", "name"), ("/groups", "description"), ("/visits", "place"),
        ("/workers/{worker_id}/absences", "note"), ("/matching/proposals", "municipalities")}


@pytest.mark.parametrize("path, method, field, multiline, max_length, listed", TEXT_FIELDS,
                         ids=[f"{method} {path} {field}"
                              for path, method, field, *_rest in TEXT_FIELDS])
@given(data=st.data())
@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_text_field_of_every_api_body_refuses_hostile_text(
        client, region, path, method, field, multiline, max_length, listed, data):
    value = data.draw(hostile_text(multiline, max_length))
    ids = {name: values[0] for name, values in region.ids.items()}
    url = "/api/v1" + re.sub(r"\{(\w+)\}", lambda match: str(ids[match.group(1)]), path)
    body = {field: [value] if listed else value}
    response = getattr(client, method)(url, headers=bearer(region.coordinator), json=body)
    assert response.status_code == 422, (url, body, response.get_data(as_text=True))
    assert field in response.get_json()["error"]["fields"], (url, body)


# The text fields of the pages' forms: (page, field, multi-line, who, other fields).
FORM_TEXT_FIELDS = [
    ("/families/new", "surname", False, "coordinator"),
    ("/families/new", "address", False, "coordinator"),
    ("/families/{family_id}/members/new", "first_name", False, "coordinator"),
    ("/families/{family_id}/members/new", "phone", False, "coordinator"),
    ("/families/{family_id}/members/new", "email", False, "coordinator"),
    ("/families/{family_id}/plan", "agreed_with", False, "coordinator"),
    ("/families/{family_id}/plan", "content", True, "coordinator"),
    ("/groups/new", "name", False, "coordinator"),
    ("/groups/new", "description", True, "coordinator"),
    ("/calendars/visits/{visit_id}/notes", "notes", True, "coordinator"),
    ("/calendars/visits/{visit_id}/cancel", "cancel_reason", False, "coordinator"),
    ("/admin/venues/new", "name", False, "admin"),
    ("/admin/venues/new", "address", False, "admin"),
    ("/admin/municipalities/new", "name", False, "admin"),
    ("/admin/users/new", "name", False, "admin"),
    ("/admin/blackouts", "reason", False, "admin"),
]


@pytest.mark.parametrize("path, field, multiline, role", FORM_TEXT_FIELDS,
                         ids=[f"{path} {field}" for path, field, *_rest in FORM_TEXT_FIELDS])
@given(data=st.data())
@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_text_field_of_the_forms_refuses_hostile_text(client, region, path, field,
                                                            multiline, role, data):
    value = data.draw(hostile_text(multiline, 5000, surrogates=False))
    ids = {name: values[0] for name, values in region.ids.items()}
    url = re.sub(r"\{(\w+)\}", lambda match: str(ids[match.group(1)]), path)
    if client.get("/account").status_code != 200:  # signed in by an earlier example
        login(client, getattr(region, role))
    page = url.rsplit("/", 1)[0] if url.endswith(("/notes", "/cancel")) else url
    response = post_form(client, url, {field: value}, page_url=page)
    assert response.status_code in (413, 422), (url, value)
    if response.status_code == 422:
        assert field_error(html_of(response), field), (url, value)
