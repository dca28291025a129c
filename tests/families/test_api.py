"""/api/v1/families: the seed's rules, bad input and who sees what, over JSON."""

import pytest

from extensions import db
from families.models import Family
from tests.conftest import bearer, make_family, make_user

NEW_FAMILY = {
    "surname": "Nieminen",
    "municipality": "Mikkeli",
    "address": "Raatihuoneenkatu 5 B 12",
    "track": "preventive",
    "referral_source": "early_childhood_education",
    "referral_date": "2026-11-20",
    "languages": ["fi", "sv"],
    "members": [
        {"role": "guardian", "first_name": "Laura", "email": "laura@example.test",
         "reminder_channel": "email"},
        {"role": "child", "first_name": "Veeti", "birth_date": "2023-03-14"},
        {"role": "child", "first_name": "Iida", "birth_date": "2025-09-01"},
    ],
}


def error_of(response):
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_coordinator_registers_a_family_with_members(client, coordinator):
    response = client.post("/api/v1/families", json=NEW_FAMILY, headers=bearer(coordinator))

    assert response.status_code == 201
    body = response.get_json()
    assert body["reference"].startswith("PT-2026-")
    assert body["status"] == "referred"
    assert body["plan"] is None
    assert [m["first_name"] for m in body["members"]] == ["Laura", "Veeti", "Iida"]
    assert response.headers["Location"] == f"/api/v1/families/{body['id']}"


def test_family_fields_are_the_contract(client, coordinator):
    family = make_family(coordinator, plan=True)
    body = client.get(f"/api/v1/families/{family.id}", headers=bearer(coordinator)).get_json()

    assert {"id", "reference", "surname", "municipality", "address", "track",
            "referral_source", "referral_date", "responsible_social_worker_id",
            "family_worker_ids", "status", "languages", "members", "plan"} <= set(body)
    assert {"id", "role", "first_name", "birth_date", "phone", "email",
            "reminder_channel"} <= set(body["members"][0])
    assert {"goals", "content", "agreed_with", "start_date", "review_date"} <= set(body["plan"])
    assert body["municipality"] == "Mikkeli"


def test_plan_is_put_and_makes_the_family_active(client, coordinator):
    family = make_family(coordinator)
    response = client.put(f"/api/v1/families/{family.id}/plan", headers=bearer(coordinator),
                          json={"goals": ["parenthood", "preventing_exclusion"],
                                "content": "Vertaistuki ja arjen rutiinit",
                                "agreed_with": "Äiti", "start_date": "2026-11-30",
                                "review_date": "2027-03-01"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["goals"] == ["parenthood", "preventing_exclusion"]
    db.session.expire_all()
    assert db.session.get(Family, family.id).status == "active"


def test_patch_changes_the_track_with_a_social_worker(client, coordinator, social_worker):
    family = make_family(coordinator)
    response = client.patch(f"/api/v1/families/{family.id}", headers=bearer(coordinator),
                            json={"track": "child_protection",
                                  "referral_source": "social_worker",
                                  "responsible_social_worker_id": social_worker.id})
    assert response.status_code == 200
    assert response.get_json()["track"] == "child_protection"


# The seed's rules, refused with a clear message.

@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"track": "child_protection", "referral_source": "health_care"},
     "child_protection_requires_social_worker", "referral_source"),
    ({"track": "child_protection", "referral_source": "social_worker"},
     "responsible_social_worker_required", "responsible_social_worker_id"),
    ({"referral_source": "social_worker"}, "referral_source_not_allowed", "referral_source"),
])
def test_referral_rules_are_refused_with_a_message(client, coordinator, changes, code, field):
    response = client.post("/api/v1/families", json={**NEW_FAMILY, **changes},
                           headers=bearer(coordinator))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == code
    assert field in error["fields"]
    assert len(error["message"]) > 20
    assert db.session.scalar(db.select(db.func.count(Family.id))) == 0


def test_child_protection_plan_without_social_worker_is_refused(client, coordinator,
                                                                social_worker):
    family = make_family(coordinator, track="child_protection", social_worker=social_worker)
    response = client.put(f"/api/v1/families/{family.id}/plan", headers=bearer(coordinator),
                          json={"goals": ["positive_upbringing"], "start_date": "2026-11-30",
                                "review_date": "2027-03-01"})
    assert response.status_code == 422
    assert error_of(response)["code"] == "social_worker_participation_required"


