"""Fixtures: one app and schema per worker, clean tables per test, factories.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL
is set; each worker then works in a database (and schema) of its own on that
server, dropped at the end.
`make test` runs it in parallel (pytest-xdist, ``--dist loadfile``): every
worker is a session of its own, with its own database, temporary folders,
ports and Redis keys (tests/workers.py), and the tests of one file run on one
worker, so that a module's fixtures (a gunicorn server, a seeded demo, the
browser's site) are built once.
"""

import os
import re
import threading
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pyotp
import pytest
import sqlalchemy as sa
from flask import current_app, g, has_app_context
from flask.testing import FlaskClient
from flask_babel import refresh

from accounts import services as accounts_services
from app import create_app
from config import TestConfig, settings
from core.clock import FixedClock, set_clock
from core.places import ensure_reference_data
from extensions import db, limiter
from families import services as family_services
from tests.servers import WAIT_SECONDS
from tests.workers import worker_name

HELSINKI = ZoneInfo("Europe/Helsinki")
# A Monday morning in late November: the suite's "now".
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=HELSINKI)
PASSWORD = "correct horse battery"


def require(component: str, reason: str):
    """Skip for a missing component, or fail where CI requires it (REQUIRE_*)."""
    if os.environ.get(f"REQUIRE_{component}") == "1":
        pytest.fail(f"{component} is required here but missing: {reason}")
    pytest.skip(reason)


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A database for this worker: on the PostgreSQL server of TEST_DATABASE_URL a
    fresh database with a schema of its own, or a SQLite file in the worker's own
    temporary folder.

    A database, not only a schema: PostgreSQL's advisory locks (the calendar and
    roster locks, keyed by row ids) are shared by every schema of a database, so
    two workers' schemas would wait on, and deadlock with, each other's locks.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.exit("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set", returncode=1)
        # SQLite's writers wait 5 s for each other by default; threads or processes
        # raced on a machine busy with the other worker may take longer, and a test
        # of what happens at once is no timing test.
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        yield f"sqlite:///{path}?timeout={WAIT_SECONDS}"
        return
    # Named for the worker, so that one left by a killed run says whose it was.
    name = f"test_{worker_name()}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    own_url = sa.engine.make_url(url).set(database=name)
    own = sa.create_engine(own_url, isolation_level="AUTOCOMMIT")
    try:
        with own.connect() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {name}"))
        own.dispose()
        yield _with_search_path(own_url.render_as_string(hide_password=False), name)
    finally:
        own.dispose()
        with admin.connect() as connection:
            # FORCE: a gunicorn or dispatcher process a failed test left behind
            # must not keep the database.
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


REDIS_URL = "redis://127.0.0.1:6379"


@pytest.fixture(scope="session")
def redis_key_prefix():
    """A Redis key prefix of this worker's own, for tests that keep the limits in
    the Redis on 127.0.0.1:6379; every key holding it is removed at the end.

    Skips without Redis, and fails where REQUIRE_REDIS=1. Tests give the prefix
    to the storage (``RATELIMIT_STORAGE_OPTIONS={"key_prefix": ...}``) or to the
    limiter (``RATELIMIT_KEY_PREFIX``), so that neither another worker nor
    another run on the same Redis counts or clears their keys.
    """
    try:
        import redis
        connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        connection.ping()
    except Exception as error:  # the package missing or the server not running
        require("REDIS", f"Redis is not reachable at {REDIS_URL}: {error}")
    prefix = f"perhetyo-test-{worker_name()}-{uuid.uuid4().hex}"
    yield prefix
    connection.close()
    # Redis's databases (16 unless configured otherwise): a test may count in
    # another one than 0.
    for number in range(16):
        with redis.Redis.from_url(f"{REDIS_URL}/{number}") as database:
            try:
                keys = list(database.scan_iter(match=f"*{prefix}*"))
            except redis.ResponseError:  # fewer databases on this server
                break
            if keys:
                database.delete(*keys)


# The key of the lines a worker's fixtures would print at the end of the run:
# pytest-xdist shows only the main process's terminal summary.
WORKER_SUMMARY = "summary_lines"
_worker_summaries: list[str] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """Keep the summary lines of a worker that has finished (pytest-xdist's hook)."""
    _worker_summaries.extend(getattr(node, "workeroutput", {}).get(WORKER_SUMMARY, []))


