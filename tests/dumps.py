"""A dump of the test database, for tests that look for what must not be in it."""

import os
import re
import sqlite3
import subprocess

import pytest
import sqlalchemy as sa

from extensions import db
from tests.conftest import require


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
