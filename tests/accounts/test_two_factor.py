"""Two-factor sign-in: enrolment, the second step, recovery codes, the admin's
reset, the limits, and secrets that a database dump alone does not give away."""

import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from accounts import services, two_factor
from accounts.models import RecoveryCode, User
from core.clock import FixedClock, set_clock
from core.models import AuditEvent
from extensions import db
from tests.conftest import (
    NOW,
    PASSWORD,
    SECOND_FACTORS,
    csrf_token_from,
    login,
    make_user,
    run_at_once,
    second_factor_code,
)


def html_of(response) -> str:
    return response.get_data(as_text=True)


def password_step(client, user, password=PASSWORD, next_path=None):
    page = client.get("/login")
    return client.post("/login", query_string={"next": next_path} if next_path else None,
                       data={"email": user.email, "password": password,
                             "csrf_token": csrf_token_from(html_of(page))})


def code_step(client, code):
    page = client.get("/login/two-factor")
    return client.post("/login/two-factor", data={
        "code": code, "csrf_token": csrf_token_from(html_of(page))})


def secret_on_page(html: str) -> str:
    return re.search(r'value="([A-Z2-7]{32})"[^>]*data-totp-secret', html).group(1)


def enrol_through_page(client, code_at=NOW):
    """Read the key on the set-up page and confirm with the app's code: the key, the
    recovery codes shown and the page showing them."""
    page = html_of(client.get("/account/two-factor"))
    secret = secret_on_page(page)
    response = client.post("/account/two-factor", data={
        "code": pyotp.TOTP(secret).at(code_at), "csrf_token": csrf_token_from(page)})
    assert response.status_code == 200, html_of(response)
    codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>",
                       html_of(response))
    return secret, codes, html_of(response)


def signed_in(client) -> bool:
    return client.get("/api/v1/me").status_code == 200


@pytest.fixture
def admin_unenrolled(app):
    return make_user("admin", municipalities=(), two_factor=False)


# --- enrolment ----------------------------------------------------------------

def test_an_admin_without_two_factor_is_taken_to_enrol_and_is_not_signed_in(
        client, admin_unenrolled):
    response = password_step(client, admin_unenrolled)
    assert response.headers["Location"].endswith("/account/two-factor")
    assert not signed_in(client)
    assert client.get("/account").status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")
    page = client.get("/account/two-factor")
    assert page.status_code == 200
    assert "<svg" in html_of(page) and "Set up two-factor sign-in" in html_of(page)


def test_enrolment_signs_in_and_shows_ten_recovery_codes_once(client, admin_unenrolled):
    password_step(client, admin_unenrolled, next_path="/families/")
    _secret, codes, page = enrol_through_page(client)
    assert len(codes) == two_factor.RECOVERY_CODE_COUNT == len(set(codes))
    assert 'class="button primary" href="/families/"' in page
    assert signed_in(client)
    db.session.expire_all()
    assert admin_unenrolled.two_factor_enrolled
    # The codes are not on any later page.
    assert not any(code in html_of(client.get("/account")) for code in codes)
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "account.two_factor_enrol"))
    assert event is not None and event.target_id == admin_unenrolled.id


def test_a_wrong_code_does_not_finish_enrolment(client, admin_unenrolled):
    password_step(client, admin_unenrolled)
    page = html_of(client.get("/account/two-factor"))
    secret = secret_on_page(page)
    wrong = pyotp.TOTP(secret).at(NOW + timedelta(minutes=5))
    for code in (wrong, "", "12345", "abcdef", "1" * 41, "١٢٣٤٥٦"):
        response = client.post("/account/two-factor", data={
            "code": code, "csrf_token": csrf_token_from(page)})
        assert response.status_code == 422, code
    assert not signed_in(client)
    # The key stays while the set-up is unfinished: the QR code scanned still works.
    assert secret_on_page(html_of(client.get("/account/two-factor"))) == secret


def test_anyone_may_enrol_from_their_account_page(client, coordinator):
    login(client, coordinator)
    assert "Set up two-factor sign-in" in html_of(client.get("/account"))
    secret, codes, _page = enrol_through_page(client)
    assert len(codes) == 10
    client.post("/logout", data={"csrf_token": csrf_token_from(
        html_of(client.get("/account")))})
    assert password_step(client, coordinator).headers["Location"].endswith(
        "/login/two-factor")
    assert code_step(client, pyotp.TOTP(secret).at(NOW + timedelta(seconds=30))) \
        .status_code == 302
    assert signed_in(client)


def test_the_setting_requires_two_factor_of_every_role_listed(app, client, coordinator,
                                                               monkeypatch):
    login(client, coordinator)
    assert signed_in(client)
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED_ROLES", "admin, coordinator")
    # A session of before the setting is no session now.
    assert not signed_in(client)
    assert password_step(client, coordinator).headers["Location"].endswith(
        "/account/two-factor")
    assert not signed_in(client)
    enrol_through_page(client)
    assert signed_in(client)


# --- the pending half of a sign-in is not a session ----------------------------

