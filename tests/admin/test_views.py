"""The admin pages: users, municipalities, venues and blackout dates."""

from datetime import date, time

import pytest
import sqlalchemy as sa

from accounts.models import User
from core.models import AuditEvent, BlackoutDate, Municipality, Venue
from core.places import DEFAULT_MUNICIPALITIES
from extensions import db
from groups import series as group_series
from tests.conftest import (
    HELSINKI,
    PASSWORD,
    csrf_token_from,
    empty_tables,
    login,
    make_group,
    make_user,
    second_factor_code,
)

ADMIN_PAGES = ["/admin/", "/admin/users", "/admin/users/new", "/admin/municipalities",
               "/admin/municipalities/new", "/admin/venues", "/admin/venues/new",
               "/admin/blackouts"]


@pytest.fixture(autouse=True)
def default_municipalities_only(app):
    """Municipalities outlive a test (the suite keeps them): remove the ones added here."""
    yield
    # What refers to them goes first; the app fixture empties these anyway.
    empty_tables()
    defaults = [name for name, _latitude, _longitude in DEFAULT_MUNICIPALITIES]
    with db.engine.begin() as connection:
        connection.execute(sa.delete(Municipality).where(Municipality.name.not_in(defaults)))


def html_of(response) -> str:
    return response.get_data(as_text=True)


def post_form(client, url, data, page=None):
    """Post a page's form as a browser would: with the CSRF token of the session."""
    token = csrf_token_from(html_of(client.get(page or url)))
    return client.post(url, data={**data, "csrf_token": token})


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def user_named(email) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def sign_out(client) -> None:
    client.post("/logout", data={"csrf_token": csrf_token_from(html_of(client.get("/")))})


def can_sign_in(client, email, password=PASSWORD) -> bool:
    """Whether the login form lets this e-mail and password in, after signing out.

    The same client is used: the CSRF token is kept per app context, which
    pytest-flask shares between the clients of a test.
    """
    if client.get("/login").status_code == 302:  # signed in
        sign_out(client)
    token = csrf_token_from(html_of(client.get("/login")))
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": token})
    if response.status_code == 302 and response.headers["Location"].endswith(
            "/login/two-factor"):
        token = csrf_token_from(html_of(client.get("/login/two-factor")))
        response = client.post("/login/two-factor", data={
            "code": second_factor_code(user_named(email)), "csrf_token": token})
    if response.status_code == 302:
        sign_out(client)
        return True
    return False


def new_user_fields(**overrides):
    fields = {"name": "Liisa Laine", "email": "liisa.laine@example.test",
              "role": "family_worker", "municipalities": ["Mikkeli", "Puumala"],
              "locale": "en", "password": "a long password", "confirm": "a long password"}
    fields.update(overrides)
    return fields


def edit_fields(user, **overrides):
    fields = {"name": user.name, "role": user.role,
              "municipalities": [place.name for place in user.municipalities],
              "locale": user.locale, "active": "y" if user.active else ""}
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value != ""}


# --- access ----------------------------------------------------------------

@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_are_refused_to_a_coordinator(client, coordinator, url):
    login(client, coordinator)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_send_anonymous_callers_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_open_for_an_admin(client, admin, url):
    login(client, admin)
    assert client.get(url).status_code == 200


