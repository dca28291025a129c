"""The matching weights page: admins set the weights of the score and its limits."""

import pytest
import sqlalchemy as sa

from core.models import AuditEvent
from extensions import db
from matching import services
from matching.models import MatchingPolicy
from matching.scoring import Weights
from tests.conftest import csrf_token_from, login

URL = "/matching/policy"


def html_of(response) -> str:
    return response.get_data(as_text=True)


def post_policy(client, data):
    token = csrf_token_from(html_of(client.get(URL)))
    return client.post(URL, data={**data, "csrf_token": token})


def policy_fields(**overrides):
    fields = {"goals": "40", "distance": "10", "age": "20", "timing": "20", "waiting": "10",
              "max_clash_share": "0.25", "waiting_full_days": "120",
              "distance_zero_km": "60"}
    fields.update(overrides)
    return fields


def policy_rows() -> list[MatchingPolicy]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(MatchingPolicy)))


def test_policy_page_is_refused_to_a_coordinator(client, coordinator):
    login(client, coordinator)
    assert client.get(URL).status_code == 403
    token = csrf_token_from(html_of(client.get("/")))
    assert client.post(URL, data={**policy_fields(), "csrf_token": token}).status_code == 403
    assert policy_rows() == []


def test_policy_page_sends_anonymous_callers_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_policy_page_shows_the_defaults_and_the_notes(client, admin):
    login(client, admin)
    response = client.get(URL)
    assert response.status_code == 200
    html = html_of(response)
    assert 'name="goals" required type="number" value="35"' in html
    assert "share of the sum of the five weights" in html
    assert "Proposals already made are not changed." in html


def test_saving_creates_the_policy_and_weights_returns_it(client, admin):
    login(client, admin)
    response = post_policy(client, policy_fields())
    assert response.status_code == 302
    assert len(policy_rows()) == 1
    assert services.weights() == Weights(goals=40, distance=10, age=20, timing=20,
                                         waiting=10, max_clash_share=0.25,
                                         waiting_full_days=120, distance_zero_km=60)
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "matching_policy.update"))
    assert event.actor_id == admin.id


def test_saving_again_changes_the_one_row(client, admin):
    login(client, admin)
    post_policy(client, policy_fields())
    assert post_policy(client, policy_fields(goals="0", waiting="50")).status_code == 302
    assert len(policy_rows()) == 1
    assert (services.weights().goals, services.weights().waiting) == (0, 50)
    assert 'value="50"' in html_of(client.get(URL))


@pytest.mark.parametrize("overrides, field", [
    ({"goals": "101"}, "goals"),
    ({"distance": "-1"}, "distance"),
    ({"age": "many"}, "age"),
    ({"timing": ""}, "timing"),
    ({"waiting": "1e400"}, "waiting"),
    ({"max_clash_share": "1.5"}, "max_clash_share"),
    ({"max_clash_share": "nan"}, "max_clash_share"),
    ({"waiting_full_days": "0"}, "waiting_full_days"),
    ({"waiting_full_days": "12.5"}, "waiting_full_days"),
    ({"distance_zero_km": "0"}, "distance_zero_km"),
])
def test_bad_input_is_a_field_error_and_saves_nothing(client, admin, overrides, field):
    login(client, admin)
    response = post_policy(client, policy_fields(**overrides))
    assert response.status_code == 422
    assert f'id="{field}-error"' in html_of(response)
    assert policy_rows() == []


def test_all_weights_zero_is_refused(client, admin):
    login(client, admin)
    response = post_policy(client, policy_fields(goals="0", distance="0", age="0",
                                                 timing="0", waiting="0"))
    assert response.status_code == 422
    assert "Give at least one weight above zero." in html_of(response)
    assert policy_rows() == []


def test_policy_form_without_csrf_token_is_refused(client, admin):
    login(client, admin)
    assert client.post(URL, data=policy_fields()).status_code == 400
    assert policy_rows() == []
