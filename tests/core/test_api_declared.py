"""The API declared once (flask-smorest): every operation parses, answers and is
documented from the same schemas; errors keep the one shape; access before the body."""

import re

import pytest
from flask_smorest import Blueprint as SmorestBlueprint
from werkzeug.exceptions import HTTPException

from core.http import handle_http_exception
from tests.conftest import bearer, make_family, make_group, make_user
from tests.fuzzing import collection_app

API_ROOT = "/api/v1"
DOCUMENT = collection_app().extensions["openapi"]
# The largest id both databases hold: no row has it.
ABSENT_ID = 2**31 - 1


def _operations():
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                yield path, method, operation


def _template(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule).removeprefix(API_ROOT)


def test_every_api_route_is_a_blueprint_of_the_declared_api():
    app = collection_app()
    for blueprint_name, blueprint in app.blueprints.items():
        if (blueprint.url_prefix or "").startswith(API_ROOT):
            assert isinstance(blueprint, SmorestBlueprint), blueprint_name


def test_every_api_route_and_method_is_in_the_document():
    app = collection_app()
    documented = {(path, method) for path, method, _operation in _operations()}
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_ROOT + "/"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((_template(rule.rule), method.lower()))
    assert routed == documented


def test_every_answer_of_success_declares_its_schema():
    undeclared = []
    for path, method, operation in _operations():
        for status, response in operation["responses"].items():
            if not status.startswith("2") or status == "204" or path == "/openapi.json":
                continue
            if "$ref" in response:
                continue
            content = response.get("content", {}).get("application/json", {})
            if "schema" not in content:
                undeclared.append(f"{method} {path} {status}")
    assert undeclared == []


def test_every_error_answer_is_documented_in_the_one_error_shape():
    error = {"$ref": "#/components/schemas/Error"}
    for path, method, operation in _operations():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                if "$ref" in response:
                    name = response["$ref"].rsplit("/", 1)[1]
                    response = DOCUMENT["components"]["responses"][name]
                assert response["content"]["application/json"]["schema"] == error, (
                    method, path, status)


def test_the_api_leaves_the_apps_one_handler_of_http_errors(app):
    assert app.error_handler_spec[None][None][HTTPException] is handle_http_exception


def test_an_unknown_api_address_answers_the_json_error(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_page_that_is_not_there_is_still_the_error_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_a_wrong_field_inside_a_list_names_the_field_index_and_inner_name(client, app):
    coordinator = make_user("coordinator")
    body = {"surname": "Virtanen", "municipality": "Mikkeli", "track": "preventive",
            "referral_source": "child_health_clinic", "referral_date": "2026-11-02",
            "members": [{"role": "guardian"}]}
    response = client.post("/api/v1/families", json=body, headers=bearer(coordinator))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["fields"] == {"members": "[0] first_name: This field is required."}


def test_an_unknown_field_and_a_wrong_query_parameter_are_named(client, app):
    coordinator = make_user("coordinator")
    response = client.post("/api/v1/families", json={"nickname": "x"},
                           headers=bearer(coordinator))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["nickname"] == "Unknown field."
    response = client.get("/api/v1/families?per_page=²", headers=bearer(coordinator))
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"per_page"}


def test_a_body_that_is_not_an_object_is_a_400(client, app):
    coordinator = make_user("coordinator")
    response = client.post("/api/v1/families", json=[1, 2], headers=bearer(coordinator))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


# Every operation that names an object in its path and reads a body.
BODY_ON_AN_OBJECT = [(path, method) for path, method, operation in _operations()
                     if "{" in path and "requestBody" in operation]


def test_the_operations_on_an_object_with_a_body_are_all_here():
    assert len(BODY_ON_AN_OBJECT) >= 10


@pytest.mark.parametrize("path, method", BODY_ON_AN_OBJECT,
                         ids=[f"{method} {path}" for path, method in BODY_ON_AN_OBJECT])
def test_a_missing_object_is_404_whatever_the_body(client, app, path, method):
    coordinator = make_user("coordinator")
    family = make_family(coordinator)
    ids = {"member_id": ABSENT_ID, "family_id": ABSENT_ID, "group_id": ABSENT_ID,
           "session_id": ABSENT_ID, "visit_id": ABSENT_ID, "worker_id": ABSENT_ID,
           "proposal_id": ABSENT_ID, "feed_id": ABSENT_ID, "reminder_id": ABSENT_ID,
           "absence_id": ABSENT_ID, "enrollment_id": ABSENT_ID}
    if "{member_id}" in path:  # a member missing from a family the caller sees
        ids["family_id"] = family.id
    url = API_ROOT + re.sub(r"\{(\w+)\}", lambda match: str(ids[match.group(1)]), path)
    response = getattr(client, method)(url, headers=bearer(coordinator),
                                       json={"no_such_field": "\x01", "confirm": "yes"})
    assert response.status_code == 404, (url, response.get_json())
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_foreign_family_is_404_whatever_the_body(client, app):
    owner = make_user("coordinator", municipalities=("Hirvensalmi",))
    family = make_family(owner, municipality="Hirvensalmi")
    stranger = make_user("family_worker")
    for method, path in (("patch", f"/families/{family.id}"),
                         ("put", f"/families/{family.id}/plan"),
                         ("post", f"/families/{family.id}/members"),
                         ("post", f"/families/{family.id}/close")):
        response = getattr(client, method)(API_ROOT + path, headers=bearer(stranger),
                                           json={"no_such_field": 1})
        assert response.status_code == 404, (method, path, response.get_json())


def test_a_group_the_caller_may_not_change_is_403_whatever_the_body(client, app):
    coordinator = make_user("coordinator")

    group = make_group(coordinator)
    worker = make_user("family_worker")
    response = client.patch(f"/api/v1/groups/{group.id}", headers=bearer(worker),
                            json={"capacity": "many"})
    assert response.status_code == 403