def test_family_cannot_become_active_without_a_plan(client, coordinator):
    family = make_family(coordinator)
    response = client.patch(f"/api/v1/families/{family.id}", headers=bearer(coordinator),
                            json={"status": "active"})
    assert response.status_code == 422
    assert error_of(response)["code"] == "plan_required"


# Bad input never gives a 500.

@pytest.mark.parametrize(("changes", "field"), [
    ({"referral_date": "2026-13-45"}, "referral_date"),
    ({"referral_date": "last week"}, "referral_date"),
    ({"referral_date": 20261120}, "referral_date"),
    ({"track": "foster_care"}, "track"),
    ({"languages": ["fi", "klingon"]}, "languages"),
    ({"surname": "x" * 101}, "surname"),
    ({"surname": ""}, "surname"),
    ({"surname": None}, "surname"),
    ({"address": ["not", "text"]}, "address"),
    ({"family_worker_ids": ["one"]}, "family_worker_ids"),
    ({"family_worker_ids": [2**40]}, "family_worker_ids"),
    ({"responsible_social_worker_id": True}, "responsible_social_worker_id"),
    ({"members": [{"role": "uncle", "first_name": "Pertti"}]}, "members"),
    ({"members": [{"role": "child", "first_name": "Aino", "birth_date": "1.1.2020"}]},
     "members"),
    ({"municipality": "Atlantis"}, "municipality"),
    ({"unexpected": 1}, "unexpected"),
])
def test_malformed_fields_get_422_with_the_field_named(client, coordinator, changes, field):
    response = client.post("/api/v1/families", json={**NEW_FAMILY, **changes},
                           headers=bearer(coordinator))
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


@pytest.mark.parametrize("missing", ["surname", "municipality", "track", "referral_source",
                                     "referral_date"])
def test_missing_fields_get_422(client, coordinator, missing):
    body = {key: value for key, value in NEW_FAMILY.items() if key != missing}
    response = client.post("/api/v1/families", json=body, headers=bearer(coordinator))
    assert response.status_code == 422
    assert missing in error_of(response)["fields"]


@pytest.mark.parametrize(("data", "content_type"), [
    ("{not json", "application/json"),
    ("[1, 2, 3]", "application/json"),
    ("surname=Nieminen", "application/x-www-form-urlencoded"),
    ("", "application/json"),
])
def test_a_body_that_is_not_a_json_object_gets_400(client, coordinator, data, content_type):
    response = client.post("/api/v1/families", data=data, content_type=content_type,
                           headers=bearer(coordinator))
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


@pytest.mark.parametrize("body", [
    {"goals": ["nonsense"], "start_date": "2026-11-30", "review_date": "2027-01-01"},
    {"goals": "parenthood", "start_date": "2026-11-30", "review_date": "2027-01-01"},
    {"goals": ["parenthood"], "start_date": "2026-02-30", "review_date": "2027-01-01"},
    {"goals": ["parenthood"], "start_date": "2026-11-30"},
    {"goals": ["parenthood"], "start_date": "2026-11-30", "review_date": "2026-01-01"},
    {"goals": ["parenthood"], "content": "x" * 5001, "start_date": "2026-11-30",
     "review_date": "2027-01-01"},
])
def test_malformed_plans_get_422(client, coordinator, body):
    family = make_family(coordinator)
    response = client.put(f"/api/v1/families/{family.id}/plan", json=body,
                          headers=bearer(coordinator))
    assert response.status_code == 422
    assert error_of(response)["fields"]


@pytest.mark.parametrize("query", ["track=foo", "status=lost", "page=0", "page=x",
                                   "per_page=100000"])
def test_malformed_list_queries_get_422(client, coordinator, query):
    response = client.get(f"/api/v1/families?{query}", headers=bearer(coordinator))
    assert response.status_code == 422