def pytest_terminal_summary(terminalreporter):
    """Print what the workers of a parallel run had to say at its end."""
    for line in _worker_summaries:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def _app(database_url):
    app = create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI=database_url))
    app.test_client_class = FreshUserClient
    with app.app_context():
        db.create_all()
        ensure_reference_data()
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_app):
    """The app with a fixed clock; every table and the sign-in limits emptied after
    the test."""
    set_clock(_app, FixedClock(NOW))
    yield _app
    with _app.app_context():
        empty_tables()
    limiter.reset()


def empty_tables():
    """Empty every table but the municipalities, the reference data of the run."""
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            if table.name != "municipalities":
                connection.execute(table.delete())


@pytest.fixture
def clock(app):
    return app.extensions["clock"]


@pytest.fixture
def runner(app):
    """The app's CLI runner (`flask --app app ...` in tests)."""
    return app.test_cli_runner()


class FreshUserClient(FlaskClient):
    """A test client that looks up the signed-in user on every request.

    pytest-flask keeps one app context for the whole test, so ``g`` would carry
    Flask-Login's cached user, Flask-WTF's CSRF token and Flask-Babel's cached
    locale, and the session its loaded objects, from one request to the next;
    in production every request has its own context.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.pop("_login_user", None)
            g.pop("csrf_token", None)
            refresh()
            # And its own session, which reads what other connections wrote
            # (a feed's last fetch, say); unflushed changes of the test are kept.
            if not (db.session.new or db.session.dirty or db.session.deleted):
                db.session.expire_all()
        return super().open(*args, **kwargs)


def run_at_once(app, jobs):
    """Run each job in its own thread and app context (own session and
    connection), all released together; return what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def worker(index, job):
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                results[index] = job()
                db.session.commit()
            except Exception as error:  # reported to the test, which asserts on it
                db.session.rollback()
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(index, job))
               for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


# --- factories -------------------------------------------------------------

_counter = iter(range(1, 1_000_000))


# The second factor of every account the suite enrolled, by e-mail: the TOTP
# secret and the recovery codes not yet used by login() below.
SECOND_FACTORS: dict[str, tuple[str, list[str]]] = {}


def make_user(role, *, municipalities=("Mikkeli",), name=None, email=None, clock=None,
              locale="en", two_factor=None):
    """A staff account with the suite's password, reading English like the suite.

    An account whose role requires two-factor sign-in (TWO_FACTOR_REQUIRED_ROLES:
    admins) is enrolled as its person would be, unless ``two_factor=False``;
    ``two_factor=True`` enrols any role.
    """
    number = next(_counter)
    user = accounts_services.create_user(
        email=email or f"{role}{number}@example.test",
        name=name or f"{role.replace('_', ' ').title()} {number}",
        role=role, password=PASSWORD, municipalities=municipalities, locale=locale,
        clock=clock or FixedClock(NOW), hash_method="pbkdf2:sha256:1000")
    db.session.commit()
    if two_factor is None:
        two_factor = accounts_services.two_factor_required(
            user, current_app.config["TWO_FACTOR_REQUIRED_ROLES"])
    if two_factor:
        enrol(user, now=(clock or FixedClock(NOW)).now())
    return user


def enrol(user, *, now=NOW):
    """Set up a user's two-factor sign-in through the service, with the code of the
    step before ``now`` (leaving now's and the next step's codes for signing in)."""
    secret_key = current_app.config["SECRET_KEY"]
    secret = accounts_services.start_two_factor_enrolment(user, secret_key=secret_key)
    code = pyotp.TOTP(secret).at(now - timedelta(seconds=30))
    codes = accounts_services.confirm_two_factor(user, code, secret_key=secret_key, now=now)
    db.session.commit()
    SECOND_FACTORS[user.email] = (secret, list(codes))
    return secret, codes


def make_family(actor, *, track="preventive", municipality="Mikkeli", surname=None,
                referral_source=None, social_worker=None, workers=(), members=None,
                plan=False, clock=None):
    """A family registered through the service, as a coordinator would."""
    clock = clock or FixedClock(NOW)
    if referral_source is None:
        referral_source = "social_worker" if track == "child_protection" else "child_health_clinic"
    family = family_services.create_family(
        actor, surname=surname or f"Virtanen{next(_counter)}", municipality=municipality,
        track=track, referral_source=referral_source, referral_date=date(2026, 11, 2),
        address="Porrassalmenkatu 1", responsible_social_worker_id=(
            social_worker.id if social_worker else None),
        family_worker_ids=[worker.id for worker in workers],
        members=members if members is not None else [
            {"role": "guardian", "first_name": "Anna", "phone": "+358 40 123 4567",
             "reminder_channel": "sms"},
            {"role": "child", "first_name": "Eeli", "birth_date": date(2024, 5, 10)},
        ], clock=clock)
    if plan:
        family_services.set_plan(
            actor, family, goals=["parenthood", "everyday_routines"], content="Arjen rytmi",
            agreed_with="Anna", start_date=date(2026, 11, 20), review_date=date(2027, 2, 20),
            social_worker_participated=track == "child_protection", clock=clock)
    db.session.commit()
    return family