def test_coordinator_cannot_post_to_admin_forms(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/admin/users/new", new_user_fields(), page="/")
    assert response.status_code == 403
    assert user_named("liisa.laine@example.test") is None


def test_administration_is_in_the_navigation_of_admins_only(client, admin, coordinator):
    login(client, coordinator)
    assert "/admin/" not in html_of(client.get("/"))
    sign_out(client)
    login(client, admin)
    assert 'href="/admin/"' in html_of(client.get("/"))


@pytest.mark.parametrize("url, data", [
    ("/admin/users/new", new_user_fields()),
    ("/admin/municipalities/new", {"name": "Juva", "latitude": "61.9",
                                   "longitude": "27.85"}),
    ("/admin/venues/new", {"name": "Perhekeskus", "municipality": "Mikkeli"}),
    ("/admin/blackouts", {"day": "2026-12-08", "reason": "Training day"}),
])
def test_forms_without_csrf_token_are_refused(client, admin, url, data):
    login(client, admin)
    before = (count(User), count(Municipality), count(Venue), count(BlackoutDate))
    assert client.post(url, data=data).status_code == 400
    assert (count(User), count(Municipality), count(Venue), count(BlackoutDate)) == before


# --- users -----------------------------------------------------------------

def test_user_created_through_the_form_can_sign_in(client, admin):
    login(client, admin)
    response = post_form(client, "/admin/users/new", new_user_fields())
    assert response.status_code == 302
    user = user_named("liisa.laine@example.test")
    assert user.role == "family_worker"
    assert [place.name for place in user.municipalities] == ["Mikkeli", "Puumala"]
    assert user.locale == "en"
    assert can_sign_in(client, "liisa.laine@example.test", "a long password")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.create"))
    assert (event.actor_id, event.target_type, event.target_id) == (admin.id, "user", user.id)


def test_user_list_shows_and_filters_users(client, admin, coordinator):
    worker = make_user("family_worker", name="Ville Väisänen")
    login(client, admin)
    html = html_of(client.get("/admin/users"))
    assert coordinator.email in html and worker.email in html
    assert "Hirvensalmi, Mikkeli" in html
    filtered = html_of(client.get("/admin/users?role=family_worker&active=yes"))
    assert worker.email in filtered and coordinator.email not in filtered
    assert html_of(client.get("/admin/users?active=no")).count("@example.test") == 0


def test_unknown_filter_is_a_field_error(client, admin):
    login(client, admin)
    assert client.get("/admin/users?role=king").status_code == 422


@pytest.mark.parametrize("overrides, field", [
    ({"confirm": "another password"}, "confirm"),
    ({"password": "short", "confirm": "short"}, "password"),
    ({"email": "not-an-address"}, "email"),
    ({"role": "king"}, "role"),
    ({"municipalities": ["Atlantis"]}, "municipalities"),
    ({"name": "x" * 121}, "name"),
    ({"locale": "xx"}, "locale"),
])
def test_bad_input_on_user_form_is_a_field_error(client, admin, overrides, field):
    login(client, admin)
    before = count(User)
    response = post_form(client, "/admin/users/new", new_user_fields(**overrides))
    assert response.status_code == 422
    assert f'id="{field}-error"' in html_of(response)
    assert count(User) == before


def test_duplicate_email_is_a_field_error(client, admin, coordinator):
    login(client, admin)
    before = count(User)
    response = post_form(client, "/admin/users/new",
                         new_user_fields(email=coordinator.email.upper()))
    assert response.status_code == 422
    assert 'id="email-error"' in html_of(response)
    assert count(User) == before


def test_editing_role_and_municipalities(client, admin, coordinator):
    login(client, admin)
    url = f"/admin/users/{coordinator.id}/edit"
    response = post_form(client, url, edit_fields(
        coordinator, role="social_worker", municipalities=["Kangasniemi"]))
    assert response.status_code == 302
    db.session.expire_all()
    assert coordinator.role == "social_worker"
    assert [place.name for place in coordinator.municipalities] == ["Kangasniemi"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert event.target_id == coordinator.id
    assert event.detail == {"fields": ["role", "municipalities"]}


def test_edit_form_shows_the_users_details(client, admin, coordinator):
    login(client, admin)
    html = html_of(client.get(f"/admin/users/{coordinator.id}/edit"))
    assert coordinator.name in html
    assert 'checked id="municipalities-0" name="municipalities" type="checkbox"' \
        ' value="Hirvensalmi"' in html
    assert '<input id="municipalities-1" name="municipalities" type="checkbox"' \
        ' value="Kangasniemi"' in html


def test_deactivated_user_cannot_sign_in(client, admin, coordinator):
    login(client, admin)
    response = post_form(client, f"/admin/users/{coordinator.id}/edit",
                         edit_fields(coordinator, active=""))
    assert response.status_code == 302
    db.session.expire_all()
    assert coordinator.active is False
    assert not can_sign_in(client, coordinator.email)


def test_deactivating_after_confirmation(client, admin, family_worker):
    login(client, admin)
    url = f"/admin/users/{family_worker.id}/deactivate"
    assert client.get(url).status_code == 200
    assert post_form(client, url, {}).status_code == 302
    db.session.expire_all()
    assert family_worker.active is False
    assert not can_sign_in(client, family_worker.email)


def test_admin_cannot_deactivate_themselves(client, admin):
    login(client, admin)
    response = post_form(client, f"/admin/users/{admin.id}/edit", edit_fields(admin, active=""))
    assert response.status_code == 422
    assert "You cannot deactivate your own account." in html_of(response)
    response = post_form(client, f"/admin/users/{admin.id}/deactivate", {})
    assert response.status_code == 422
    db.session.expire_all()
    assert admin.active is True
    assert can_sign_in(client, admin.email)


def test_admin_cannot_remove_their_own_admin_role(client, admin):
    login(client, admin)
    response = post_form(client, f"/admin/users/{admin.id}/edit",
                         edit_fields(admin, role="coordinator"))
    assert response.status_code == 422
    assert "You cannot remove your own administrator role." in html_of(response)
    db.session.expire_all()
    assert admin.role == "admin"


def test_bad_input_on_edit_form_changes_nothing(client, admin, coordinator):
    login(client, admin)
    response = post_form(client, f"/admin/users/{coordinator.id}/edit",
                         edit_fields(coordinator, name="", role="social_worker"))
    assert response.status_code == 422
    assert 'id="name-error"' in html_of(response)
    db.session.expire_all()
    assert coordinator.role == "coordinator"


def test_setting_a_new_password(client, admin, coordinator):
    login(client, admin)
    response = post_form(client, f"/admin/users/{coordinator.id}/password",
                         {"password": "a new long secret", "confirm": "a new long secret"},
                         page=f"/admin/users/{coordinator.id}/edit")
    assert response.status_code == 302
    assert can_sign_in(client, coordinator.email, "a new long secret")
    assert not can_sign_in(client, coordinator.email, PASSWORD)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert event.detail == {"fields": ["password"]}


def test_mismatched_new_password_is_refused(client, admin, coordinator):
    login(client, admin)
    response = post_form(client, f"/admin/users/{coordinator.id}/password",
                         {"password": "a new long secret", "confirm": "something else"},
                         page=f"/admin/users/{coordinator.id}/edit")
    assert response.status_code == 422
    assert 'id="confirm-error"' in html_of(response)
    assert can_sign_in(client, coordinator.email, PASSWORD)


def test_unknown_user_is_not_found(client, admin):
    login(client, admin)
    assert client.get("/admin/users/999999/edit").status_code == 404


# --- municipalities --------------------------------------------------------

def municipality_named(name) -> Municipality | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Municipality).where(Municipality.name == name))


