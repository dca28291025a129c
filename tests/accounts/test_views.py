"""The accounts pages: signing in, the account page with API tokens, the language."""

import re

import sqlalchemy as sa

from accounts.models import ApiToken
from extensions import db
from tests.conftest import csrf_token_from, login

LANG = re.compile(r'<html lang="(\w+)">')

def page_language(client, url="/") -> str:
    """The language of a page."""
    return LANG.search(client.get(url).get_data(as_text=True)).group(1)


def switch_language(client, locale):
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    return client.post("/language", data={"locale": locale, "next": "/",
                                          "csrf_token": token})


def test_wrong_password_is_shown_on_the_form(client, coordinator):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": coordinator.email,
                                           "password": "not the password",
                                           "csrf_token": token})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html
    assert "Wrong e-mail address or password." in html


def test_login_without_csrf_token_is_refused(client, coordinator):
    response = client.post("/login", data={"email": coordinator.email,
                                           "password": "correct horse battery"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_language_switch_turns_the_page_to_finnish_and_back(client, coordinator):
    login(client, coordinator)
    assert page_language(client) == "en"
    assert switch_language(client, "fi").status_code == 302
    assert page_language(client) == "fi"
    assert "Perheet" in client.get("/").get_data(as_text=True)
    assert switch_language(client, "en").status_code == 302
    assert page_language(client) == "en"
    db.session.refresh(coordinator)
    assert coordinator.locale == "en"


def test_language_switch_works_before_signing_in(client):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/language", data={"locale": "en", "next": "/login", "csrf_token": token})
    assert page_language(client, "/login") == "en"


def test_new_api_token_is_shown_once(client, coordinator):
    login(client, coordinator)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    response = client.post("/account/tokens", data={"csrf_token": token})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    first = response.get_data(as_text=True)
    secret = re.search(r'id="new-token" type="text" readonly value="([^"]+)"', first).group(1)
    db.session.expire_all()
    stored = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == coordinator.id))
    assert secret.startswith(stored.prefix)
    assert f"{stored.prefix}…" in first
    assert secret not in client.get("/account").get_data(as_text=True)


def test_revoking_a_token_on_the_account_page(client, coordinator):
    login(client, coordinator)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    client.post("/account/tokens", data={"csrf_token": token})
    db.session.expire_all()
    stored = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == coordinator.id))
    response = client.post(f"/account/tokens/{stored.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, stored.id).revoked_at is not None
    assert f"{stored.prefix}…" not in client.get("/account").get_data(as_text=True)