def test_unknown_family_is_404_json(client, coordinator):
    response = client.get("/api/v1/families/999999", headers=bearer(coordinator))
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_members_are_added_changed_and_removed(client, coordinator):
    family = make_family(coordinator)
    headers = bearer(coordinator)
    added = client.post(f"/api/v1/families/{family.id}/members", headers=headers,
                        json={"role": "child", "first_name": "Aada",
                              "birth_date": "2026-01-15"})
    assert added.status_code == 201
    member_id = added.get_json()["id"]
    changed = client.patch(f"/api/v1/families/{family.id}/members/{member_id}",
                           headers=headers, json={"first_name": "Aada-Maria"})
    assert changed.get_json()["first_name"] == "Aada-Maria"
    bad = client.patch(f"/api/v1/families/{family.id}/members/{member_id}",
                       headers=headers, json={"birth_date": "2030-01-01"})
    assert bad.status_code == 422
    removed = client.delete(f"/api/v1/families/{family.id}/members/{member_id}",
                            headers=headers)
    assert removed.status_code == 204


def test_list_filters_and_pages(client, coordinator):
    for _ in range(3):
        make_family(coordinator)
    make_family(coordinator, municipality="Hirvensalmi", surname="Hirvonen")
    headers = bearer(coordinator)

    page = client.get("/api/v1/families?per_page=2", headers=headers)
    assert len(page.get_json()) == 2
    assert page.headers["X-Total-Count"] == "4"
    assert 'rel="next"' in page.headers["Link"]
    found = client.get("/api/v1/families?q=hirvo", headers=headers).get_json()
    assert [f["surname"] for f in found] == ["Hirvonen"]
    by_place = client.get("/api/v1/families?municipality=Hirvensalmi", headers=headers)
    assert len(by_place.get_json()) == 1


# Who sees what, role by role.

@pytest.fixture
def region(app):
    """Families in two municipalities, on both tracks, and one person of each role."""
    people = {
        "admin": make_user("admin", municipalities=()),
        "coordinator": make_user("coordinator", municipalities=("Mikkeli",)),
        "worker": make_user("family_worker"),
        "social_worker": make_user("social_worker"),
        "other_social_worker": make_user("social_worker"),
    }
    registrar = make_user("coordinator", municipalities=("Mikkeli", "Puumala"))
    families = {
        "assigned": make_family(registrar, workers=[people["worker"]]),
        "cp_responsible": make_family(registrar, track="child_protection",
                                      social_worker=people["social_worker"]),
        "cp_other": make_family(registrar, track="child_protection",
                                social_worker=people["other_social_worker"]),
        "puumala": make_family(registrar, municipality="Puumala"),
    }
    families["referred_by_social_worker"] = make_family(
        people["social_worker"], track="child_protection",
        social_worker=people["other_social_worker"])
    return people, families


VISIBLE = {
    "admin": {"assigned", "cp_responsible", "cp_other", "puumala",
              "referred_by_social_worker"},
    "coordinator": {"assigned", "cp_responsible", "cp_other", "referred_by_social_worker"},
    "worker": {"assigned"},
    "social_worker": {"cp_responsible", "referred_by_social_worker"},
}


@pytest.mark.parametrize("role", VISIBLE)
def test_each_role_lists_exactly_its_families(client, region, role):
    people, families = region
    listed = client.get("/api/v1/families", headers=bearer(people[role])).get_json()
    expected = {families[name].id for name in VISIBLE[role]}
    assert {family["id"] for family in listed} == expected


@pytest.mark.parametrize("role", VISIBLE)
def test_each_role_reads_only_its_families(client, region, role):
    people, families = region
    headers = bearer(people[role])
    for name, family in families.items():
        response = client.get(f"/api/v1/families/{family.id}", headers=headers)
        expected = 200 if name in VISIBLE[role] else 404
        assert response.status_code == expected, (role, name)


@pytest.mark.parametrize("role", VISIBLE)
def test_each_role_changes_only_what_it_may(client, region, role):
    people, families = region
    response = client.patch(f"/api/v1/families/{families['puumala'].id}",
                            headers=bearer(people[role]), json={"address": "Uusi tie 1"})
    assert response.status_code == (200 if role == "admin" else 404)


def test_family_worker_cannot_register_a_family(client, region):
    people, _ = region
    response = client.post("/api/v1/families", json=NEW_FAMILY,
                           headers=bearer(people["worker"]))
    assert response.status_code == 403


def test_anonymous_callers_get_401_json(client, region):
    _, families = region
    for url in ("/api/v1/families", f"/api/v1/families/{families['assigned'].id}",
                "/api/v1/me"):
        response = client.get(url)
        assert response.status_code == 401
        assert error_of(response)["code"] == "unauthorized"


def test_a_wrong_or_revoked_token_is_401(client, coordinator):
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
