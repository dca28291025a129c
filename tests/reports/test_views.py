"""The reports page, its exports and /api/v1/reports: who may read them, bad
input answered with messages (never a 500), file names, audit and markup."""

import io
import re
from datetime import date

import openpyxl
import pytest
from openapi_spec_validator import validate

from core.models import AuditEvent
from extensions import db
from tests.conftest import bearer, login, make_group, make_user
from tests.reports.conftest import JANUARY, referred_family

PERIOD = "from=2026-01&to=2026-06"


@pytest.fixture
def families(coordinator):
    return [referred_family(coordinator, date(2026, 2, 1)) for _ in range(6)]


# --- who may read -------------------------------------------------------------

@pytest.mark.parametrize("role", ["family_worker", "social_worker"])
def test_only_coordinators_and_admins_read_reports(client, role):
    user = make_user(role)
    login(client, user)

    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/families/by_track.csv").status_code == 403
    response = client.get("/api/v1/reports/families", headers=bearer(user))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_anonymous_callers_sign_in_first(client):
    assert client.get("/reports/").status_code == 302
    response = client.get("/api/v1/reports/families")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_coordinator_reports_on_their_own_municipalities_only(client, coordinator):
    response = client.get("/api/v1/reports/families?municipality=Kangasniemi",
                          headers=bearer(coordinator))

    assert response.status_code == 422
    assert "municipality" in response.get_json()["error"]["fields"]


def test_reports_are_in_the_navigation_of_coordinators_only(app, client, coordinator,
                                                            family_worker):
    login(client, coordinator)
    assert 'href="/reports/"' in client.get("/").get_data(as_text=True)
    other = app.test_client()
    login(other, family_worker)
    assert 'href="/reports/"' not in other.get("/").get_data(as_text=True)


# --- bad input --------------------------------------------------------------------

BAD_QUERIES = [
    ("from=2026-13", "from"),
    ("from=yesterday", "from"),
    ("from=2026-02-30", "from"),
    ("to=1999-12", "to"),
    ("from=2026-06&to=2026-01", "to"),
    ("from=2020-01&to=2026-01", "to"),
    ("from=" + "9" * 500, "from"),
    ("municipality=Atlantis", "municipality"),
    ("municipality=" + "M" * 500, "municipality"),
    ("track=fast_track", "track"),
    ("worker=abc", "worker"),
    ("worker=99999999999999999999", "worker"),
    ("worker=-1", "worker"),
]


@pytest.mark.parametrize(("query", "field"), BAD_QUERIES)
def test_bad_filters_are_json_errors_on_the_api(client, coordinator, query, field):
    response = client.get(f"/api/v1/reports/families?{query}", headers=bearer(coordinator))

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"]


@pytest.mark.parametrize(("query", "field"), BAD_QUERIES)
def test_bad_filters_are_messages_on_the_page(client, coordinator, query, field):
    login(client, coordinator)
    response = client.get(f"/reports/?{query}")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="field-error"' in page
    assert "table class=\"figures\"" not in page


def test_a_bad_filter_on_an_export_is_an_error_page(client, coordinator):
    login(client, coordinator)
    response = client.get("/reports/families/by_track.csv?from=2026-99")

    assert response.status_code == 422
    assert "text/html" in response.content_type


def test_a_user_who_is_not_a_family_worker_is_not_a_worker_filter(client, coordinator):
    response = client.get(f"/api/v1/reports/home_visits?worker={coordinator.id}",
                          headers=bearer(coordinator))

    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/api/v1/reports/nothing", "/api/v1/reports/%00",
                                  "/api/v1/reports/" + "x" * 300])
def test_an_unknown_report_is_a_json_404(client, coordinator, path):
    response = client.get(path, headers=bearer(coordinator))

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/reports/nothing/by_track.csv",
                                  "/reports/families/nothing.csv",
                                  "/reports/families/by_track.pdf"])
def test_an_unknown_export_is_a_404(client, coordinator, path):
    login(client, coordinator)

    assert client.get(path).status_code == 404


# --- the page ----------------------------------------------------------------------

def test_the_page_shows_every_report_with_the_default_period(client, coordinator, families):
    login(client, coordinator)
    response = client.get("/reports/")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # The last twelve months up to the clock's November 2026.
    assert 'value="2025-12"' in page and 'value="2026-11"' in page
    for name in ("families", "referrals", "waiting_times", "home_visits", "groups",
                 "reminders"):
        assert f'id="report-{name}"' in page
    assert page.count('<table class="figures"') == 10


