"""The families pages: forms, refusals shown on the form, who sees what, the audit."""

from datetime import date

import pytest
import sqlalchemy as sa

from core.models import AuditEvent
from extensions import db
from families.models import Family, Member
from tests.conftest import csrf_token_from, login, make_family, make_user


def post_form(client, url, data):
    """Post a page's form as a browser would: with the CSRF token of the session."""
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def family_fields(**overrides):
    """The registration form filled in for a preventive family."""
    fields = {
        "surname": "Korhonen",
        "municipality": "Mikkeli",
        "address": "Porrassalmenkatu 5",
        "track": "preventive",
        "referral_source": "child_health_clinic",
        "referral_date": "2026-11-20",
        "responsible_social_worker_id": "",
        "languages": "fi",
    }
    fields.update(overrides)
    return fields


def plan_fields(**overrides):
    fields = {
        "goals": ["parenthood", "everyday_routines"],
        "content": "Arjen rytmi ja yhteinen aika",
        "agreed_with": "Anna ja sosiaalityöntekijä",
        "start_date": "2026-11-30",
        "review_date": "2027-02-28",
    }
    fields.update(overrides)
    return fields


def family_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Family.id)))


def html_of(response) -> str:
    return response.get_data(as_text=True)


# --- CSRF and registration -------------------------------------------------

def test_form_without_csrf_token_is_refused(client, coordinator):
    login(client, coordinator)
    response = client.post("/families/new", data=family_fields())
    assert response.status_code == 400
    assert family_count() == 0


