"""Visit and session ids never reused on SQLite (AUTOINCREMENT)

A visit's or a session's id is its calendar feed UID. Without AUTOINCREMENT,
SQLite gives the next row the highest id in use plus one, so deleting the
latest visit and booking another gave the new one the deleted one's id, and
subscribed calendars kept the stale copy of that UID. PostgreSQL's sequences
never reuse an id: nothing changes there.

SQLite cannot add AUTOINCREMENT to a table, so both tables are rebuilt (batch
mode: a copy, the old table dropped, the copy renamed). Dropping a table with
foreign keys on would delete or refuse the rows that refer to it (a visit's
workers, a session's attendance); ``migrations/env.py`` runs SQLite migrations
with them off and checks every foreign key before each migration commits, and
this migration refuses to run otherwise.

Revision ID: abb128b5c6bc
Revises: a7c3e9d14b62
Create Date: 2026-12-03 20:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'abb128b5c6bc'
down_revision = 'a7c3e9d14b62'
branch_labels = None
depends_on = None

TABLES = ("home_visits", "group_sessions")


def _rebuild(autoincrement: bool) -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    if op.get_bind().exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "Rebuilding home_visits and group_sessions with foreign keys on would "
            "delete the rows that refer to them; run this migration through "
            "migrations/env.py, which turns them off on SQLite.")
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always",
                                  table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass


def upgrade():
    _rebuild(autoincrement=True)


def downgrade():
    _rebuild(autoincrement=False)
