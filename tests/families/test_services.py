"""The seed's rules for families, enforced by the services."""

from datetime import date
from pathlib import Path

import pytest

from calendars.sight import Sight
from core.errors import Forbidden, NotFound, RuleViolation, ValidationFailed
from core.models import AuditEvent
from extensions import db
from families import services
from families.models import TrackChange
from tests.conftest import bearer, make_family, make_user


def register(actor, clock, **overrides):
    arguments = dict(surname="Korhonen", municipality="Mikkeli", track="preventive",
                     referral_source="child_health_clinic", referral_date=date(2026, 11, 1),
                     clock=clock)
    arguments.update(overrides)
    return services.create_family(actor, **arguments)


# Rule 1: every family is on one track; a change is recorded with its date.

def test_track_change_is_recorded_with_its_date(coordinator, social_worker, clock):
    family = make_family(coordinator)
    services.update_family(coordinator, family, {
        "track": "child_protection", "referral_source": "social_worker",
        "responsible_social_worker_id": social_worker.id}, clock=clock)
    db.session.commit()

    change = db.session.scalars(db.select(TrackChange)).one()
    assert (change.from_track, change.to_track) == ("preventive", "child_protection")
    assert change.changed_on == date(2026, 11, 30)
    assert family.track == "child_protection"


def test_unknown_track_is_refused(coordinator, clock):
    with pytest.raises(ValidationFailed) as error:
        register(coordinator, clock, track="foster_care")
    assert "track" in error.value.fields


# Rule 2: child protection comes only through a social worker, who is recorded.

def test_child_protection_family_needs_social_worker_referral(coordinator, social_worker,
                                                              clock):
    with pytest.raises(RuleViolation) as error:
        register(coordinator, clock, track="child_protection",
                 referral_source="child_health_clinic",
                 responsible_social_worker_id=social_worker.id)
    assert error.value.code == "child_protection_requires_social_worker"
    assert "social worker" in error.value.message
    assert "referral_source" in error.value.fields


def test_child_protection_family_needs_a_responsible_social_worker(coordinator, clock):
    with pytest.raises(RuleViolation) as error:
        register(coordinator, clock, track="child_protection", referral_source="social_worker")
    assert error.value.code == "responsible_social_worker_required"
    assert "responsible social worker" in error.value.message


def test_responsible_social_worker_must_be_a_social_worker(coordinator, family_worker,
                                                           clock):
    with pytest.raises(ValidationFailed) as error:
        register(coordinator, clock, track="child_protection", referral_source="social_worker",
                 responsible_social_worker_id=family_worker.id)
    assert "responsible_social_worker_id" in error.value.fields


def test_child_protection_family_through_a_social_worker_is_registered(
        coordinator, social_worker, clock):
    family = register(coordinator, clock, track="child_protection",
                      referral_source="social_worker",
                      responsible_social_worker_id=social_worker.id)
    assert family.responsible_social_worker == social_worker
    assert family.status == "referred"


def test_social_worker_referral_names_themselves_responsible(social_worker, clock):
    family = register(social_worker, clock, track="child_protection",
                      referral_source="social_worker")
    assert family.responsible_social_worker == social_worker
    assert family.referred_by == social_worker


def test_track_change_to_child_protection_needs_a_social_worker(coordinator, clock):
    family = make_family(coordinator)
    with pytest.raises(RuleViolation):
        services.update_family(coordinator, family, {"track": "child_protection"},
                               clock=clock)


# Rule 3: preventive referral sources, voluntary included.

@pytest.mark.parametrize("source", ["health_care", "child_health_clinic",
                                    "early_childhood_education", "other_authority", "self"])
def test_preventive_family_comes_from_the_listed_sources(coordinator, clock, source):
    assert register(coordinator, clock, referral_source=source).referral_source == source


def test_preventive_family_does_not_come_from_a_social_worker(coordinator, clock):
    with pytest.raises(RuleViolation) as error:
        register(coordinator, clock, referral_source="social_worker")
    assert error.value.code == "referral_source_not_allowed"
    assert "Preventive family work comes from" in error.value.message