def _get_rules_without_arguments(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static":
            yield rule.rule


@pytest.mark.parametrize("stage", ["second_factor", "enrolment"])
def test_between_the_steps_every_page_and_api_answers_as_to_a_stranger(
        app, client, admin, admin_unenrolled, stage):
    """An enumeration of every GET route: half-signed-in answers as anonymous."""
    stranger = app.test_client()
    user = admin if stage == "second_factor" else admin_unenrolled
    password_step(client, user)
    different = []
    for path in _get_rules_without_arguments(app):
        if path in ("/login/two-factor", "/account/two-factor"):
            continue
        mine, theirs = client.get(path), stranger.get(path)
        if (mine.status_code, mine.headers.get("Location")) != \
                (theirs.status_code, theirs.headers.get("Location")):
            different.append(f"{path}: {mine.status_code} vs {theirs.status_code}")
    assert different == []


def test_the_pending_state_expires(app, client, admin):
    password_step(client, admin)
    set_clock(app, FixedClock(NOW + timedelta(minutes=11)))
    response = client.get("/login/two-factor")
    assert response.headers["Location"].startswith("/login")


# --- the second step -----------------------------------------------------------

def test_a_code_of_this_step_the_one_before_or_after_signs_in(app, admin):
    secret = SECOND_FACTORS[admin.email][0]
    for offset in (0, 30):  # the enrolment took NOW - 30 s; these are later steps
        client = app.test_client()
        password_step(client, admin)
        response = code_step(client, pyotp.TOTP(secret).at(NOW + timedelta(seconds=offset)))
        assert response.status_code == 302, offset
        assert signed_in(client)


def test_codes_two_steps_away_are_refused(client, admin):
    secret = SECOND_FACTORS[admin.email][0]
    password_step(client, admin)
    for offset in (-90, -60, 60, 90):
        response = code_step(client, pyotp.TOTP(secret).at(NOW + timedelta(seconds=offset)))
        assert response.status_code == 422, offset
    assert not signed_in(client)


def test_a_code_signs_in_once(app, admin):
    code = pyotp.TOTP(SECOND_FACTORS[admin.email][0]).at(NOW)
    first, second = app.test_client(), app.test_client()
    password_step(first, admin)
    assert code_step(first, code).status_code == 302
    password_step(second, admin)
    refused = code_step(second, code)
    assert refused.status_code == 422
    assert "already used" in html_of(refused)
    # Nor an earlier step's code once a later one was taken.
    earlier = pyotp.TOTP(SECOND_FACTORS[admin.email][0]).at(NOW - timedelta(seconds=30))
    assert code_step(second, earlier).status_code == 422


def test_the_same_code_at_once_in_two_requests_signs_in_once(app, admin):
    secret = SECOND_FACTORS[admin.email][0]
    code = pyotp.TOTP(secret).at(NOW + timedelta(seconds=30))
    user_id, key = admin.id, app.config["SECRET_KEY"]
    lockout = services.Lockout(100, 15)

    def use():
        return services.verify_second_factor(db.session.get(User, user_id), code,
                                             secret_key=key, now=NOW, lockout=lockout)

    results = run_at_once(app, [use] * 4)
    assert sorted(results, key=str) == [None, None, None, "totp"]


def test_a_recovery_code_signs_in_once(app, admin):
    code = SECOND_FACTORS[admin.email][1][0]
    first = app.test_client()
    password_step(first, admin)
    response = code_step(first, code.upper().replace("-", " "))
    assert response.status_code == 302
    assert "9 unused codes are left" in html_of(first.get("/account"))
    second = app.test_client()
    password_step(second, admin)
    assert code_step(second, code).status_code == 422
    assert db.session.scalar(sa.select(AuditEvent.id).where(
        AuditEvent.action == "account.recovery_code_used")) is not None


def test_the_same_recovery_code_at_once_in_two_requests_signs_in_once(app, admin):
    code = SECOND_FACTORS[admin.email][1][-1]
    user_id, key = admin.id, app.config["SECRET_KEY"]
    lockout = services.Lockout(100, 15)

    def use():
        return services.verify_second_factor(db.session.get(User, user_id), code,
                                             secret_key=key, now=NOW, lockout=lockout)

    results = run_at_once(app, [use] * 4)
    assert sorted(results, key=str) == [None, None, None, "recovery"]


def test_new_recovery_codes_replace_the_old(client, admin):
    old = SECOND_FACTORS[admin.email][1][1]
    login(client, admin)
    page = html_of(client.get("/account"))
    response = client.post("/account/two-factor/recovery-codes",
                           data={"csrf_token": csrf_token_from(page)})
    new = re.findall(r"<code>([a-z2-7-]{19})</code>", html_of(response))
    assert len(new) == 10
    other = client.application.test_client()
    password_step(other, admin)
    assert code_step(other, old).status_code == 422
    assert code_step(other, new[0]).status_code == 302


def test_wrong_codes_count_against_the_account_like_wrong_passwords(app, admin, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_FAILURES", 3)
    client = app.test_client()
    password_step(client, admin)
    for _ in range(3):
        assert code_step(client, "000000").status_code == 422
    db.session.expire_all()
    assert admin.locked(NOW)
    # Paused: even the right code does not sign in now.
    assert code_step(client, second_factor_code(admin)).status_code == 422
    assert not signed_in(client)


def test_wrong_codes_count_against_the_per_account_limit(app, admin, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per 10 minutes")
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_FAILURES", 100)
    client = app.test_client()
    password_step(client, admin)
    assert code_step(client, "000000").status_code == 422
    assert code_step(client, "111111").status_code == 422
    # The password step shares the account's count: a wrong password is the third.
    elsewhere = app.test_client()
    assert password_step(elsewhere, admin, password="wrong password").status_code == 422
    limited = code_step(client, second_factor_code(admin))
    assert limited.status_code == 429
    assert "Too many failed sign-ins" in html_of(limited)


def test_wrong_codes_count_against_the_per_address_limit(app, admin, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "2 per 10 minutes")
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_FAILURES", 100)
    client = app.test_client()
    password_step(client, admin)
    assert code_step(client, "000000").status_code == 422
    assert code_step(client, "111111").status_code == 422
    assert code_step(client, second_factor_code(admin)).status_code == 429
    assert password_step(client, admin).status_code == 429


# --- the admin's reset -------------------------------------------------------------

def test_an_admin_resets_a_lost_second_factor(app, client, admin):
    other = make_user("admin", municipalities=())
    phone = app.test_client()
    login(phone, other)
    login(client, admin)
    page = html_of(client.get(f"/admin/users/{other.id}/edit"))
    assert "Reset two-factor sign-in" in page
    response = client.post(f"/admin/users/{other.id}/two-factor/reset",
                           data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    db.session.expire_all()
    assert not other.two_factor_enrolled and other.totp_secret is None
    assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == other.id)) == 0
    assert not signed_in(phone)  # every session ended
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "user.two_factor_reset"))
    assert event.actor_id == admin.id and event.target_id == other.id
    # The next sign-in sets it up again.
    assert password_step(phone, other).headers["Location"].endswith("/account/two-factor")