def make_group(actor, *, capacity=5, tracks=("preventive", "child_protection"),
               min_age_months=0, max_age_months=72, municipalities=("Mikkeli",),
               first_date=date(2026, 12, 1), count=8, status="open", facilitators=(),
               name="Taaperoryhmä", clock=None):
    """A peer group meeting on Tuesdays at 17:00, opened for enrollment."""
    from groups import series as group_series
    from groups import services as group_services

    clock = clock or FixedClock(NOW)
    series = group_series.SeriesPlan(group_series.series_rule(
        weekday=2, start_time=time(17, 0), duration_minutes=90, first_date=first_date,
        count=count))
    group = group_services.create_group(
        actor, name=name, capacity=capacity, municipalities=municipalities, tracks=tracks,
        themes=["parenthood"], min_age_months=min_age_months,
        max_age_months=max_age_months, facilitator_ids=[user.id for user in facilitators],
        series=series, zone=HELSINKI, clock=clock)
    if status != "draft":
        group_services.set_status(group, "open", now=clock.now())
    db.session.commit()
    return group


@pytest.fixture
def coordinator(app):
    return make_user("coordinator", municipalities=("Mikkeli", "Hirvensalmi"))


@pytest.fixture
def admin(app):
    return make_user("admin", municipalities=())


@pytest.fixture
def social_worker(app):
    return make_user("social_worker")


@pytest.fixture
def family_worker(app):
    return make_user("family_worker")


# --- clients ---------------------------------------------------------------

CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"'
                          r'|name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_PATTERN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def login(client, user, password=PASSWORD):
    """Sign in through the real login form, CSRF token and all, and the second
    factor where the account has one: a code of the app's clock that no sign-in
    has used yet, else one of the account's unused recovery codes."""
    page = client.get("/login")
    response = client.post("/login", data={
        "email": user.email, "password": password,
        "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)
    if response.headers["Location"].endswith("/account/two-factor"):
        # Not enrolled and the role requires it (the demo's admin, say): enrol on
        # the page the sign-in leads to, with the key it shows, as its person would.
        page = client.get("/account/two-factor").get_data(as_text=True)
        secret = re.search(r'value="([A-Z2-7]+)"[^>]*data-totp-secret', page).group(1)
        step = int(current_app.extensions["clock"].now().timestamp()) // 30 - 1
        response = client.post("/account/two-factor", data={
            "code": pyotp.TOTP(secret).at(step * 30),
            "csrf_token": csrf_token_from(page)})
        assert response.status_code == 200, response.get_data(as_text=True)
        codes = re.findall(r"<li><code>([^<]+)</code></li>", response.get_data(as_text=True))
        SECOND_FACTORS[user.email] = (secret, codes)
        return response
    if response.headers["Location"].endswith("/login/two-factor"):
        page = client.get("/login/two-factor")
        response = client.post("/login/two-factor", data={
            "code": second_factor_code(user),
            "csrf_token": csrf_token_from(page.get_data(as_text=True))})
        assert response.status_code == 302, response.get_data(as_text=True)
    return response


def second_factor_code(user) -> str:
    """A code that signs ``user`` in now: an unused TOTP code, else a recovery code."""
    secret, recovery_codes = SECOND_FACTORS[user.email]
    last = db.session.scalar(sa.select(type(user).totp_last_step).where(
        type(user).id == user.id))
    now = current_app.extensions["clock"].now()
    step = int(now.timestamp()) // 30
    for candidate in (step - 1, step, step + 1):
        if last is None or candidate > last:
            return pyotp.TOTP(secret).at(candidate * 30)
    if not recovery_codes:
        # Used up under the suite's fixed clock: new ones, as the person would make
        # on their account page.
        recovery_codes.extend(accounts_services.replace_recovery_codes(
            db.session.get(type(user), user.id)))
        db.session.commit()
    return recovery_codes.pop()


def bearer(user) -> dict:
    """Headers carrying a fresh personal API token of a user."""
    secret = accounts_services.issue_api_token(user, clock=FixedClock(NOW))
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}