def test_municipality_list_shows_centroids(client, admin):
    login(client, admin)
    html = html_of(client.get("/admin/municipalities"))
    assert "Mikkeli" in html and "61.688" in html and "27.273" in html


def test_creating_and_editing_a_municipality(client, admin):
    login(client, admin)
    response = post_form(client, "/admin/municipalities/new",
                         {"name": "Juva", "latitude": "61.9", "longitude": "27.85"})
    assert response.status_code == 302
    juva = municipality_named("Juva")
    assert (juva.latitude, juva.longitude) == (61.9, 27.85)
    response = post_form(client, f"/admin/municipalities/{juva.id}/edit",
                         {"name": "Juva", "latitude": "61.897", "longitude": "27.856"})
    assert response.status_code == 302
    assert municipality_named("Juva").latitude == 61.897


@pytest.mark.parametrize("fields, field", [
    ({"latitude": "sixty"}, "latitude"),
    ({"latitude": "75"}, "latitude"),
    ({"latitude": "nan"}, "latitude"),
    ({"longitude": "10.5"}, "longitude"),
    ({"longitude": ""}, "longitude"),
    ({"name": "Mikkeli"}, "name"),
    ({"name": "mikkeli "}, "name"),
    ({"name": "J" * 121}, "name"),
    ({"name": "   "}, "name"),
])
def test_bad_input_on_municipality_form_is_a_field_error(client, admin, fields, field):
    login(client, admin)
    before = count(Municipality)
    response = post_form(client, "/admin/municipalities/new",
                         {"name": "Juva", "latitude": "61.9", "longitude": "27.85", **fields})
    assert response.status_code == 422
    assert f'id="{field}-error"' in html_of(response)
    assert count(Municipality) == before