def test_only_admins_reset_and_only_with_the_token(app, client, admin, coordinator):
    login(client, coordinator)
    page = html_of(client.get("/account"))
    assert client.post(f"/admin/users/{admin.id}/two-factor/reset",
                       data={"csrf_token": csrf_token_from(page)}).status_code == 403
    other = app.test_client()
    login(other, make_user("admin", municipalities=()))
    assert other.post(f"/admin/users/{admin.id}/two-factor/reset").status_code == 400
    db.session.expire_all()
    assert admin.two_factor_enrolled


# --- secrets at rest ---------------------------------------------------------------

def test_a_database_dump_holds_neither_the_totp_secret_nor_the_recovery_codes(app, admin):
    secret, codes = SECOND_FACTORS[admin.email]
    with db.engine.connect() as connection:
        rows = [tuple(row) for table in ("users", "recovery_codes")
                for row in connection.execute(sa.text(f"SELECT * FROM {table}"))]
    dump = repr(rows)
    assert secret not in dump and secret.lower() not in dump
    assert not any(code in dump or code.replace("-", "") in dump for code in codes)
    sealed = db.session.scalar(sa.select(User.totp_secret).where(User.id == admin.id))
    assert two_factor.unseal(sealed, app.config["SECRET_KEY"]) == secret
    with pytest.raises(two_factor.SealBroken):
        two_factor.unseal(sealed, "another key")


def test_a_changed_sealed_secret_is_refused():
    sealed = two_factor.seal("JBSWY3DPEHPK3PXP", "key")
    raw = bytearray(__import__("base64").urlsafe_b64decode(sealed))
    raw[20] ^= 1
    changed = __import__("base64").urlsafe_b64encode(bytes(raw)).decode()
    with pytest.raises(two_factor.SealBroken):
        two_factor.unseal(changed, "key")
    for garbage in ("", "not base64 !", "AAAA"):
        with pytest.raises(two_factor.SealBroken):
            two_factor.unseal(garbage, "key")
    assert two_factor.seal("same", "key") != two_factor.seal("same", "key")  # nonce


def test_the_second_step_never_answers_500_to_bad_input(client, admin):
    password_step(client, admin)
    page = html_of(client.get("/login/two-factor"))
    for code in ("", " ", "x" * 5000, "12 34 56 78", "\u0000", "۱۲۳۴۵۶",
                 "--------", "a" * 16):
        response = client.post("/login/two-factor",
                               data={"code": code, "csrf_token": csrf_token_from(page)})
        assert response.status_code in (400, 422), (code, response.status_code)


def test_a_new_secret_key_with_the_old_as_fallback_keeps_second_factors(app, admin,
                                                                        monkeypatch):
    old = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-secret-key-for-the-test")
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old])
    client = app.test_client()
    password_step(client, admin)
    assert code_step(client, second_factor_code(admin)).status_code == 302
    db.session.expire_all()
    # Sealed again with the new key: it opens without the fallback now.
    assert two_factor.unseal(admin.totp_secret, "a-new-secret-key-for-the-test") == \
        SECOND_FACTORS[admin.email][0]