def test_registering_a_family_redirects_to_its_page(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/families/new", family_fields())
    assert response.status_code == 302
    family = db.session.scalar(sa.select(Family).where(Family.surname == "Korhonen"))
    assert family is not None
    assert response.headers["Location"] == f"/families/{family.id}"
    assert family.municipality.name == "Mikkeli"
    assert family.status == "referred"
    assert family.referred_by_id == coordinator.id
    page = client.get(response.headers["Location"])
    assert family.reference in html_of(page)


def test_social_worker_refers_a_child_protection_family(client, social_worker):
    login(client, social_worker)
    response = post_form(client, "/families/new", family_fields(
        track="child_protection", referral_source="social_worker",
        responsible_social_worker_id=str(social_worker.id)))
    assert response.status_code == 302
    family = db.session.scalar(sa.select(Family))
    assert family.responsible_social_worker_id == social_worker.id


def test_family_worker_may_not_register_families(client, family_worker):
    login(client, family_worker)
    assert client.get("/families/new").status_code == 403


# --- bad input: field errors, 422, nothing created -------------------------

@pytest.mark.parametrize("malformed", ["2026-13-45", "tomorrow", "30.11.2026"])
def test_malformed_referral_date_is_a_field_error(client, coordinator, malformed):
    login(client, coordinator)
    response = post_form(client, "/families/new", family_fields(referral_date=malformed))
    assert response.status_code == 422
    html = html_of(response)
    assert 'id="referral_date-error"' in html
    assert 'aria-describedby="referral_date-hint referral_date-error" aria-invalid="true"' in html
    assert family_count() == 0


def test_unknown_track_is_a_field_error(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/families/new", family_fields(track="foo"))
    assert response.status_code == 422
    assert 'id="track-error"' in html_of(response)
    assert family_count() == 0


def test_unknown_social_worker_id_is_a_field_error(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/families/new",
                         family_fields(responsible_social_worker_id="abc"))
    assert response.status_code == 422
    assert 'id="responsible_social_worker_id-error"' in html_of(response)
    assert family_count() == 0


def test_too_long_surname_is_a_field_error(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/families/new", family_fields(surname="K" * 500))
    assert response.status_code == 422
    html = html_of(response)
    assert 'id="surname-error"' in html
    assert 'aria-invalid="true"' in html
    assert family_count() == 0


def test_missing_required_fields_are_field_errors(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/families/new", family_fields(
        surname="", municipality="", referral_date="", track=""))
    assert response.status_code == 422
    html = html_of(response)
    for name in ("surname", "municipality", "referral_date", "track"):
        assert f'id="{name}-error"' in html
    assert 'role="alert"' in html
    assert family_count() == 0


def test_field_error_is_tied_to_its_input(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/families/new", family_fields(surname=""))
    html = html_of(response)
    assert 'aria-describedby="surname-error" aria-invalid="true"' in html


def test_unknown_goal_is_a_field_error(client, coordinator):
    family = make_family(coordinator)
    login(client, coordinator)
    response = post_form(client, f"/families/{family.id}/plan",
                         plan_fields(goals=["parenthood", "nonsense"]))
    assert response.status_code == 422
    assert 'id="goals-error"' in html_of(response)
    db.session.expire_all()
    assert db.session.get(Family, family.id).plan is None


@pytest.mark.parametrize("malformed", ["2026-13-45", "tomorrow"])
def test_malformed_plan_date_is_a_field_error(client, coordinator, malformed):
    family = make_family(coordinator)
    login(client, coordinator)
    response = post_form(client, f"/families/{family.id}/plan",
                         plan_fields(review_date=malformed))
    assert response.status_code == 422
    assert 'id="review_date-error"' in html_of(response)
    db.session.expire_all()
    assert db.session.get(Family, family.id).plan is None


def test_malformed_birth_date_is_a_field_error(client, coordinator):
    family = make_family(coordinator, members=[])
    login(client, coordinator)
    response = post_form(client, f"/families/{family.id}/members/new",
                         {"role": "child", "first_name": "Eeli", "birth_date": "2024-02-31",
                          "reminder_channel": "none", "locale": "fi"})
    assert response.status_code == 422
    assert 'id="birth_date-error"' in html_of(response)
    db.session.expire_all()
    assert db.session.get(Family, family.id).members == []


# --- the rules of the work, refused with their message ---------------------

def test_child_protection_family_must_come_from_a_social_worker(client, coordinator,
                                                                  social_worker):
    login(client, coordinator)
    response = post_form(client, "/families/new", family_fields(
        track="child_protection", referral_source="health_care",
        responsible_social_worker_id=str(social_worker.id)))
    assert response.status_code == 422
    html = html_of(response)
    assert 'id="referral_source-error"' in html
    assert "comes to child-protection family work only through a social worker" in html
    assert family_count() == 0


def test_child_protection_family_needs_a_responsible_social_worker(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/families/new", family_fields(
        track="child_protection", referral_source="social_worker"))
    assert response.status_code == 422
    html = html_of(response)
    assert 'id="responsible_social_worker_id-error"' in html
    assert "A child-protection family needs a responsible social worker." in html
    assert family_count() == 0


def test_preventive_family_does_not_come_from_a_social_worker(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/families/new", family_fields(
        track="preventive", referral_source="social_worker"))
    assert response.status_code == 422
    html = html_of(response)
    assert 'id="referral_source-error"' in html
    assert "not from a social worker" in html
    assert family_count() == 0


def test_child_protection_plan_needs_the_social_workers_participation(
        client, coordinator, social_worker):
    family = make_family(coordinator, track="child_protection", social_worker=social_worker)
    login(client, coordinator)
    response = post_form(client, f"/families/{family.id}/plan", plan_fields())
    assert response.status_code == 422
    html = html_of(response)
    assert 'id="social_worker_participated-error"' in html
    assert "record their participation" in html
    db.session.expire_all()
    assert db.session.get(Family, family.id).plan is None


def test_coordinator_may_not_register_in_another_municipality(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/families/new", family_fields(municipality="Puumala"))
    assert response.status_code == 422
    assert 'id="municipality-error"' in html_of(response)
    assert family_count() == 0


def test_refused_edit_changes_nothing(client, coordinator):
    family = make_family(coordinator, surname="Virtanen")
    login(client, coordinator)
    response = post_form(client, f"/families/{family.id}/edit", family_fields(
        surname="Uusinimi", referral_source="social_worker", status="referred"))
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Family, family.id).surname == "Virtanen"


# --- editing, members and the plan -----------------------------------------

def test_changing_the_track_on_the_page_is_recorded(client, coordinator, social_worker):
    family = make_family(coordinator)
    login(client, coordinator)
    response = post_form(client, f"/families/{family.id}/edit", family_fields(
        surname=family.surname, track="child_protection", referral_source="social_worker",
        responsible_social_worker_id=str(social_worker.id), status="referred"))
    assert response.status_code == 302
    db.session.expire_all()
    family = db.session.get(Family, family.id)
    assert family.track == "child_protection"
    assert [(change.from_track, change.to_track) for change in family.track_changes] == [
        ("preventive", "child_protection")]
    assert "Preventive family work" in html_of(client.get(f"/families/{family.id}"))


def test_adding_a_child_on_the_page(client, coordinator):
    family = make_family(coordinator, members=[])
    login(client, coordinator)
    response = post_form(client, f"/families/{family.id}/members/new",
                         {"role": "child", "first_name": "Eeli", "birth_date": "2024-05-10",
                          "reminder_channel": "none", "locale": "fi"})
    assert response.status_code == 302
    db.session.expire_all()
    child = db.session.scalar(sa.select(Member).where(Member.family_id == family.id))
    assert (child.first_name, child.birth_date) == ("Eeli", date(2024, 5, 10))


def test_child_without_birth_date_is_refused_with_the_services_message(client, coordinator):
    family = make_family(coordinator, members=[])
    login(client, coordinator)
    response = post_form(client, f"/families/{family.id}/members/new",
                         {"role": "child", "first_name": "Eeli", "birth_date": "",
                          "reminder_channel": "none", "locale": "fi"})
    assert response.status_code == 422
    assert "birth date is needed for group fit" in html_of(response)


def test_removing_a_member_asks_first(client, coordinator):
    family = make_family(coordinator)
    member = family.guardians[0]
    url = f"/families/{family.id}/members/{member.id}/delete"
    login(client, coordinator)
    confirmation = client.get(url)
    assert confirmation.status_code == 200
    assert db.session.get(Member, member.id) is not None
    response = post_form(client, url, {})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, member.id) is None


