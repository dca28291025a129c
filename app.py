"""The application factory: `flask --app app run`, `gunicorn 'app:create_app()'`."""

import os
import sqlite3

import sqlalchemy as sa
from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, ValidationError

from config import Config, database_url_from_environment
from core.input_checks import MAX_ID
from extensions import babel, compress, csrf, db, limiter, login_manager, migrate


class DatabaseId(IntegerConverter):
    """``<int:...>`` in every route: ids the database can hold, else 404.

    A larger number would overflow the driver (a 500 on SQLite) before any
    lookup could answer "not found". It is refused with a 404 here rather than
    as a converter mismatch, which Werkzeug reports as a 405 when another method
    is routed at the same path.
    """

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


# Used only in debug and testing; any other start refuses to run without a key.
DEVELOPMENT_SECRET_KEY = "development-only-not-secret"


def create_app(config=None):
    """Build the app; ``config`` (a dict or an object) overrides every other source.

    Settings come from ``config.Config``, then ``instance/config.py``, then
    ``DATABASE_URL``, then ``FLASK_*`` environment variables, then ``config``.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = DatabaseId
    app.config.from_object(Config)
    app.config.from_pyfile("config.py", silent=True)
    database_url = database_url_from_environment()
    if database_url:
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    app.config.from_prefixed_env()
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    _finish_config(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    compress.init_app(app)

    from accounts import auth
    from calendars.feeds import serving
    from core import clock, http, security, unit_of_work

    auth.init_app(login_manager)

    clock.init_app(app)
    http.init_app(app)
    security.init_app(app)
    babel.init_app(app, locale_selector=http.select_locale)
    _enforce_sqlite_foreign_keys(app)
    _register_blueprints(app)
    serving.init_app(app)
    security.trust_proxies(app)
    # One commit per request. Registered after the other after_request hooks, so
    # that it runs before them: the answer of a failed commit still gets their
    # headers.
    unit_of_work.init_app(app)
    _connect_side_effects(app)
    _register_cli(app)
    _start_scheduler(app)
    return app


def _connect_side_effects(app):
    """Connect every side effect of a change, by name: the one place that does.

    Two mechanisms, each for one kind of effect:

    - Session hooks for what follows from the rows written, whoever writes
      them: the audit log's refusal to change or delete an event, and the feed
      stamps and event revisions. A hook sees every flush, so no service,
      present or future, can forget them.
    - Named blinker signals for domain events with intent, sent by a service
      after it acts ("a visit was booked", "a family joined group 7", "an
      account was deactivated"): planning reminders and revoking a closed
      account's feeds. The service says in the domain's words what happened,
      where a flush hook would have to guess it from dirty rows (and run
      queries in the middle of a flush); the sending package stays unaware of
      the receiving one, which sits to its right in the dependency order.

    Both run in the transaction of the change, so their writes commit or roll
    back with it. Connecting again (a second app in one process) adds nothing.
    The scheduler's jobs are listed here too; ``_start_scheduler`` and
    `flask --app app scheduler run` start them.
    """
    from calendars import receivers as calendar_receivers
    from calendars.feeds import stamps
    from casework import jobs as casework_jobs
    from core import audit
    from reminders import receivers as reminder_receivers
    from reminders.dispatcher import jobs as reminder_jobs

    # Session hooks.
    audit.connect()
    stamps.connect()
    # Signals.
    reminder_receivers.connect()
    calendar_receivers.connect()
    # The scheduler's jobs.
    app.extensions[reminder_jobs.SCHEDULED_JOBS] = (reminder_jobs.add_to,
                                                    casework_jobs.add_to)


def _start_scheduler(app):
    """Run the scheduler's jobs here only under `flask run` with SCHEDULER_ENABLED
    (`make run`), and only in the reloader's serving process."""
    if (app.config["SCHEDULER_ENABLED"] and not app.testing
            and os.environ.get("FLASK_RUN_FROM_CLI") == "true"
            and (not app.debug or os.environ.get("WERKZEUG_RUN_MAIN") == "true")):
        from reminders.dispatcher import jobs

        jobs.start(app)


def _finish_config(app):
    """Fill in what depends on other settings and refuse an unsafe start."""
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "perhetyo.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}
    if not app.config.get("SECRET_KEY") or app.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY:
        if not (app.debug or app.testing):
            raise RuntimeError(
                "SECRET_KEY is not set. Set FLASK_SECRET_KEY in the environment or "
                "SECRET_KEY in instance/config.py to a long random value "
                "(python -c 'import secrets; print(secrets.token_hex(32))').")
        app.config["SECRET_KEY"] = DEVELOPMENT_SECRET_KEY
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIMEZONE"]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = os.path.join(app.root_path, "translations")


def _enforce_sqlite_foreign_keys(app):
    """SQLite checks foreign keys only when asked to, per connection."""

    def on_connect(dbapi_connection, _record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sa.event.listen(db.engine, "connect", on_connect)


def _register_blueprints(app):
    from accounts import api as accounts_api
    from accounts import views as accounts_views
    from admin import policies as admin_policies
    from admin import views as admin_views
    from calendars import api as calendars_api
    from calendars import views as calendars_views
    from calendars import working_time_views
    from calendars.feeds import views as feed_views
    from casework import api as casework_api
    from casework import sessions as casework_sessions
    from casework import views as casework_views
    from casework import visits as casework_visits
    from core import api as core_api
    from families import api as families_api
    from families import views as families_views
    from groups import api as groups_api
    from groups import views as groups_views
    from matching import api as matching_api
    from matching import views as matching_views
    from reminders import api as reminders_api
    from reminders import views as reminders_views
    from reports import api as reports_api
    from reports import views as reports_views

    for blueprint in (accounts_views.bp, admin_views.bp, admin_policies.bp, families_views.bp,
                      casework_views.bp, casework_visits.bp, casework_sessions.bp,
                      groups_views.bp, calendars_views.bp, feed_views.bp,
                      matching_views.bp, reminders_views.bp, reminders_views.opt_out_bp,
                      reports_views.bp, working_time_views.bp):
        app.register_blueprint(blueprint)
    api = core_api.make_api(app)
    modules = (core_api, accounts_api, families_api, groups_api, calendars_api,
               matching_api, reminders_api, reports_api, casework_api)
    for module in modules:
        # Flask-WTF looks for a form's token; the API's own guard, below, for a
        # header's, and only where the session cookie signs a change.
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp)
    app.before_request(core_api.guard_unsafe_api_requests)
    core_api.register_openapi(app, api)


def _register_cli(app):
    import demo
    from accounts import cli as accounts_cli
    from casework import cli as casework_cli
    from core import cli as core_cli
    from matching import cli as matching_cli
    from reminders import cli as reminders_cli

    app.cli.add_command(core_cli.init_db)
    app.cli.add_command(accounts_cli.users)
    app.cli.add_command(casework_cli.families)
    app.cli.add_command(demo.seed_demo)
    app.cli.add_command(matching_cli.matching)
    app.cli.add_command(reminders_cli.reminders)
    app.cli.add_command(reminders_cli.scheduler)
