"""No secret that opens something is kept in clear: a dump of the database holds
the SHA-256 of each feed URL, API token and opt-out link, never the secret.

The secrets are looked up by their hash, so the time a lookup takes depends on
the hash of what was sent, which an attacker cannot steer towards a stored
one: nothing about a stored secret can be learnt from timing.
"""

import os
import re
import sqlite3
import subprocess
from urllib.parse import unquote, urlsplit

import pytest
import sqlalchemy as sa

from accounts.services import issue_api_token
from calendars import services as calendar_services
from core.clock import FixedClock
from core.tokens import hash_secret
from extensions import db
from tests.conftest import NOW, make_family, make_user, require
from tests.reminders.helpers import at, book, dispatch


def database_dump(app) -> str:
    """The database as its own dump tool writes it."""
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    db.session.commit()
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as connection:
            return "\n".join(connection.iterdump())
    schema = re.search(r"search_path%3D(\w+)|search_path=(\w+)",
                       app.config["SQLALCHEMY_DATABASE_URI"])
    if schema is None:
        pytest.fail("the PostgreSQL test database has no schema of its own")
    dsn = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    try:
        return subprocess.run(
            ["pg_dump", "--data-only", f"--schema={schema.group(1) or schema.group(2)}",
             dsn], check=True, capture_output=True, text=True, timeout=120,
            env={**os.environ, "PGCONNECT_TIMEOUT": "10"}).stdout
    except FileNotFoundError:
        require("pg_dump", "pg_dump is not installed")
        raise


@pytest.fixture
def secrets(app, coordinator):
    """One live secret of each kind, as their holders received them."""
    worker = make_user("family_worker")
    family = make_family(coordinator, workers=[worker], plan=True)
    api_token = issue_api_token(worker, clock=FixedClock(NOW))
    _, feed_secret = calendar_services.create_feed(
        worker, owner_type="worker", owner_id=worker.id, detailed_allowed=False,
        clock=FixedClock(NOW))
    db.session.commit()
    book(coordinator, family, at(12, 2, 10))
    _, channels = dispatch(at(12, 1, 10, 1))
    [message] = channels["sms"].sent
    link = re.search(r"https?://\S+/r/\S+", message.body).group(0)
    opt_out_secret = unquote(urlsplit(link).path.rsplit("/", 1)[1])
    return {"API token": api_token, "feed URL": feed_secret, "opt-out link": opt_out_secret}


def test_a_database_dump_holds_only_hashes_of_secrets(app, secrets):
    dump = database_dump(app)
    for kind, secret in secrets.items():
        assert len(secret) >= 22, kind  # at least 128 bits, URL-safe
        assert secret not in dump, f"the {kind} is in the dump in clear"
        assert hash_secret(secret) in dump, f"the {kind}'s hash is not in the dump"


def test_the_secrets_work(client, secrets):
    """The secrets of the dump test are real ones: each opens what it should."""
    assert client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {secrets['API token']}"}).status_code == 200
    assert client.get(f"/calendars/feeds/{secrets['feed URL']}.ics").status_code == 200
    assert client.get(f"/r/{secrets['opt-out link']}").status_code == 200
