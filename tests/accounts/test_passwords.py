"""The password rule (NIST SP 800-63B): 12 characters or more of any kind, none of
the common ones, compared in NFKC; checked on every path that sets a password."""

import gzip
import re
import unicodedata

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from accounts import services
from accounts.models import User
from core.clock import FixedClock
from core.errors import ValidationFailed
from extensions import db
from tests.conftest import NOW, PASSWORD, csrf_token_from, login, make_user

SHORT = "elevenchars"  # 11
COMMON = "qwerty123456"


def html_of(response) -> str:
    return response.get_data(as_text=True)


def common_passwords_of_length():
    with gzip.open(services.COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return [line.strip() for line in lines
                if len(unicodedata.normalize("NFKC", line.strip())) >= 12]


def test_the_bundled_list_is_the_full_list():
    with gzip.open(services.COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        assert sum(1 for _ in lines) > 19_000


def test_every_common_password_long_enough_is_refused_in_any_case():
    refused = common_passwords_of_length()
    assert len(refused) > 100
    for password in refused:
        assert services.password_problem(password) is not None, password
        assert services.password_problem(password.upper()) is not None, password


def test_the_rule_is_length_only_no_composition():
    assert services.password_problem(SHORT) is not None
    assert services.password_problem("x" * 11 + "é") is None
    for password in ("kaikki pienellä kirjoitettuna", "ÄÄÄÄÄÄÄÄÄÄÄÄ", "🦊🦊🦊🦊🦊🦊🦊🦊🦊🦊🦊🦊",
                     "           x", "пароль длинный"):
        assert services.password_problem(password) is None, password


def test_length_is_counted_after_nfkc():
    # U+FB01 (ﬁ) is two characters in NFKC; eleven of them make 22.
    assert services.password_problem("\ufb01" * 6) is None
    # A combining accent: "e" + U+0301 is one character "é" in NFKC.
    assert services.password_problem("e\u0301" * 6) is not None


def test_a_password_signs_in_typed_in_another_unicode_form(client, coordinator):
    services.set_password(coordinator, "Ｋｅｓäｙö ｊäｒｖｅｌｌä",
                          hash_method="pbkdf2:sha256:1000")
    db.session.commit()
    login(client, coordinator, password="Kesäyö järvellä")
    assert client.get("/api/v1/me").status_code == 200


def test_a_password_set_before_the_rule_still_signs_in(client, coordinator):
    for old in ("lyhyt1", "Ａｂｃ 1"):  # short, and hashed as typed (not NFKC)
        db.session.execute(sa.update(User).where(User.id == coordinator.id).values(
            password_hash=generate_password_hash(old, method="pbkdf2:sha256:1000")))
        db.session.commit()
        fresh = client.application.test_client()
        login(fresh, coordinator, password=old)


# --- every path that sets a password --------------------------------------------

def _admin_form(client, admin, path, fields):
    login(client, admin)
    page = html_of(client.get(path if path.endswith("/new") else
                              path.replace("/password", "/edit")))
    return client.post(path, data={**fields, "csrf_token": csrf_token_from(page)})


def _via_new_user_form(client, admin, password):
    response = _admin_form(client, admin, "/admin/users/new", {
        "name": "Liisa Laine", "email": "liisa@example.test", "role": "coordinator",
        "locale": "fi", "password": password, "confirm": password})
    return response.status_code == 302, html_of(response)


def _via_password_form(client, admin, password):
    target = make_user("family_worker")
    response = _admin_form(client, admin, f"/admin/users/{target.id}/password",
                           {"password": password, "confirm": password})
    return response.status_code == 302, html_of(response)


def _via_cli(client, admin, password):
    runner = client.application.test_cli_runner()
    result = runner.invoke(args=["users", "create", "cli@example.test", "--role",
                                 "coordinator", "--password", password])
    return result.exit_code == 0, result.output


def _via_cli_standard_input(client, admin, password):
    runner = client.application.test_cli_runner()
    result = runner.invoke(args=["users", "create", "stdin@example.test", "--role",
                                 "coordinator"], input=password + "\n")
    return result.exit_code == 0, result.output


def _via_service(client, admin, password):
    try:
        services.create_user(email="svc@example.test", name="S", role="coordinator",
                             password=password, clock=FixedClock(NOW),
                             hash_method="pbkdf2:sha256:1000")
    except ValidationFailed as error:
        return False, str(error.fields)
    return True, ""


PATHS = [_via_new_user_form, _via_password_form, _via_cli, _via_cli_standard_input,
         _via_service]


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.__name__)
@pytest.mark.parametrize(("password", "reason"), [
    (SHORT, "at least 12 characters"), (COMMON, "most common"),
    (COMMON.upper(), "most common"), ("\uff51\uff57\uff45\uff52\uff54\uff59123456",
                                      "most common")])
def test_every_path_that_sets_a_password_refuses_a_weak_one(client, admin, path, password,
                                                             reason):
    accepted, said = path(client, admin, password)
    assert not accepted
    assert reason in said


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.__name__)
def test_every_path_that_sets_a_password_takes_a_long_uncommon_one(client, admin, path):
    accepted, said = path(client, admin, "kesäyön järvi on tyyni")
    assert accepted, said


def test_the_pages_say_the_rule(client, admin):
    login(client, admin)
    page = html_of(client.get("/admin/users/new"))
    assert re.search(r"At least 12 characters of any kind", page)


def test_no_api_operation_sets_a_password(app):
    """The API has no password field: if one appears, its path must check the rule."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert "password" not in repr(document).lower()


def test_the_suite_password_meets_the_rule():
    assert services.password_problem(PASSWORD) is None
