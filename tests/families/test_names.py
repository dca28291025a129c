"""Finding families by name: one Unicode form, any case, any letter; and the
warning of a probable duplicate on registration, through pages and the API."""

import unicodedata
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.clock import FixedClock
from core.text import search_key
from extensions import db
from families import services
from families.models import Family, Member, Plan
from tests.conftest import NOW, bearer, csrf_token_from, login, make_family, make_user


def nfd(text):
    return unicodedata.normalize("NFD", text)


def nfc(text):
    return unicodedata.normalize("NFC", text)


# Finnish and Nordic letters, with ASCII ones and the few marks surnames carry.
LETTERS = "abcdefghijklmnopqrstuvwxyzåäöæøüéèáßABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖÆØÜÉÈÁ"
surnames = st.text(alphabet=LETTERS + "-' ", min_size=1, max_size=30).map(str.strip).filter(
    lambda name: any(letter.isalpha() for letter in name))
spellings = st.sampled_from([
    ("as typed", lambda text: text), ("NFC", nfc), ("NFD", nfd),
    ("upper", str.upper), ("lower", str.lower), ("casefold", str.casefold),
    ("NFD upper", lambda text: nfd(text.upper())),
    ("NFD lower", lambda text: nfd(text.lower()))])


def register(actor, surname, *, municipality="Mikkeli", birth_date=date(2024, 5, 10),
             confirm=False, **fields):
    return services.create_family(
        actor, surname=surname, municipality=municipality, track="preventive",
        referral_source="self", referral_date=date(2026, 11, 2),
        members=[{"role": "child", "first_name": "Eeli", "birth_date": birth_date}],
        confirm=confirm, clock=FixedClock(NOW), **fields)


def found(actor, text):
    return set(db.session.scalars(services.search_families(actor, text=text)))


# --- one Unicode form --------------------------------------------------------

def text_columns(model):
    return [column.name for column in model.__table__.columns
            if isinstance(column.type, sa.String) and column.name != "surname_key"]


@pytest.mark.parametrize("model", [Family, Member, Plan])
def test_every_text_field_of_families_is_stored_composed(model):
    """An enumeration: a text column added without composing fails here."""
    validated = set(sa.inspect(model).validators)
    assert set(text_columns(model)) - {"locale", "role", "track", "referral_source",
                                       "status", "reminder_channel"} <= validated


def test_the_api_stores_surname_address_and_members_composed(client, coordinator):
    response = client.post("/api/v1/families", headers=bearer(coordinator), json={
        "surname": nfd("Öljymäki"), "municipality": "Mikkeli",
        "address": nfd("Kävelykatu 3 Ä"), "track": "preventive",
        "referral_source": "self", "referral_date": "2026-11-20",
        "members": [{"role": "guardian", "first_name": nfd("Jööseppi")},
                    {"role": "child", "first_name": nfd("Åsa"), "birth_date": "2024-01-01"}]})
    assert response.status_code == 201, response.get_json()
    db.session.expire_all()
    family = db.session.get(Family, response.get_json()["id"])
    assert family.surname == nfc("Öljymäki") and family.address == nfc("Kävelykatu 3 Ä")
    assert {member.first_name for member in family.members} == {"Jööseppi", "Åsa"}
    assert family.surname_key == "öljymäki"