def test_renaming_a_municipality_to_anothers_name_is_refused(client, admin):
    login(client, admin)
    puumala = municipality_named("Puumala")
    response = post_form(client, f"/admin/municipalities/{puumala.id}/edit",
                         {"name": "Mikkeli", "latitude": "61.5", "longitude": "28.2"})
    assert response.status_code == 422
    assert municipality_named("Puumala").latitude == 61.523


def test_municipality_in_use_cannot_be_removed(client, admin, coordinator):
    login(client, admin)
    hirvensalmi = municipality_named("Hirvensalmi")  # the coordinator works there
    url = f"/admin/municipalities/{hirvensalmi.id}/delete"
    assert "users" in html_of(client.get(url))
    response = post_form(client, url, {})
    assert response.status_code == 409
    assert "Hirvensalmi cannot be removed: users refer to it." in html_of(response)
    assert municipality_named("Hirvensalmi") is not None


def test_municipality_of_a_family_cannot_be_removed(client, admin, coordinator):
    from tests.conftest import make_family

    make_family(coordinator, municipality="Mikkeli")
    login(client, admin)
    mikkeli = municipality_named("Mikkeli")
    response = post_form(client, f"/admin/municipalities/{mikkeli.id}/delete", {})
    assert response.status_code == 409
    assert "families" in html_of(response)
    assert municipality_named("Mikkeli") is not None


def test_unused_municipality_is_removed_after_confirmation(client, admin):
    login(client, admin)
    post_form(client, "/admin/municipalities/new",
              {"name": "Juva", "latitude": "61.9", "longitude": "27.85"})
    juva = municipality_named("Juva")
    url = f"/admin/municipalities/{juva.id}/delete"
    assert "This cannot be undone." in html_of(client.get(url))
    assert post_form(client, url, {}).status_code == 302
    assert municipality_named("Juva") is None
    assert db.session.scalar(sa.select(AuditEvent.action).where(
        AuditEvent.target_type == "municipality").order_by(AuditEvent.id.desc())) == \
        "municipality.delete"


# --- venues ----------------------------------------------------------------

def venue_named(name) -> Venue | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Venue).where(Venue.name == name))


def test_venue_created_edited_and_removed(client, admin):
    login(client, admin)
    response = post_form(client, "/admin/venues/new", {
        "name": "Perhekeskus", "municipality": "Mikkeli",
        "address": "Maaherrankatu 9", "accessible": "y"})
    assert response.status_code == 302
    venue = venue_named("Perhekeskus")
    assert (venue.municipality.name, venue.address, venue.accessible) == (
        "Mikkeli", "Maaherrankatu 9", True)
    assert "Perhekeskus" in html_of(client.get("/admin/venues"))
    response = post_form(client, f"/admin/venues/{venue.id}/edit", {
        "name": "Perhekeskus Mikkeli", "municipality": "Mikkeli", "address": ""})
    assert response.status_code == 302
    venue = venue_named("Perhekeskus Mikkeli")
    assert venue.accessible is False
    assert post_form(client, f"/admin/venues/{venue.id}/delete", {}).status_code == 302
    assert count(Venue) == 0


