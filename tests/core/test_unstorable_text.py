"""Text with a NUL character, which PostgreSQL cannot store, is refused as bad input."""

from tests.conftest import bearer, csrf_token_from, login


def test_a_json_field_with_a_nul_is_a_422_naming_the_field(client, coordinator):
    answer = client.post("/api/v1/families", headers=bearer(coordinator), json={
        "surname": "Virta\x00nen", "municipality": "Mikkeli", "track": "preventive",
        "referral_source": "child_health_clinic", "referral_date": "2026-11-02"})
    assert answer.status_code == 422
    assert "NUL" in answer.get_json()["error"]["fields"]["surname"]


def test_a_query_with_a_nul_is_a_json_422(client, coordinator):
    answer = client.get("/api/v1/families?municipality=Mik%00keli",
                        headers=bearer(coordinator))
    assert answer.status_code == 422
    assert "municipality" in answer.get_json()["error"]["fields"]


def test_a_form_field_with_a_nul_is_a_422_page(client, coordinator):
    login(client, coordinator)
    token = csrf_token_from(client.get("/families/new").get_data(as_text=True))
    answer = client.post("/families/new", data={"csrf_token": token,
                                                "surname": "Virta\x00nen"})
    assert answer.status_code == 422
    assert "cannot be saved" in answer.get_data(as_text=True)