def test_a_form_stores_the_surname_composed(client, coordinator):
    family = make_family(coordinator)
    login(client, coordinator)
    page = client.get(f"/families/{family.id}/edit").get_data(as_text=True)
    response = client.post(f"/families/{family.id}/edit", data={
        "csrf_token": csrf_token_from(page), "surname": nfd("Äijälä"),
        "municipality": "Mikkeli", "address": "", "track": "preventive",
        "referral_source": "child_health_clinic", "referral_date": "2026-11-02",
        "status": "referred", "languages": "fi"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Family, family.id).surname == "Äijälä"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(surname=surnames, spelling=spellings, data=st.data())
def test_a_family_is_found_by_any_part_of_its_surname_in_any_spelling(
        app, admin_user, surname, spelling, data):
    """Any spelling (composed or not, any case) of any part of the surname finds it."""
    family = register(admin_user, nfd(surname), confirm=True)
    db.session.flush()
    assert family.surname == nfc(surname)
    start = data.draw(st.integers(0, len(nfc(surname)) - 1), label="start")
    end = data.draw(st.integers(start + 1, len(nfc(surname))), label="end")
    part = nfc(surname)[start:end]
    assume(search_key(part))  # a blank part is no search
    _name, spell = spelling
    try:
        assert family in found(admin_user, spell(part))
    finally:
        db.session.rollback()


@pytest.fixture
def admin_user(app):
    return make_user("admin", municipalities=())


@pytest.mark.parametrize("query", ["Äijälä", "äijälä", "ÄIJÄLÄ", "Äij", "äij", "ijälä",
                                   nfd("Äij"), nfd("ÄIJÄLÄ")])
def test_api_search_finds_aijala_in_every_spelling(client, coordinator, query):
    family = make_family(coordinator, surname="Äijälä")
    make_family(coordinator, surname="Aijala")
    response = client.get("/api/v1/families", query_string={"q": query},
                          headers=bearer(coordinator))
    assert [row["reference"] for row in response.get_json()] == [family.reference]


@pytest.mark.parametrize("stored,query", [("Öljymäki", nfd("Öljymäki")),
                                          (nfd("Öljymäki"), "Öljymäki"),
                                          (nfd("Öljymäki"), "ÖLJY")])
def test_page_search_finds_either_unicode_spelling(client, coordinator, stored, query):
    family = make_family(coordinator, surname=stored)
    login(client, coordinator)
    page = client.get("/families/", query_string={"q": query}).get_data(as_text=True)
    assert family.reference in page


@pytest.mark.parametrize("query", ["%", "_", "\\", "%a"])
def test_like_wildcards_in_a_search_are_letters(client, coordinator, query):
    make_family(coordinator, surname="Virta")
    response = client.get("/api/v1/families", query_string={"q": query},
                          headers=bearer(coordinator))
    assert response.status_code == 200
    assert response.get_json() == []


# --- probable duplicates -----------------------------------------------------

DUPLICATE = {"surname": "Äijälä", "municipality": "Mikkeli", "track": "preventive",
             "referral_source": "self", "referral_date": "2026-11-20",
             "members": [{"role": "child", "first_name": "Iida",
                          "birth_date": "2024-05-10"}]}


def test_api_refuses_a_probable_duplicate_unless_confirmed(client, coordinator):
    existing = make_family(coordinator, surname="Äijälä")  # a child born 2024-05-10
    response = client.post("/api/v1/families", headers=bearer(coordinator),
                           json={**DUPLICATE, "surname": nfd("äIJÄLÄ")})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "probable_duplicate"
    assert existing.reference in error["message"]
    assert error["details"] == [{"id": existing.id, "reference": existing.reference}]
    assert db.session.scalar(sa.select(sa.func.count(Family.id))) == 1

    confirmed = client.post("/api/v1/families", headers=bearer(coordinator),
                            json={**DUPLICATE, "confirm": True})
    assert confirmed.status_code == 201


@pytest.mark.parametrize("change", [{"municipality": "Hirvensalmi"},
                                    {"surname": "Äijälä-Virta"},
                                    {"members": [{"role": "child", "first_name": "Iida",
                                                  "birth_date": "2024-05-11"}]}])
def test_another_municipality_surname_or_birth_date_is_no_duplicate(client, coordinator,
                                                                    change):
    make_family(coordinator, surname="Äijälä")
    response = client.post("/api/v1/families", headers=bearer(coordinator),
                           json={**DUPLICATE, **change})
    assert response.status_code == 201, response.get_json()


def test_a_duplicate_the_caller_may_not_see_is_not_identified(client, coordinator):
    social_worker = make_user("social_worker")
    hidden = make_family(coordinator, surname="Äijälä", track="child_protection",
                         social_worker=make_user("social_worker"))
    response = client.post("/api/v1/families", headers=bearer(social_worker), json={
        **DUPLICATE, "track": "child_protection", "referral_source": "social_worker"})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "probable_duplicate"
    assert hidden.reference not in error["message"]
    assert str(hidden.id) not in error["message"]
    assert error.get("details", []) == []
    assert "coordinator" in error["message"]


def test_confirm_is_refused_on_a_change(client, coordinator):
    family = make_family(coordinator)
    response = client.patch(f"/api/v1/families/{family.id}", headers=bearer(coordinator),
                            json={"confirm": True})
    assert response.status_code == 422
    assert "confirm" in response.get_json()["error"]["fields"]


def registration_form(client):
    page = client.get("/families/new").get_data(as_text=True)
    return {"csrf_token": csrf_token_from(page), "surname": "äijälä",
            "municipality": "Mikkeli", "address": "", "track": "preventive",
            "referral_source": "self", "referral_date": "2026-11-20", "languages": "fi"}


def test_page_warns_of_a_duplicate_naming_it_and_registers_once_confirmed(client,
                                                                         coordinator):
    existing = make_family(coordinator, surname="Äijälä")
    login(client, coordinator)
    form = registration_form(client)
    warned = client.post("/families/new", data=form)
    html = warned.get_data(as_text=True)
    assert warned.status_code == 422
    assert existing.reference in html
    assert 'name="confirm_duplicate"' in html
    assert db.session.scalar(sa.select(sa.func.count(Family.id))) == 1

    registered = client.post("/families/new", data={**form, "confirm_duplicate": "y"})
    assert registered.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Family.id))) == 2