def test_unknown_referral_source_is_refused(coordinator, clock):
    with pytest.raises(ValidationFailed) as error:
        register(coordinator, clock, referral_source="neighbour")
    assert "referral_source" in error.value.fields


def test_referral_date_cannot_be_in_the_future(coordinator, clock):
    with pytest.raises(ValidationFailed) as error:
        register(coordinator, clock, referral_date=date(2026, 12, 24))
    assert "referral_date" in error.value.fields


# Rule 4: work starts with a plan.

def test_planning_meeting_can_be_booked_without_a_plan(coordinator):
    services.ensure_bookable(make_family(coordinator), "planning_meeting")


@pytest.mark.parametrize("kind", ["home_visit", "review_meeting", "group_place"])
def test_regular_work_needs_a_plan(coordinator, kind):
    with pytest.raises(RuleViolation) as error:
        services.ensure_bookable(make_family(coordinator), kind)
    assert error.value.code == "plan_required"
    assert "plan" in error.value.message


@pytest.mark.parametrize("kind", ["home_visit", "review_meeting", "group_place"])
def test_regular_work_is_bookable_with_a_plan(coordinator, kind):
    services.ensure_bookable(make_family(coordinator, plan=True), kind)


def test_closed_family_gets_no_bookings(coordinator, clock):
    family = make_family(coordinator, plan=True)
    services.update_family(coordinator, family, {"status": "closed"}, clock=clock)
    with pytest.raises(RuleViolation) as error:
        services.ensure_bookable(family, "planning_meeting")
    assert error.value.code == "family_closed"


def test_family_cannot_be_made_active_without_a_plan(coordinator, clock):
    family = make_family(coordinator)
    with pytest.raises(RuleViolation) as error:
        services.update_family(coordinator, family, {"status": "active"}, clock=clock)
    assert error.value.code == "plan_required"


def test_plan_makes_the_family_active(coordinator):
    family = make_family(coordinator, plan=True)
    assert family.status == "active"
    assert family.plan.goals == ["parenthood", "everyday_routines"]


def test_child_protection_plan_records_the_social_workers_participation(
        coordinator, social_worker, clock):
    family = make_family(coordinator, track="child_protection", social_worker=social_worker)
    with pytest.raises(RuleViolation) as error:
        services.set_plan(coordinator, family, goals=["positive_upbringing"], content="",
                          agreed_with="Äiti", start_date=date(2026, 11, 30),
                          review_date=date(2027, 2, 28), social_worker_participated=False,
                          clock=clock)
    assert error.value.code == "social_worker_participation_required"
    plan = services.set_plan(coordinator, family, goals=["positive_upbringing"], content="",
                             agreed_with="Äiti", start_date=date(2026, 11, 30),
                             review_date=date(2027, 2, 28), social_worker_participated=True,
                             clock=clock)
    assert plan.social_worker_participated


# Rule 5: one vocabulary of support areas.

@pytest.mark.parametrize("goals", [[], ["nonsense"], ["parenthood", "nonsense"]])
def test_plan_goals_come_from_the_support_areas(coordinator, clock, goals):
    family = make_family(coordinator)
    with pytest.raises(ValidationFailed) as error:
        services.set_plan(coordinator, family, goals=goals, content="", agreed_with="",
                          start_date=date(2026, 11, 30), review_date=date(2027, 1, 1),
                          clock=clock)
    assert "goals" in error.value.fields


def test_plan_review_cannot_precede_its_start(coordinator, clock):
    family = make_family(coordinator)
    with pytest.raises(ValidationFailed) as error:
        services.set_plan(coordinator, family, goals=["parenthood"], content="",
                          agreed_with="", start_date=date(2026, 11, 30),
                          review_date=date(2026, 11, 1), clock=clock)
    assert "review_date" in error.value.fields


# Rule 7: members, children with birth dates.

def test_child_needs_a_birth_date(coordinator, clock):
    family = make_family(coordinator)
    with pytest.raises(ValidationFailed) as error:
        services.add_member(coordinator, family, {"role": "child", "first_name": "Aino"},
                            clock=clock)
    assert "birth_date" in error.value.fields


