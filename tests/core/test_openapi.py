"""The OpenAPI document at /api/v1/openapi.json."""

from openapi_spec_validator import validate


def test_openapi_document_describes_the_api(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    for route in ("/me", "/users", "/families", "/families/{family_id}",
                  "/families/{family_id}/plan", "/groups", "/groups/{group_id}",
                  "/groups/{group_id}/sessions", "/sessions/{session_id}",
                  "/groups/{group_id}/enrollments", "/enrollments/{enrollment_id}",
                  "/sessions/{session_id}/attendance"):
        assert route in document["paths"]
    validate(document)  # a valid OpenAPI 3.1 document, $refs and all
    family = document["components"]["schemas"]["Family"]["properties"]
    assert family["track"]["enum"] == ["child_protection", "preventive"]
    assert "Error" in document["components"]["schemas"]
