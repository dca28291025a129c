"""Data protection: the right-of-access export, closing a family, and removing
the identity of families closed longer than the retention period."""

import json
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from calendars.feeds import tokens as feed_tokens
from calendars.models import FeedToken, HomeVisit
from casework import jobs, privacy
from core.clock import FixedClock, set_clock
from core.models import AuditEvent
from extensions import db
from families.models import AvailabilityWindow, Family, Member
from groups import enrollment as group_enrollment
from groups.models import Enrollment
from reminders.dispatcher.jobs import SCHEDULED_JOBS
from reminders.models import OptOutToken, Reminder
from reports import services as report_services
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
from tests.dumps import database_dump
from tests.reminders.helpers import at, book, change, dispatch
from tests.reports.conftest import add_attendance, add_visit, local


def _held_family(coordinator, worker, tag: str, hour: int) -> Family:
    """A family with something of every kind held on it, its texts marked by ``tag``."""
    family = make_family(coordinator, workers=[worker], plan=True, surname=f"Suku{tag}",
                         members=[
                             {"role": "guardian", "first_name": f"Huoltaja{tag}",
                              "phone": f"+358 40 555 {tag}", "email": f"h{tag}@example.fi",
                              "reminder_channel": "sms"},
                             {"role": "child", "first_name": f"Lapsi{tag}",
                              "birth_date": date(2024, 5, 17)}])
    family.address = f"Katuosoite {tag} B"
    family.plan.content = f"Suunnitelma {tag}"
    family.plan.agreed_with = f"Sopija{tag}"
    family.availability.append(AvailabilityWindow(weekday=2, start_time=time(9),
                                                  end_time=time(12)))
    db.session.commit()
    past = add_visit(family, [worker], local(date(2026, 10, 6), "10:00"))
    past.notes, past.place = f"Muistiinpano {tag}", f"Kokouspaikka {tag}"
    db.session.commit()
    visit = book(coordinator, family, at(12, 2, hour))
    change(coordinator, visit, notes=f"Tuleva muistio {tag}")
    feed_tokens.create_feed(coordinator, owner_type="family", owner_id=family.id,
                            detailed_allowed=True, clock=FixedClock(NOW))
    db.session.commit()
    return family


@pytest.fixture
def worker(app):
    return make_user("family_worker")


@pytest.fixture
def held(coordinator, worker):
    """Two families with data of every kind, and a group seat with attendance."""
    first = _held_family(coordinator, worker, "1111", 10)
    second = _held_family(coordinator, worker, "2222", 13)
    group = make_group(coordinator)
    for family in (first, second):
        group_enrollment.enroll(coordinator, group, family, [m.id for m in family.members],
                                zone=HELSINKI, clock=FixedClock(NOW))
    db.session.commit()
    add_attendance(group.sessions[0], first, present=True)
    dispatch(at(12, 1, 10, 1))  # the reminders are sent; opt-out links made
    db.session.commit()
    return first, second


# --- the export ---------------------------------------------------------------

def test_the_export_holds_the_family_and_nothing_of_another(client, coordinator, held):
    first, second = held
    response = client.get(f"/api/v1/families/{first.id}/export", headers=bearer(coordinator),
                          environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{first.reference}-2026-11-30.json"')
    text = response.get_data(as_text=True)
    document = json.loads(text)
    assert document["family"]["surname"] == "Suku1111"
    assert {m["first_name"] for m in document["members"]} == {"Huoltaja1111", "Lapsi1111"}
    assert document["plan"]["content"] == "Suunnitelma 1111"
    assert document["availability"] == [{"weekday": 2, "start_time": "09:00",
                                         "end_time": "12:00"}]
    assert {v["notes"] for v in document["visits"]} == {"Muistiinpano 1111",
                                                        "Tuleva muistio 1111"}
    [seat] = document["group_places"]
    assert seat["status"] == "enrolled" and len(seat["attendance"]) == 1
    assert document["reminders"] and all(r["status"] for r in document["reminders"])
    assert len(document["feeds"]) == 1
    for value in ("2222", second.reference, "token_hash", "idempotency_key"):
        assert value not in text
    for secret in db.session.scalars(sa.select(FeedToken.token_hash)):
        assert secret not in text
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "family.export"))
    assert (event.actor_id, event.target_id, event.remote_addr) == (
        coordinator.id, first.id, "10.1.2.3")


