"""`flask users create` and `flask users token`."""

from accounts.models import User
from extensions import db


def test_users_create_with_role_and_municipalities(runner):
    result = runner.invoke(args=[
        "users", "create", "Sari.Saarinen@Example.test", "--role", "coordinator",
        "--name", "Sari Saarinen", "--municipality", "Mikkeli", "--municipality", "Puumala",
        "--password", "salasana kesäyö 123"])
    assert result.exit_code == 0, result.output
    user = db.session.scalars(db.select(User)).one()
    assert user.email == "sari.saarinen@example.test"
    assert [m.name for m in user.municipalities] == ["Mikkeli", "Puumala"]
    assert user.password_hash != "salasana kesäyö 123"


def test_users_create_reads_the_password_from_standard_input(runner):
    result = runner.invoke(args=["users", "create", "pekka@example.test", "--role",
                                 "family_worker"], input="pitkasalasana\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalars(db.select(User)).one().name == "pekka"


def test_users_create_refuses_bad_input_clearly(runner):
    unknown_place = runner.invoke(args=["users", "create", "a@example.test", "--role", "admin",
                                        "--municipality", "Atlantis", "--password", "x" * 12])
    assert unknown_place.exit_code != 0
    assert "Unknown municipality" in unknown_place.output
    short = runner.invoke(args=["users", "create", "b@example.test", "--role", "admin",
                                "--password", "short"])
    assert short.exit_code != 0
    assert "at least 12" in short.output
    bad_role = runner.invoke(args=["users", "create", "c@example.test", "--role", "boss",
                                   "--password", "x" * 12])
    assert bad_role.exit_code != 0
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_users_create_refuses_a_duplicate(runner):
    args = ["users", "create", "d@example.test", "--role", "admin", "--password", "x" * 12]
    assert runner.invoke(args=args).exit_code == 0
    duplicate = runner.invoke(args=args)
    assert duplicate.exit_code != 0
    assert "already exists" in duplicate.output


def test_users_token_prints_a_working_token_alone(runner, client, coordinator):
    result = runner.invoke(args=["users", "token", coordinator.email])
    assert result.exit_code == 0
    secret = result.stdout.strip()
    assert "\n" not in secret
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.get_json()["email"] == coordinator.email


def test_users_token_for_an_unknown_user_fails(runner):
    result = runner.invoke(args=["users", "token", "nobody@example.test"])
    assert result.exit_code != 0