def test_recording_the_plan_makes_the_family_active(client, coordinator):
    family = make_family(coordinator)
    login(client, coordinator)
    response = post_form(client, f"/families/{family.id}/plan", plan_fields())
    assert response.status_code == 302
    db.session.expire_all()
    family = db.session.get(Family, family.id)
    assert family.plan.goals == ["parenthood", "everyday_routines"]
    assert family.status == "active"
    assert "Supporting parenthood" in html_of(client.get(f"/families/{family.id}"))


# --- who sees what ---------------------------------------------------------

def test_admin_sees_every_family(client, admin, coordinator):
    ours = make_family(coordinator, municipality="Mikkeli")
    elsewhere = make_family(admin, municipality="Puumala")
    login(client, admin)
    html = html_of(client.get("/families/"))
    assert ours.reference in html and elsewhere.reference in html
    assert client.get(f"/families/{elsewhere.id}").status_code == 200


def test_coordinator_sees_only_their_municipalities(client, admin, coordinator):
    ours = make_family(coordinator, municipality="Hirvensalmi")
    elsewhere = make_family(admin, municipality="Puumala")
    login(client, coordinator)
    html = html_of(client.get("/families/"))
    assert ours.reference in html
    assert elsewhere.reference not in html
    assert client.get(f"/families/{ours.id}").status_code == 200
    assert client.get(f"/families/{elsewhere.id}").status_code == 404


def test_family_worker_sees_only_assigned_families(client, coordinator, family_worker):
    assigned = make_family(coordinator, workers=[family_worker])
    other = make_family(coordinator)
    login(client, family_worker)
    html = html_of(client.get("/families/"))
    assert assigned.reference in html
    assert other.reference not in html
    assert client.get(f"/families/{assigned.id}").status_code == 200
    assert client.get(f"/families/{other.id}").status_code == 404


def test_social_worker_sees_their_own_and_referred_families(client, coordinator,
                                                              social_worker):
    colleague = make_user("social_worker")
    responsible = make_family(coordinator, track="child_protection",
                              social_worker=social_worker)
    referred = make_family(social_worker, track="child_protection", social_worker=colleague)
    colleagues = make_family(coordinator, track="child_protection", social_worker=colleague)
    preventive = make_family(coordinator)
    login(client, social_worker)
    html = html_of(client.get("/families/"))
    assert responsible.reference in html and referred.reference in html
    assert colleagues.reference not in html and preventive.reference not in html
    assert client.get(f"/families/{responsible.id}").status_code == 200
    assert client.get(f"/families/{referred.id}").status_code == 200
    assert client.get(f"/families/{colleagues.id}").status_code == 404
    assert client.get(f"/families/{preventive.id}").status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(client, coordinator):
    family = make_family(coordinator)
    for url in ("/families/", f"/families/{family.id}", "/families/new"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_list_filters_by_track_and_search_text(client, coordinator, social_worker):
    korhonen = make_family(coordinator, surname="Korhonen")
    virtanen = make_family(coordinator, surname="Virtanen", track="child_protection",
                           social_worker=social_worker)
    login(client, coordinator)
    html = html_of(client.get("/families/?q=korho"))
    assert korhonen.reference in html and virtanen.reference not in html
    html = html_of(client.get("/families/?track=child_protection"))
    assert virtanen.reference in html and korhonen.reference not in html


def test_list_with_unknown_filter_code_answers_422(client, coordinator):
    login(client, coordinator)
    response = client.get("/families/?track=foo&status=nonsense")
    assert response.status_code == 422
    assert 'id="track-error"' in html_of(response)


def test_list_is_paged(app, client, coordinator):
    app.config["FAMILIES_PER_PAGE"] = 2
    try:
        families = [make_family(coordinator) for _ in range(3)]
        login(client, coordinator)
        first = html_of(client.get("/families/"))
        second = html_of(client.get("/families/?page=2"))
    finally:
        app.config["FAMILIES_PER_PAGE"] = 25
    references = sorted(family.reference for family in families)
    assert references[0] in first and references[2] not in first
    assert references[2] in second and 'rel="prev"' in second


# --- the audit log ---------------------------------------------------------

def test_reading_a_family_page_is_audited(client, coordinator):
    family = make_family(coordinator)
    login(client, coordinator)
    assert client.get(f"/families/{family.id}").status_code == 200
    db.session.expire_all()
    reads = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "family.read", AuditEvent.target_id == family.id)).all()
    assert len(reads) == 1
    assert reads[0].actor_id == coordinator.id


def test_error_summary_says_check_the_fields_once(client, coordinator):
    family = make_family(coordinator, members=[])
    login(client, coordinator)
    response = post_form(client, f"/families/{family.id}/members/new",
                         {"role": "child", "first_name": "Eeli", "birth_date": "",
                          "reminder_channel": "none", "locale": "fi"})
    assert html_of(response).count("Check the highlighted fields.") == 1


def test_listing_families_is_audited(client, coordinator):
    family = make_family(coordinator)
    login(client, coordinator)
    assert client.get("/families/").status_code == 200
    db.session.expire_all()
    listing = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "family.list"))
    assert listing.detail == {"family_ids": [family.id]}