def test_the_family_page_offers_the_export_as_a_download(client, coordinator, held):
    first, _ = held
    login(client, coordinator)
    page = client.get(f"/families/{first.id}").get_data(as_text=True)
    assert f"/families/{first.id}/export" in page
    response = client.get(f"/families/{first.id}/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert json.loads(response.data)["family"]["id"] == first.id


def test_a_family_worker_may_not_export(client, worker, held):
    first, _ = held
    response = client.get(f"/api/v1/families/{first.id}/export", headers=bearer(worker))
    assert response.status_code == 403


def test_an_unseen_family_is_not_found_for_export(client, held):
    elsewhere = make_user("coordinator", municipalities=("Puumala",))
    response = client.get(f"/api/v1/families/{held[0].id}/export", headers=bearer(elsewhere))
    assert response.status_code == 404


# --- closing --------------------------------------------------------------------

def test_closing_from_the_page_asks_then_ends_bookings(client, coordinator, held):
    first, second = held
    login(client, coordinator)
    ask = client.get(f"/families/{first.id}/close")
    assert ask.status_code == 200
    assert "1 upcoming visit is cancelled" in ask.get_data(as_text=True)
    response = client.post(f"/families/{first.id}/close",
                           data={"csrf_token": csrf_token_from(ask.get_data(as_text=True))})
    assert response.status_code == 302
    db.session.expire_all()
    family = db.session.get(Family, first.id)
    assert family.status == "closed" and family.closed_at == NOW
    future = db.session.scalars(sa.select(HomeVisit).where(
        HomeVisit.family_id == first.id, HomeVisit.start > NOW)).all()
    assert [visit.status for visit in future] == ["cancelled"]
    assert db.session.scalars(sa.select(Enrollment.status).where(
        Enrollment.family_id == first.id)).all() == ["withdrawn"]
    assert not db.session.scalars(sa.select(Reminder).where(
        Reminder.family_id == first.id, Reminder.status == "pending")).all()
    # The other family keeps everything.
    assert db.session.get(Family, second.id).status == "active"
    assert db.session.scalars(sa.select(Enrollment.status).where(
        Enrollment.family_id == second.id)).all() == ["enrolled"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "family.close"))
    assert event.detail == {"visits": 1, "group_places": 1, "reminders": 1}
    assert event.remote_addr == "127.0.0.1"


def test_closing_over_the_api_needs_confirmation(client, coordinator, held):
    first, _ = held
    url = f"/api/v1/families/{first.id}/close"
    asked = client.post(url, json={}, headers=bearer(coordinator))
    assert asked.status_code == 409
    assert asked.get_json()["error"]["code"] == "confirmation_required"
    assert db.session.get(Family, first.id).status == "active"
    done = client.post(url, json={"confirm": True}, headers=bearer(coordinator))
    assert done.status_code == 200
    assert done.get_json()["family"]["status"] == "closed"
    assert done.get_json()["ended"]["visits"] == 1
    again = client.post(url, json={"confirm": True}, headers=bearer(coordinator))
    assert again.status_code == 409


@pytest.mark.parametrize("body", [[], {"confirm": "yes"}, "x"])
def test_closing_refuses_a_bad_body(client, coordinator, held, body):
    response = client.post(f"/api/v1/families/{held[0].id}/close", json=body,
                           headers=bearer(coordinator))
    assert response.status_code in (400, 422)


def test_a_patch_does_not_close_a_family(client, coordinator, held):
    response = client.patch(f"/api/v1/families/{held[0].id}", json={"status": "closed"},
                            headers=bearer(coordinator))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "use_close"


def test_a_family_worker_may_not_close(client, worker, held):
    response = client.post(f"/api/v1/families/{held[0].id}/close", json={"confirm": True},
                           headers=bearer(worker))
    assert response.status_code == 403