def test_page_warning_for_a_family_the_registrar_may_not_see(client, coordinator):
    hidden = make_family(coordinator, surname="Äijälä", track="child_protection",
                         social_worker=make_user("social_worker"))
    social_worker = make_user("social_worker")
    login(client, social_worker)
    form = {**registration_form(client), "track": "child_protection",
            "referral_source": "social_worker"}
    warned = client.post("/families/new", data=form)
    html = warned.get_data(as_text=True)
    assert warned.status_code == 422
    assert hidden.reference not in html
    assert "probably already registered" in html
    assert 'name="confirm_duplicate"' in html


# --- the migration ---------------------------------------------------------------

def test_the_migration_composes_stored_names_and_fills_the_search_key(tmp_path):
    """Rows written before the search key (NFD from a Mac, say) are composed by
    the migration, which fills their key, and are then found."""
    from flask_migrate import upgrade

    from tests.core.test_migrations import migrated_app

    app = migrated_app(f"sqlite:///{tmp_path / 'before.sqlite3'}")
    with app.app_context():
        upgrade(revision="f4539a4b2119")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO municipalities (id, name, latitude, longitude)"
                " VALUES (1, 'Mäntyharju', 61.4, 26.9)"))
            connection.execute(sa.text(
                "INSERT INTO families (id, reference, surname, municipality_id, address,"
                " track, referral_source, referral_date, status, languages, created_at,"
                " updated_at) VALUES (1, 'PT-2026-0001', :surname, 1, :address,"
                " 'preventive', 'self', '2026-11-02', 'referred', '[]',"
                " '2026-11-02 10:00:00.000000', '2026-11-02 10:00:00.000000')"),
                {"surname": nfd("ÖLJYMÄKI"), "address": nfd("Äijäläntie 1")})
            connection.execute(sa.text(
                "INSERT INTO members (id, family_id, role, first_name, birth_date, phone,"
                " email, reminder_channel, locale) VALUES (1, 1, 'child', :name,"
                " '2024-01-01', '', '', 'none', 'fi')"), {"name": nfd("Åsa")})
        upgrade()
        with db.engine.connect() as connection:
            surname, key, address, flag = connection.execute(sa.text(
                "SELECT surname, surname_key, address, address_non_disclosure"
                " FROM families")).one()
            first_name = connection.execute(sa.text(
                "SELECT first_name FROM members")).scalar_one()
        assert (surname, key, address) == ("ÖLJYMÄKI", "öljymäki", "Äijäläntie 1")
        assert not flag
        assert first_name == "Åsa"
        db.engine.dispose()