def test_sms_reminders_need_a_phone_number(coordinator, clock):
    family = make_family(coordinator)
    with pytest.raises(ValidationFailed) as error:
        services.add_member(coordinator, family, {"role": "guardian", "first_name": "Pekka",
                                                  "reminder_channel": "sms"}, clock=clock)
    assert "reminder_channel" in error.value.fields


def test_children_get_no_reminders(coordinator, clock):
    family = make_family(coordinator)
    with pytest.raises(ValidationFailed):
        services.add_member(coordinator, family, {
            "role": "child", "first_name": "Aino", "birth_date": date(2020, 1, 1),
            "reminder_channel": "email"}, clock=clock)


def test_age_in_months_counts_whole_months(coordinator):
    child = make_family(coordinator).children[0]  # born 10 May 2024
    assert child.age_in_months(date(2026, 5, 9)) == 23
    assert child.age_in_months(date(2026, 5, 10)) == 24


# Who may do what, and the audit trail.

def test_coordinator_registers_only_in_own_municipalities(coordinator, clock):
    with pytest.raises(Forbidden):
        register(coordinator, clock, municipality="Puumala")


def test_family_worker_cannot_register_families(family_worker, clock):
    with pytest.raises(Forbidden):
        register(family_worker, clock)


def test_social_worker_refers_only_to_child_protection(social_worker, clock):
    with pytest.raises(RuleViolation):
        register(social_worker, clock, track="preventive", referral_source="self")


def test_unknown_municipality_is_a_field_error(coordinator, clock):
    with pytest.raises(ValidationFailed) as error:
        register(coordinator, clock, municipality="Atlantis")
    assert "municipality" in error.value.fields


def test_references_are_pseudonymous_and_sequential(coordinator):
    first, second = make_family(coordinator), make_family(coordinator)
    assert (first.reference, second.reference) == ("PT-2026-0001", "PT-2026-0002")


def test_reads_and_changes_are_audited(app, coordinator, clock):
    family = make_family(coordinator)
    # The event names the request's address, with no argument to carry it.
    with app.test_request_context(environ_base={"REMOTE_ADDR": "192.0.2.1"}):
        services.get_family(coordinator, family.id, clock=clock)
    db.session.commit()

    events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [event.action for event in events] == ["family.create", "family.read"]
    assert events[1].actor_id == coordinator.id
    assert events[1].remote_addr == "192.0.2.1"
    assert events[1].target_id == family.id


def test_a_family_out_of_sight_is_not_found(coordinator, clock):
    other = make_user("coordinator", municipalities=("Puumala",))
    family = make_family(other, municipality="Puumala")
    with pytest.raises(NotFound):
        services.get_family(coordinator, family.id, clock=clock)


def test_a_listing_is_audited_with_the_families_shown(client, coordinator):
    family = make_family(coordinator)
    client.get("/api/v1/families", headers=bearer(coordinator))
    event = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "family.list")).one()
    assert event.detail == {"family_ids": [family.id]}
    assert event.actor_id == coordinator.id


def test_a_listing_names_each_family_once_in_order_of_id(coordinator, clock):
    first, second = make_family(coordinator), make_family(coordinator)
    services.record_listing(coordinator, [second, first, second], clock=clock)
    event = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "family.list")).one()
    assert event.detail == {"family_ids": sorted([first.id, second.id])}


def test_a_listing_of_no_family_writes_nothing(coordinator, clock):
    services.record_listing(coordinator, [], clock=clock)
    assert db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "family.list")).all() == []


def test_record_listing_is_the_only_writer_of_a_listing_audit():
    """Every answer that names families audits them one way: no module but
    families.services writes a "family.list" event, and calendars' Sight hands
    its families to record_listing instead of writing its own."""
    root = Path(__file__).resolve().parents[2]
    writers = sorted(
        str(path.relative_to(root)) for path in root.rglob("*.py")
        if not any(part.startswith(".") or part in ("tests", "migrations", "benchmarks")
                   for part in path.relative_to(root).parts)
        and '"family.list"' in path.read_text(encoding="utf-8"))
    assert writers == ["families/services.py"]
    assert not hasattr(Sight, "record_read")