def test_charts_are_inline_svg_with_a_name_and_no_script(client, coordinator, families):
    login(client, coordinator)
    page = client.get(f"/reports/?{PERIOD}").get_data(as_text=True)

    charts = re.findall(r"<svg[^>]*>", page)
    assert len(charts) == 4
    for chart in charts:
        assert 'role="img"' in chart
        chart_id = re.search(r' id="([^"]+)"', chart)[1]
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in chart
        assert f'<title id="{chart_id}-title">' in page
        assert f'<desc id="{chart_id}-desc">' in page
    # Nothing runs but the app's own static scripts, and nothing is fetched from elsewhere.
    assert re.findall(r'<script(?! src="/static/[a-z]+\.js" defer></script>)', page) == []
    assert "<style" not in page
    assert " style=" not in page
    assert re.findall(r'(?:src|href)="(?!/|#)[^"]*"', page) == []
    assert "January 2026 (&lt;5)" in page  # a hidden month says so on the axis


def test_the_interface_is_finnish_by_default(client, families):
    coordinator = make_user("coordinator", locale="fi")
    login(client, coordinator)
    page = client.get(f"/reports/?{PERIOD}").get_data(as_text=True)

    assert 'lang="fi"' in page
    # Months are named as Finnish names them, by Babel.
    assert "tammikuu 2026" in page


def test_reading_the_page_is_written_to_the_audit_log(client, coordinator, families):
    login(client, coordinator)
    client.get(f"/reports/?{PERIOD}&track=preventive")

    event = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "report.read")).one()
    assert event.actor_id == coordinator.id
    assert event.detail["filters"] == {"from": "2026-01-01", "to": "2026-06-30",
                                       "municipality": None, "track": "preventive",
                                       "worker_id": None}
    assert "families" in event.detail["reports"]


# --- exports ------------------------------------------------------------------------

def test_csv_export_is_named_after_the_report_and_filters(client, coordinator, families):
    login(client, coordinator)
    response = client.get(f"/reports/families/by_track.csv?{PERIOD}&municipality=Mikkeli"
                          "&track=preventive")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=families_by_track_2026-01_2026-06_Mikkeli_preventive.csv")
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data().decode("utf-8-sig")
    assert text.splitlines() == ["Track,Families", "Preventive family work,6", "Total,6"]


def test_excel_export_carries_the_table_filters_and_legend(client, coordinator, families):
    worker = make_user("family_worker", name="Hilkka Häkkinen", municipalities=("Mäntyharju",))
    login(client, coordinator)
    response = client.get(f"/reports/referrals/by_month.xlsx?{PERIOD}&worker={worker.id}")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=referrals_by_month_2026-01_2026-06_worker-{worker.id}.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    rows = [tuple(value for value in row if value is not None)
            for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ("New referrals per month",)
    assert "Hilkka Häkkinen" in rows[1][0]
    assert rows[3] == ("Month", "Families")
    assert rows[4] == ("January 2026", "<5")
    assert rows[-1][0].startswith("<5: fewer than five families.")


def test_a_municipality_with_letters_beyond_ascii_names_the_file(client, families):
    admin = make_user("admin", municipalities=())
    login(client, admin)
    response = client.get(f"/reports/families/by_status.csv?{PERIOD}&municipality=Mäntyharju")

    assert response.status_code == 200
    assert "filename*=UTF-8''families_by_status_2026-01_2026-06_M%C3%A4ntyharju.csv" in (
        response.headers["Content-Disposition"])


def test_text_that_looks_like_a_formula_stays_text(client, coordinator):
    make_group(coordinator, name='=HYPERLINK("http://example.com")', status="draft",
               first_date=date(2026, 3, 3), clock=JANUARY)
    login(client, coordinator)

    text = client.get(f"/reports/groups/groups.csv?{PERIOD}").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/reports/groups/groups.xlsx?{PERIOD}").get_data())).active
    cell = next(cell for row in sheet.iter_rows() for cell in row
                if isinstance(cell.value, str) and "HYPERLINK" in cell.value)
    assert cell.data_type == "s"


def test_exports_are_written_to_the_audit_log(client, coordinator, families):
    login(client, coordinator)
    client.get(f"/reports/families/by_track.xlsx?{PERIOD}")

    event = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "report.export")).one()
    assert event.detail["table"] == "by_track"
    assert event.detail["format"] == "xlsx"
    assert event.detail["reports"] == ["families"]


def test_api_reads_are_written_to_the_audit_log(client, coordinator, families):
    client.get(f"/api/v1/reports/groups?{PERIOD}", headers=bearer(coordinator))

    event = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "report.read")).one()
    assert event.detail["reports"] == ["groups"]


# --- the API document --------------------------------------------------------------

def test_the_reports_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()

    validate(document)
    operation = document["paths"]["/reports/{name}"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {
        "from", "to", "municipality", "track", "worker"}
    # 429: an address that sent too many wrong bearer tokens waits (core.throttle).
    assert set(operation["responses"]) == {"200", "401", "403", "404", "422", "429"}


def test_the_api_lists_its_reports(client, coordinator):
    response = client.get("/api/v1/reports", headers=bearer(coordinator))

    assert response.get_json() == ["families", "referrals", "waiting_times", "home_visits",
                                   "groups", "reminders"]


def test_the_dashboard_still_greets_everyone(client, family_worker):
    login(client, family_worker)

    assert client.get("/").status_code == 200
