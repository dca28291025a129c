"""Configuration: defaults, the environment, and refusing an unsafe start."""

import pytest

from app import create_app


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "FLASK_SECRET_KEY", "FLASK_SQLALCHEMY_DATABASE_URI",
                 "FLASK_DEBUG", "FLASK_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_start_without_a_secret_key_is_refused(clean_environment, tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3"})


def test_a_real_secret_key_from_the_environment_is_used(clean_environment, tmp_path):
    clean_environment.setenv("FLASK_SECRET_KEY", "a" * 64)
    clean_environment.setenv("FLASK_TIMEZONE", "Europe/Stockholm")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3"})
    assert app.config["SECRET_KEY"] == "a" * 64
    assert app.config["TIMEZONE"] == "Europe/Stockholm"
    assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Europe/Stockholm"


def test_database_url_selects_postgresql_through_psycopg(clean_environment):
    clean_environment.setenv("DATABASE_URL", "postgres://user@db.internal/perhetyo")
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == \
        "postgresql+psycopg://user@db.internal/perhetyo"


def test_sqlite_in_the_instance_folder_by_default(clean_environment):
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == \
        f"sqlite:///{app.instance_path}/perhetyo.sqlite3"
    assert app.config["TIMEZONE"] == "Europe/Helsinki"


@pytest.mark.parametrize("path", ["/families/99999999999999999999",
                                  "/api/v1/families/9223372036854775808",
                                  "/groups/99999999999999999999"])
def test_ids_beyond_the_database_are_not_found(client, coordinator, path):
    from tests.conftest import bearer, login

    login(client, coordinator)
    assert client.get(path, headers=bearer(coordinator)).status_code == 404


def test_an_id_beyond_the_database_is_not_found_for_any_method(client, coordinator):
    """Not 405: another method routed at the same path must not make it look allowed."""
    from tests.conftest import bearer

    answer = client.delete("/api/v1/families/1/members/9223372036854775808",
                           headers=bearer(coordinator))
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "not_found"