@pytest.mark.parametrize("fields, field", [
    ({"name": ""}, "name"),
    ({"name": "Seurakuntatalo"}, "name"),
    ({"municipality": "Atlantis"}, "municipality"),
    ({"municipality": ""}, "municipality"),
    ({"address": "a" * 201}, "address"),
])
def test_bad_input_on_venue_form_is_a_field_error(client, admin, fields, field):
    db.session.add(Venue(name="Seurakuntatalo", municipality=municipality_named("Mikkeli")))
    db.session.commit()
    login(client, admin)
    response = post_form(client, "/admin/venues/new",
                         {"name": "Perhekeskus", "municipality": "Mikkeli", **fields})
    assert response.status_code == 422
    assert f'id="{field}-error"' in html_of(response)
    assert count(Venue) == 1


def test_venue_of_a_group_cannot_be_removed(client, admin, coordinator):
    venue = Venue(name="Perhekeskus", municipality=municipality_named("Mikkeli"))
    group = make_group(coordinator)
    group.venue = venue
    db.session.commit()
    login(client, admin)
    response = post_form(client, f"/admin/venues/{venue.id}/delete", {})
    assert response.status_code == 409
    assert "groups" in html_of(response)
    assert venue_named("Perhekeskus") is not None


# --- blackout dates --------------------------------------------------------

def tuesday_series():
    """Six Tuesdays at 17:00 from 1 December 2026."""
    return group_series.SeriesPlan(group_series.series_rule(
        weekday=2, start_time=time(17, 0), duration_minutes=90,
        first_date=date(2026, 12, 1), count=3))


def test_blackout_date_is_skipped_by_group_series(client, admin):
    login(client, admin)
    response = post_form(client, "/admin/blackouts",
                         {"day": "2026-12-08", "reason": "Training day"})
    assert response.status_code == 302
    assert "Training day" in html_of(client.get("/admin/blackouts"))
    schedule = group_series.preview(tuesday_series(), HELSINKI, "en")
    assert [o.day for o in schedule.occurrences] == [
        date(2026, 12, 1), date(2026, 12, 15), date(2026, 12, 22)]
    assert [(s.day, s.reason) for s in schedule.skipped] == [
        (date(2026, 12, 8), "Training day")]


def test_removed_blackout_date_is_no_longer_skipped(client, admin):
    login(client, admin)
    post_form(client, "/admin/blackouts", {"day": "2026-12-08", "reason": "Training day"})
    blackout = db.session.scalar(sa.select(BlackoutDate))
    url = f"/admin/blackouts/{blackout.id}/delete"
    assert client.get(url).status_code == 200
    assert post_form(client, url, {}).status_code == 302
    assert count(BlackoutDate) == 0
    schedule = group_series.preview(tuesday_series(), HELSINKI, "en")
    assert date(2026, 12, 8) in [o.day for o in schedule.occurrences]


def test_blackout_list_separates_upcoming_and_past(client, admin):
    db.session.add_all([BlackoutDate(day=date(2026, 11, 2), reason="Past closure"),
                        BlackoutDate(day=date(2026, 12, 8), reason="Training day")])
    db.session.commit()
    login(client, admin)
    html = html_of(client.get("/admin/blackouts"))
    assert html.index("Training day") < html.index("Past closure")
    assert "Finnish public holidays" in html


@pytest.mark.parametrize("fields, field", [
    ({"day": "2026-12-08"}, "day"),  # already a blackout date
    ({"day": "8.12.2026"}, "day"),
    ({"day": ""}, "day"),
    ({"reason": ""}, "reason"),
    ({"reason": "r" * 201}, "reason"),
])
def test_bad_input_on_blackout_form_is_a_field_error(client, admin, fields, field):
    db.session.add(BlackoutDate(day=date(2026, 12, 8), reason="Training day"))
    db.session.commit()
    login(client, admin)
    response = post_form(client, "/admin/blackouts",
                         {"day": "2026-12-09", "reason": "Closure", **fields})
    assert response.status_code == 422
    assert f'id="{field}-error"' in html_of(response)
    assert count(BlackoutDate) == 1
