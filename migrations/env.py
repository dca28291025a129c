"""Alembic's environment: migrations run against the app's own engine."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
# Keep the app's loggers (and the test suite's capture) alive.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url",
    target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%"))


def run_migrations_offline():
    """Write the SQL of the migrations instead of running them (`flask db upgrade --sql`)."""
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_db.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run the migrations on a connection of the app's engine."""

    def process_revision_directives(context, revision, directives):
        # `flask db migrate` with no model change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False) and \
                directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    configure_args = dict(current_app.extensions["migrate"].configure_args)
    configure_args.setdefault("process_revision_directives", process_revision_directives)
    with target_db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            configure_args["on_version_apply"] = _check_foreign_keys
            _set_foreign_keys(connection, on=False)
        try:
            context.configure(connection=connection, target_metadata=target_db.metadata,
                              **configure_args)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if sqlite:
                connection.rollback()  # what a failed migration left open
                _set_foreign_keys(connection, on=True)


def _set_foreign_keys(connection, *, on: bool) -> None:
    """Turn SQLite's foreign keys on or off for this connection.

    Off while migrating: batch mode rebuilds a table by copying it and dropping
    the old one, and with foreign keys on the drop deletes (ON DELETE CASCADE)
    or refuses the rows of other tables that refer to it. The pragma does
    nothing inside a transaction, so it is set outside one (and Alembic runs
    each SQLite migration in a transaction of its own, after this).
    """
    connection.commit()
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


def _check_foreign_keys(*, ctx, step, **_kw):
    """Refuse a SQLite migration that leaves a row referring to nothing, inside its
    own transaction, so that it rolls back (Alembic's ``on_version_apply``)."""
    broken = ctx.connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(
            f"The migration to {', '.join(step.destination_revision_ids) or 'base'} left "
            f"rows whose foreign keys refer to nothing (table, rowid, parent, foreign "
            f"key): {broken[:20]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
