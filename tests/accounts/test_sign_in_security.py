"""Signing in under attack: lockout, rate limits per account and address,
sessions that end everywhere, and a session cookie with a lifetime."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts import services
from app import create_app
from config import TestConfig, settings
from core.clock import FixedClock, set_clock
from core.models import AuditEvent
from extensions import db, limiter
from tests.conftest import NOW, PASSWORD, REDIS_URL, csrf_token_from, login, make_user

WRONG = "not-the-password"
FAILED = "Wrong e-mail address or password"


def sign_in(client, email, password):
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token_from(page.get_data(
                                           as_text=True))})


@pytest.fixture
def user(app):
    return make_user("family_worker")


def test_five_failures_in_a_row_pause_the_account_whatever_the_password(app, client, user):
    for _ in range(app.config["LOGIN_LOCKOUT_FAILURES"]):
        assert sign_in(client, user.email, WRONG).status_code == 422

    refused = sign_in(client, user.email, PASSWORD)
    assert refused.status_code == 422 and FAILED in refused.get_data(as_text=True)
    db.session.expire_all()
    assert user.locked_until == NOW + timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"])
    assert db.session.scalar(sa.select(AuditEvent.action).where(
        AuditEvent.target_type == "user", AuditEvent.target_id == user.id)) == "account.lock"

    set_clock(app, FixedClock(user.locked_until + timedelta(seconds=1)))
    assert sign_in(client, user.email, PASSWORD).status_code == 302


def test_a_paused_account_looks_like_a_wrong_password_or_a_missing_account(app, client,
                                                                          user):
    for _ in range(app.config["LOGIN_LOCKOUT_FAILURES"]):
        sign_in(client, user.email, WRONG)
    paused = sign_in(client, user.email, PASSWORD).get_data(as_text=True)
    missing = sign_in(client, "nobody@example.test", PASSWORD).get_data(as_text=True)
    assert FAILED in paused and FAILED in missing


def test_a_success_starts_the_count_of_failures_again(app, client, user):
    for _ in range(app.config["LOGIN_LOCKOUT_FAILURES"] - 1):
        sign_in(client, user.email, WRONG)
    assert sign_in(client, user.email, PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token_from(
        client.get("/account").get_data(as_text=True))})
    assert sign_in(client, user.email, WRONG).status_code == 422
    db.session.expire_all()
    assert user.failed_sign_ins == 1 and user.locked_until is None


def test_an_admin_lets_a_paused_account_sign_in_again(app, client, user):
    admin = make_user("admin", municipalities=())
    for _ in range(app.config["LOGIN_LOCKOUT_FAILURES"]):
        sign_in(client, user.email, WRONG)
    admin_client = app.test_client()
    login(admin_client, admin)
    page = admin_client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert "Sign-in paused" in page
    admin_client.post(f"/admin/users/{user.id}/unlock",
                      data={"csrf_token": csrf_token_from(page)})
    assert sign_in(client, user.email, PASSWORD).status_code == 302


def test_failed_sign_ins_per_account_are_limited(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per 10 minutes")
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_FAILURES", 100)
    for _ in range(3):
        assert sign_in(client, user.email, WRONG).status_code == 422

    limited = sign_in(client, user.email.upper(), PASSWORD)
    assert limited.status_code == 429
    assert "Too many failed sign-ins" in limited.get_data(as_text=True)
    other = make_user("coordinator")
    assert sign_in(client, other.email, PASSWORD).status_code == 302


def test_failed_sign_ins_per_address_are_limited(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "3 per 10 minutes")
    for number in range(3):
        assert sign_in(client, f"guess{number}@example.test", WRONG).status_code == 422
    assert sign_in(client, "guess9@example.test", WRONG).status_code == 429
    elsewhere = app.test_client()
    page = elsewhere.get("/login")
    response = elsewhere.post("/login", environ_base={"REMOTE_ADDR": "192.0.2.7"}, data={
        "email": "guess9@example.test", "password": WRONG,
        "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 422


def test_successful_sign_ins_do_not_count_against_the_limits(app, client, user,
                                                             monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "2 per 10 minutes")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "2 per 10 minutes")
    for _ in range(4):
        fresh = app.test_client()
        assert sign_in(fresh, user.email, PASSWORD).status_code == 302


def test_sign_out_everywhere_ends_every_session(app, user):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, user)
    login(laptop, user)
    assert laptop.get("/account").status_code == 200

    page = phone.get("/account").get_data(as_text=True)
    phone.post("/logout/everywhere", data={"csrf_token": csrf_token_from(page)})

    assert laptop.get("/account").status_code == 302
    assert phone.get("/account").status_code == 302
    login(laptop, user)  # a new sign-in works
    assert laptop.get("/account").status_code == 200


def test_a_new_password_ends_every_session(app, user):
    laptop = app.test_client()
    login(laptop, user)
    services.set_password(user, "a-brand-new-password", hash_method="pbkdf2:sha256:1000")
    db.session.commit()
    assert laptop.get("/account").status_code == 302


def test_a_session_expires_a_working_day_after_the_last_request(app, client, user):
    response = login(client, user)
    [cookie] = [value for value in response.headers.getlist("Set-Cookie")
                if value.startswith("session=")]
    assert "Expires=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.permanent_session_lifetime == timedelta(hours=8)


def test_the_limits_can_be_kept_in_redis_for_several_processes(app, redis_key_prefix):
    # Under the worker's own prefix: the reset below clears only its keys.
    shared = create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI=app.config[
        "SQLALCHEMY_DATABASE_URI"], RATELIMIT_STORAGE_URI=f"{REDIS_URL}/15",
        RATELIMIT_STORAGE_OPTIONS={"key_prefix": redis_key_prefix}))
    try:
        assert type(limiter.storage).__name__ == "RedisStorage"
        assert limiter.storage.check()
        shared.config["LOGIN_LIMIT_PER_ADDRESS"] = "1 per 10 minutes"
        client = shared.test_client()
        limiter.reset()
        assert sign_in(client, "guess@example.test", WRONG).status_code == 422
        assert sign_in(client, "guess@example.test", WRONG).status_code == 429
    finally:
        limiter.reset()
        limiter.init_app(app)  # the suite's app keeps its own storage
        with shared.app_context():
            db.engine.dispose()