# --- anonymisation -------------------------------------------------------------

def _figures(client, user) -> dict:
    return {name: client.get(f"/api/v1/reports/{name}?from=2026-01&to=2026-12",
                             headers=bearer(user)).get_json()
            for name in report_services.REPORT_NAMES}


def _identity(family: Family) -> list[str]:
    values = [family.surname, family.reference, family.address, family.plan.content,
              family.plan.agreed_with]
    for member in family.members:
        values += [member.first_name, member.phone, member.email]
    values += [visit.notes for visit in db.session.scalars(
        sa.select(HomeVisit).where(HomeVisit.family_id == family.id))]
    values += [visit.place for visit in db.session.scalars(
        sa.select(HomeVisit).where(HomeVisit.family_id == family.id))]
    return [value for value in values if value]


def test_anonymisation_removes_identity_and_keeps_the_figures(app, client, admin, coordinator,
                                                              runner, held):
    old, recent = held
    for family in held:
        client.post(f"/api/v1/families/{family.id}/close", json={"confirm": True},
                    headers=bearer(coordinator))
    db.session.expire_all()
    old, recent = db.session.get(Family, old.id), db.session.get(Family, recent.id)
    recent.closed_at = NOW + timedelta(days=365 * 2)
    db.session.commit()
    identity = _identity(old)
    assert len(identity) >= 10
    assert db.session.scalars(sa.select(OptOutToken).join(Member).where(
        Member.family_id == old.id)).all(), "the family was sent a message with a link"
    kept = _identity(recent)
    before = _figures(client, admin)
    dump = database_dump(app)
    assert all(value in dump for value in identity)

    result = runner.invoke(args=["families", "anonymise", "--now", "2033-01-15T03:00:00+02:00"])
    assert result.exit_code == 0, result.output
    assert f"Anonymised 1 families: {old.id}." in result.output

    set_clock(app, FixedClock(NOW))
    dump = database_dump(app)
    for value in identity:
        assert value not in dump, value
    for value in kept:
        assert value in dump, value
    db.session.expire_all()
    old = db.session.get(Family, old.id)
    assert old.reference == f"ANON-{old.id}" and old.anonymised_at is not None
    assert [m.birth_date for m in old.members if m.role == "child"] == [date(2024, 5, 1)]
    assert not db.session.scalars(sa.select(AvailabilityWindow).where(
        AvailabilityWindow.family_id == old.id)).all()
    assert not db.session.scalars(sa.select(OptOutToken).join(Member).where(
        Member.family_id == old.id)).all()
    assert not db.session.scalars(sa.select(FeedToken).where(
        FeedToken.owner_type == "family", FeedToken.owner_id == old.id)).all()
    assert db.session.get(Family, recent.id).surname == "Suku2222"
    assert _figures(client, admin) == before
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "family.anonymise"))
    assert (event.target_id, event.actor_id, event.detail) == (old.id, None, {})


def test_a_dry_run_changes_nothing(app, runner, coordinator, held):
    family = held[0]
    family.status, family.closed_at = "closed", NOW
    db.session.commit()
    result = runner.invoke(args=["families", "anonymise", "--dry-run",
                                 "--now", "2033-01-15T03:00:00+02:00"])
    assert result.output.strip() == f"Would anonymise 1 families: {family.id}."
    db.session.expire_all()
    assert db.session.get(Family, family.id).surname == "Suku1111"


def test_the_cli_refuses_a_bad_instant(runner):
    result = runner.invoke(args=["families", "anonymise", "--now", "tomorrow"])
    assert result.exit_code == 2
    assert "ISO 8601" in result.output


def test_the_retention_period_decides(app, coordinator, admin, held):
    family = held[0]
    family.status, family.closed_at = "closed", NOW
    db.session.commit()
    privacy.set_retention_period(admin, years=1, months=6, clock=FixedClock(NOW))
    db.session.commit()
    a_day_short = NOW + timedelta(days=365 + 181 - 1)
    assert privacy.anonymise_due(now=a_day_short, dry_run=True) == []
    assert privacy.anonymise_due(now=NOW + timedelta(days=365 + 183),
                                 dry_run=True) == [family.id]


