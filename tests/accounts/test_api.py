"""GET /api/v1/me and /api/v1/users, bearer tokens and their secrets."""

from accounts.models import ApiToken
from accounts.services import issue_api_token, revoke_api_token
from extensions import db
from tests.conftest import bearer, login, make_user


def test_me_answers_the_caller(client, coordinator):
    body = client.get("/api/v1/me", headers=bearer(coordinator)).get_json()
    assert body == {"id": coordinator.id, "email": coordinator.email,
                    "name": coordinator.name, "role": "coordinator",
                    "municipalities": ["Hirvensalmi", "Mikkeli"]}


def test_me_works_with_the_session_cookie_too(client, family_worker):
    login(client, family_worker)
    assert client.get("/api/v1/me").get_json()["id"] == family_worker.id


def test_users_lists_active_staff_for_those_who_assign(client, coordinator, family_worker):
    inactive = make_user("family_worker")
    inactive.active = False
    db.session.commit()

    listed = client.get("/api/v1/users?role=family_worker",
                        headers=bearer(coordinator)).get_json()
    assert [user["id"] for user in listed] == [family_worker.id]


def test_family_workers_may_not_list_staff(client, family_worker):
    response = client.get("/api/v1/users", headers=bearer(family_worker))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_unknown_role_filter_is_422(client, admin):
    assert client.get("/api/v1/users?role=wizard", headers=bearer(admin)).status_code == 422


def test_tokens_are_stored_only_as_hashes(app, coordinator, clock):
    secret = issue_api_token(coordinator, clock=clock)
    db.session.commit()
    token = db.session.scalars(db.select(ApiToken)).one()
    assert secret not in (token.token_hash, token.prefix)
    assert len(secret) >= 43  # 256 bits, URL-safe


def test_revoked_token_is_refused_and_use_is_noted(client, coordinator, clock):
    secret = issue_api_token(coordinator, clock=clock)
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token = db.session.scalars(db.select(ApiToken)).one()
    db.session.refresh(token)
    assert token.last_used_at == clock.now()

    revoke_api_token(coordinator, token.id, clock=clock)
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_deactivated_users_tokens_stop_working(client, coordinator):
    headers = bearer(coordinator)
    coordinator.active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
