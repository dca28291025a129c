"""The audit log: reads, changes and exports written with who, when and from where;
searched by admins; never changed or removed through the app."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from core import audit
from core.audit import AuditLogImmutable
from core.models import AuditEvent
from extensions import db
from tests.conftest import NOW, bearer, login, make_family, make_user
from tests.reminders.helpers import at, book

ADDRESS = {"REMOTE_ADDR": "192.0.2.44"}


def _events(action) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


@pytest.fixture
def family(coordinator, family_worker):
    return make_family(coordinator, workers=[family_worker], plan=True)


# --- what is written -----------------------------------------------------------

def test_the_family_page_and_api_reads_are_written_with_their_origin(client, coordinator,
                                                                     family):
    login(client, coordinator)
    assert client.get(f"/families/{family.id}", environ_base=ADDRESS).status_code == 200
    assert client.get(f"/api/v1/families/{family.id}", headers=bearer(coordinator),
                      environ_base=ADDRESS).status_code == 200
    reads = _events("family.read")
    assert [(e.actor_email, e.target_type, e.target_id, e.remote_addr, e.at) for e in reads] \
        == [(coordinator.email, "family", family.id, "192.0.2.44", NOW)] * 2


def test_reading_and_changing_the_plan_are_written(client, coordinator, family):
    login(client, coordinator)
    assert client.get(f"/families/{family.id}/plan", environ_base=ADDRESS).status_code == 200
    response = client.put(f"/api/v1/families/{family.id}/plan", headers=bearer(coordinator),
                          environ_base=ADDRESS, json={
                              "goals": ["parenthood"], "start_date": "2026-11-20",
                              "review_date": "2027-02-20"})
    assert response.status_code == 200
    [read] = _events("plan.read")
    [_, change] = _events("plan.update")  # the first when the family was made
    assert (read.target_id, read.remote_addr) == (family.id, "192.0.2.44")
    assert (change.target_id, change.remote_addr) == (family.id, "192.0.2.44")


def test_a_family_change_is_written_with_field_names_only(client, coordinator, family):
    response = client.patch(f"/api/v1/families/{family.id}", headers=bearer(coordinator),
                            environ_base=ADDRESS, json={"address": "Salainen tie 9"})
    assert response.status_code == 200
    [event] = _events("family.update")
    assert event.detail == {"fields": ["address"]}
    assert event.remote_addr == "192.0.2.44"
    assert "Salainen" not in str(event.detail)


def test_visit_reads_and_changes_are_written_with_their_origin(client, coordinator, family):
    visit = book(coordinator, family, at(12, 2, 10))
    login(client, coordinator)
    assert client.get(f"/calendars/visits/{visit.id}", environ_base=ADDRESS).status_code == 200
    assert client.get(f"/api/v1/visits/{visit.id}", headers=bearer(coordinator),
                      environ_base=ADDRESS).status_code == 200
    response = client.patch(f"/api/v1/visits/{visit.id}", headers=bearer(coordinator),
                            environ_base=ADDRESS, json={"notes": "Muistio"})
    assert response.status_code == 200
    reads = _events("visit.read")
    assert len(reads) == 3  # the page, the API read, the read before the change
    assert {(e.target_type, e.target_id, e.detail["visit_id"], e.remote_addr)
            for e in reads} == {("family", family.id, visit.id, "192.0.2.44")}
    [update] = _events("visit.update")
    assert (update.detail["fields"], update.remote_addr) == (["notes"], "192.0.2.44")


def test_report_exports_are_written_with_their_origin(client, coordinator, family):
    login(client, coordinator)
    response = client.get("/reports/families/by_track.csv", environ_base=ADDRESS)
    assert response.status_code == 200
    [event] = _events("report.export")
    assert (event.actor_id, event.remote_addr) == (coordinator.id, "192.0.2.44")


def test_a_forwarded_address_is_not_believed_without_a_trusted_proxy(client, coordinator,
                                                                   family):
    """TRUSTED_PROXIES is 0 by default: a client cannot write another address."""
    response = client.get(f"/api/v1/families/{family.id}", headers={
        **bearer(coordinator), "X-Forwarded-For": "203.0.113.9"}, environ_base=ADDRESS)
    assert response.status_code == 200
    [event] = _events("family.read")
    assert event.remote_addr == "192.0.2.44"


def test_outside_a_request_there_is_no_origin(app, family):
    with app.app_context():
        event = audit.record(None, "family.anonymise", "family", family.id, at=NOW)
    assert event.remote_addr is None


# --- the log cannot be edited ----------------------------------------------------

@pytest.fixture
def event(family):
    return db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "family.create"))


def test_an_event_cannot_be_changed(event):
    event.actor_email = "someone.else@example.fi"
    with pytest.raises(AuditLogImmutable):
        db.session.flush()
    db.session.rollback()


def test_an_event_cannot_be_deleted(event):
    db.session.delete(event)
    with pytest.raises(AuditLogImmutable):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", [
    sa.update(AuditEvent).values(actor_email="x@example.fi"),
    sa.delete(AuditEvent),
])
def test_no_bulk_statement_changes_the_log(event, statement):
    with pytest.raises(AuditLogImmutable):
        db.session.execute(statement)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) > 0


def test_new_events_are_still_written(event):
    audit.record(None, "test.write", "family", 1, at=NOW)
    db.session.commit()
    assert _events("test.write")


def test_no_route_changes_the_log(app):
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule


# --- the admin's search -----------------------------------------------------------

@pytest.fixture
def trail(coordinator, family):
    """Events of two people on two days, beside those of registering the family."""
    other = make_user("coordinator", email="toinen@example.fi")
    db.session.commit()
    first_day = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    for number in range(60):
        audit.record(coordinator, "family.read", "family", family.id,
                     at=first_day + timedelta(minutes=number), origin="10.0.0.1")
    audit.record(other, "visit.read", "family", family.id + 1000,
                 at=datetime(2026, 11, 20, 21, 30, tzinfo=UTC), origin="10.0.0.2")
    db.session.commit()
    return other


def _search(client, query):
    return client.get(f"/admin/audit?{query}")


def _count(client, query) -> int:
    """How many events a search finds, as the page says."""
    response = _search(client, query)
    assert response.status_code == 200
    found = re.search(r"(\d+) events?\b", response.get_data(as_text=True))
    return int(found.group(1)) if found else 0


def test_the_audit_page_is_for_admins(client, coordinator):
    login(client, coordinator)
    assert client.get("/admin/audit").status_code == 403


def test_the_admin_page_links_to_the_log(client, admin):
    login(client, admin)
    assert "/admin/audit" in client.get("/admin/").get_data(as_text=True)


def test_the_search_is_newest_first_and_paged(client, admin, trail):
    login(client, admin)
    page = _search(client, "").get_data(as_text=True)
    assert page.index("toinen@example.fi") < page.index("10.0.0.1")
    assert "Page 1 of 2" in page
    second = _search(client, "page=2")
    assert second.status_code == 200


def test_filters_by_person_action_and_target(client, admin, coordinator, family, trail):
    login(client, admin)
    by_person = _search(client, "actor=TOINEN@example.fi").get_data(as_text=True)
    assert "10.0.0.2" in by_person and "10.0.0.1" not in by_person
    assert _count(client, "action=visit.read") == 1
    assert _count(client, f"target_type=family&target_id={family.id + 1000}") == 1
    # The one event about an account: the admin's own two-factor set-up.
    assert _count(client, "target_type=user") == 1
    assert _count(client, "target_type=user&action=account.lock") == 0


def test_filters_by_family_reference(client, admin, family, trail):
    login(client, admin)
    page = _search(client, f"reference={family.reference.lower()}").get_data(as_text=True)
    assert "10.0.0.1" in page and "10.0.0.2" not in page


def test_filters_by_local_dates(client, admin, trail):
    login(client, admin)
    # 21:30 UTC on the 20th is 23:30 on the 20th in Helsinki.
    assert _count(client, "start=2026-11-20&end=2026-11-20") == 1
    assert _count(client, "start=2026-11-11&end=2026-11-29") == 1
    assert _count(client, "start=2026-11-21&actor=toinen@example.fi") == 0
    assert _count(client, "end=2026-11-10") == 60


@pytest.mark.parametrize("query", [
    "start=2026-13-01", "start=yesterday", "end=0001-01-01", "start=9999-12-31",
    "start=2026-11-20&end=2026-11-10", "target_id=abc", "target_id=0",
    "target_id=99999999999", "reference=PT-1999-9999", "page=0", "page=x",
    "page=99999999999999", "actor=" + "a" * 300, "action=" + "x" * 61,
])
def test_bad_filters_are_a_clear_422(client, admin, trail, query):
    login(client, admin)
    response = _search(client, query)
    assert response.status_code == 422
    assert "Correct the search" in response.get_data(as_text=True)


def test_the_export_of_a_family_is_searchable(client, admin, coordinator, family):
    client.get(f"/api/v1/families/{family.id}/export", headers=bearer(coordinator))
    login(client, admin)
    page = _search(client, "action=family.export").get_data(as_text=True)
    assert coordinator.email in page


def test_dates_bound_whole_local_days():
    from zoneinfo import ZoneInfo

    start, end = audit.day_bounds(date(2026, 3, 29), date(2026, 3, 29),
                                  ZoneInfo("Europe/Helsinki"))
    assert end - start == timedelta(hours=23)  # the spring change of time
