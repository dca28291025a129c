"""What the benchmark scripts share: a database of their own for one run."""

import os
import tempfile
import uuid
from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def throwaway_database():
    """The URL of a database for one run, removed afterwards.

    A schema of its own in the PostgreSQL of BENCH_DATABASE_URL when that is
    set, else a SQLite file in a temporary folder. The caller disposes of its
    own engine before leaving the block.
    """
    base_url = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as folder:
        if not base_url:
            yield f"sqlite:///{folder}/bench.sqlite3"
            return
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
        separator = "&" if "?" in base_url else "?"
        try:
            yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