def test_an_anonymised_family_cannot_be_edited(client, coordinator, held):
    family = held[0]
    family.status, family.closed_at = "closed", NOW
    privacy.anonymise_family(family, now=NOW)
    db.session.commit()
    response = client.patch(f"/api/v1/families/{family.id}", json={"status": "active"},
                            headers=bearer(coordinator))
    assert response.status_code == 403


# --- the retention page ----------------------------------------------------------

def test_an_admin_sets_the_retention_period(client, admin):
    login(client, admin)
    page = client.get("/admin/retention")
    assert page.status_code == 200
    assert "6 years and 0 months" in page.get_data(as_text=True)
    token = csrf_token_from(page.get_data(as_text=True))
    saved = client.post("/admin/retention", data={"csrf_token": token, "years": "2",
                                                  "months": "3"})
    assert saved.status_code == 302
    assert privacy.retention_period() == privacy.RetentionPeriod(2, 3)
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "retention.update"))
    assert event.detail == {"years": 2, "months": 3}


@pytest.mark.parametrize("years, months", [("0", "0"), ("-1", "2"), ("101", "0"),
                                           ("2", "12"), ("x", "1"), ("", "")])
def test_a_bad_retention_period_is_refused(client, admin, years, months):
    login(client, admin)
    token = csrf_token_from(client.get("/admin/retention").get_data(as_text=True))
    response = client.post("/admin/retention", data={"csrf_token": token, "years": years,
                                                     "months": months})
    assert response.status_code == 422
    assert privacy.retention_period() == privacy.RetentionPeriod(6, 0)


def test_only_admins_see_the_retention_page(client, coordinator):
    login(client, coordinator)
    assert client.get("/admin/retention").status_code == 403


# --- the scheduled job -----------------------------------------------------------

def test_the_scheduler_runs_the_anonymisation_daily(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    background = BackgroundScheduler()
    jobs.add_to(background, app)
    job = background.get_job(jobs.ANONYMISATION_JOB)
    assert job.trigger.interval == timedelta(days=1)


def test_the_app_hands_the_anonymisation_job_to_the_scheduler(app):
    """`scheduler run` adds the jobs the app lists; the reminders package does not
    reach up for the families' data protection."""
    from apscheduler.schedulers.background import BackgroundScheduler

    background = BackgroundScheduler()
    for add_to in app.extensions[SCHEDULED_JOBS]:
        add_to(background, app)
    assert jobs.ANONYMISATION_JOB in [job.id for job in background.get_jobs()]


def test_the_job_anonymises_in_its_own_app_context(app, coordinator, held):
    family = held[0]
    family.status, family.closed_at = "closed", NOW
    db.session.commit()
    set_clock(app, FixedClock(NOW + timedelta(days=365 * 7)))
    jobs.anonymisation_job(app)
    set_clock(app, FixedClock(NOW))
    db.session.expire_all()
    assert db.session.get(Family, family.id).reference == f"ANON-{family.id}"
    assert db.session.get(Family, held[1].id).surname == "Suku2222"


def test_an_anonymised_family_still_reads_as_the_api_describes_it(client, coordinator, held):
    family = held[0]
    family.status, family.closed_at = "closed", NOW
    privacy.anonymise_family(family, now=NOW)
    db.session.commit()
    response = client.get(f"/api/v1/families/{family.id}", headers=bearer(coordinator))
    assert response.status_code == 200
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    body = response.get_json()
    surname = schemas["Family"]["properties"]["surname"]
    assert surname["minLength"] <= len(body["surname"]) <= surname["maxLength"]
    first_name = schemas["Member"]["properties"]["first_name"]
    for member in body["members"]:
        assert first_name["minLength"] <= len(member["first_name"]), member
    assert len(body["reference"]) <= schemas["Family"]["properties"]["reference"]["maxLength"]
