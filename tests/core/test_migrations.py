"""The migrations build an empty database, and they match the models exactly."""

import os
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from config import TestConfig, settings
from extensions import db
from tests.conftest import _with_search_path, require


def migrated_app(url):
    return create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI=url))


def differences(app):
    """What Alembic's autogenerate would still write: empty when they match."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrations_build_sqlite_and_match_the_models(tmp_path):
    app = migrated_app(f"sqlite:///{tmp_path / 'migrated.sqlite3'}")
    with app.app_context():
        upgrade()
        tables = set(sa.inspect(db.engine).get_table_names())
    assert {"families", "members", "plans", "users", "audit_events"} <= tables
    assert differences(app) == []
    with app.app_context():
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_migrations_build_postgresql_and_match_the_models():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        require("POSTGRES", "TEST_DATABASE_URL is not set")
    schema = f"migrate_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        app = migrated_app(_with_search_path(url, schema))
        with app.app_context():
            upgrade()
            assert "families" in sa.inspect(db.engine).get_table_names()
        assert differences(app) == []
        with app.app_context():
            db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_a_model_change_without_a_migration_is_detected(tmp_path):
    app = migrated_app(f"sqlite:///{tmp_path / 'drift.sqlite3'}")
    with app.app_context():
        upgrade()
    extra = sa.Table("unmigrated_table", db.metadata, sa.Column("id", sa.Integer,
                                                                primary_key=True))
    try:
        assert any(diff[0] == "add_table" and diff[1].name == "unmigrated_table"
                   for diff in differences(app))
    finally:
        db.metadata.remove(extra)
        with app.app_context():
            db.engine.dispose()


def _group_row(name: str) -> dict:
    moment = datetime(2026, 12, 1, 10, tzinfo=UTC)
    return {"name": name, "description": "", "themes": [], "min_age_months": 0,
            "max_age_months": 72, "tracks": ["preventive"], "language": "fi",
            "capacity": 5, "status": "draft", "roster_version": 0,
            "created_at": moment, "updated_at": moment}


def _titles_after_the_public_title_migration(app) -> dict:
    names = ("Vauvaryhmä", "Lastensuojelun vanhempainryhmä",
             "Sijoitettujen lasten vanhempien ryhmä", "  Isien ilta ")
    with app.app_context():
        upgrade(revision="f4539a4b2119")
        table = sa.Table("peer_groups", sa.MetaData(), autoload_with=db.engine)
        with db.engine.begin() as connection:
            for name in names:
                connection.execute(table.insert().values(**_group_row(name)))
        upgrade()
        with db.engine.connect() as connection:
            titles = dict(connection.execute(sa.text(
                "SELECT name, public_title FROM peer_groups")).all())
        db.engine.dispose()
    return titles


EXPECTED_TITLES = {"Vauvaryhmä": "Vauvaryhmä", "Lastensuojelun vanhempainryhmä": "",
                   "Sijoitettujen lasten vanhempien ryhmä": "", "  Isien ilta ": "Isien ilta"}


def test_existing_groups_get_a_public_title_only_where_their_name_may_leave_sqlite(
        tmp_path):
    app = migrated_app(f"sqlite:///{tmp_path / 'titles.sqlite3'}")
    assert _titles_after_the_public_title_migration(app) == EXPECTED_TITLES


def test_existing_groups_get_a_public_title_only_where_their_name_may_leave_postgresql():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        require("POSTGRES", "TEST_DATABASE_URL is not set")
    schema = f"titles_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        app = migrated_app(_with_search_path(url, schema))
        assert _titles_after_the_public_title_migration(app) == EXPECTED_TITLES
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


# The head before visits' and sessions' ids were made never to be reused on SQLite.
BEFORE_AUTOINCREMENT = "a7c3e9d14b62"
# Every table with rows that refer to a visit or a session, or that a rebuild of
# theirs could lose, and the rebuilt tables themselves.
KEPT_TABLES = ("home_visits", "visit_workers", "group_sessions", "attendance", "reminders",
               "enrollments", "enrollment_members", "families", "members")


def _calendar_with_dependents():
    """Visits with workers and reminders, and sessions with attendance, booked
    through the services on the schema of BEFORE_AUTOINCREMENT."""
    from calendars import services as calendar_services
    from calendars.conflicts import TravelPolicy
    from core.clock import FixedClock
    from core.places import ensure_reference_data
    from groups import enrollment as group_enrollment
    from groups.models import Attendance
    from tests.conftest import HELSINKI, NOW, make_family, make_group, make_user

    ensure_reference_data()
    coordinator = make_user("coordinator")
    worker = make_user("family_worker")
    family = make_family(coordinator, workers=[worker], plan=True)
    settings = calendar_services.CalendarSettings(TravelPolicy(1.2, 15),
                                                  "1-5 08:00-16:00", 15)
    for day in (2, 3, 4):
        start = datetime(2026, 12, day, 10, tzinfo=HELSINKI)
        calendar_services.book_visit(
            coordinator, family, kind="home_visit", start=start,
            end=start.replace(hour=11), worker_ids=[worker.id], zone=HELSINKI,
            settings=settings, clock=FixedClock(NOW))
    group = make_group(coordinator, facilitators=[worker])
    guardian = next(member for member in family.members if member.role == "guardian")
    group_enrollment.enroll(coordinator, group, family, [guardian.id], zone=HELSINKI,
                            clock=FixedClock(NOW))
    for session in group.sessions:
        db.session.add(Attendance(session=session, member=guardian, present=True,
                                  recorded_by_id=worker.id, recorded_at=NOW))
    db.session.commit()


def _row_counts() -> dict:
    with db.engine.connect() as connection:
        return {table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
                for table in KEPT_TABLES}


def _table_sql(name: str) -> str:
    with db.engine.connect() as connection:
        return connection.execute(sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": name}).scalar()


def test_sqlite_ids_become_autoincrement_and_every_dependent_row_stays(tmp_path):
    app = migrated_app(f"sqlite:///{tmp_path / 'autoincrement.sqlite3'}")
    with app.app_context():
        upgrade(revision=BEFORE_AUTOINCREMENT)
        _calendar_with_dependents()
        db.session.remove()
        before = _row_counts()
        assert all(before.values()), before

        upgrade()
        assert _row_counts() == before
        assert all("AUTOINCREMENT" in _table_sql(table)
                   for table in ("home_visits", "group_sessions"))
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(sa.text("PRAGMA foreign_key_check")).all() == []

        downgrade(revision=BEFORE_AUTOINCREMENT)
        assert _row_counts() == before
        assert not any("AUTOINCREMENT" in _table_sql(table)
                       for table in ("home_visits", "group_sessions"))
        db.engine.dispose()
