"""What the benchmark scripts share: a database of their own for one run,
gunicorn on loopback, and timing requests and printing the figures."""

import http.client
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from app import create_app
from config import TestConfig, settings
from extensions import db

# Every benchmark user signs in with this; hashed cheaply, for speed of set-up.
PASSWORD = "benchmark-password"
FAST_HASH = "pbkdf2:sha256:1000"


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


def build_app(url):
    """The app on the run's database, with the test settings and no CSRF tokens."""
    return create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI=url,
                               WTF_CSRF_ENABLED=False))


def analyze(engine) -> None:
    """Bring PostgreSQL's planner statistics up to date after a bulk fill."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))


def create_and_fill(app, fill, *args):
    """Create the tables and run ``fill(*args)`` in an app context, then bring
    PostgreSQL's statistics up to date; what ``fill`` returned and its seconds."""
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        filled = fill(*args)
        seconds = time.perf_counter() - started
        analyze(db.engine)
    return filled, seconds


def print_machine() -> None:
    """The line that says where the figures were measured."""
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")


def median_and_p95(samples) -> tuple[float, float]:
    """The median and the 95th percentile (nearest rank) of the samples."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def timed_gets(client, url, headers, repeat, *, warm_ups=1):
    """Milliseconds of each of ``repeat`` GETs of ``url`` after ``warm_ups``
    unmeasured ones, every answer a 200, and the last answer."""
    for _ in range(warm_ups):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples, response


ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 30


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(target: str, env: dict, *, workers: int = 2, port: int | None = None,
                   startup_seconds: float = STARTUP_SECONDS) -> tuple[subprocess.Popen, int]:
    """gunicorn serving ``target`` on loopback (on ``port``, or a free one), once it
    answers HTTP (within ``startup_seconds``); the caller stops it with ``stop``."""
    port = port or free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", target], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + startup_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn {target} exited with {process.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
            return process, port
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()  # a socket left open fails a test that warns on it
    stop(process)
    raise RuntimeError(f"gunicorn {target} did not answer within {startup_seconds} s")


def stop(process: subprocess.Popen) -> None:
    """Stop a server: SIGTERM, then SIGKILL if it has not ended in 15 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def staff(municipalities, worker_count: int, clock, *, roles=("coordinator",)):
    """Users for a benchmark's region: one of each role in ``roles`` for every
    municipality (coordinator@bench.example, social_worker@bench.example, ...), and
    family workers spread over the municipalities, working Monday to Friday 8-16.

    Returns the users of ``roles`` in that order, then the list of workers.
    """
    from datetime import time as clock_time

    from accounts.services import create_user
    from calendars.models import WorkingHours
    from extensions import db

    names = [m.name for m in municipalities]
    leads = [create_user(email=f"{role}@bench.example", name=role.replace("_", " ").title(),
                         role=role, password=PASSWORD, municipalities=names, clock=clock,
                         hash_method=FAST_HASH) for role in roles]
    workers = [create_user(email=f"worker{n}@bench.example", name=f"Worker {n:02d}",
                           role="family_worker", password=PASSWORD,
                           municipalities=[names[n % len(names)]], clock=clock,
                           hash_method=FAST_HASH)
               for n in range(worker_count)]
    db.session.flush()
    db.session.execute(sa.insert(WorkingHours), [
        {"user_id": worker.id, "weekday": weekday, "start_time": clock_time(8),
         "end_time": clock_time(16)} for worker in workers for weekday in range(1, 6)])
    return (*leads, workers)


def families_with_plans(municipalities, workers, count: int, today, now, *,
                        referred_days_ago, review_in_days: int) -> dict[int, list]:
    """``count`` preventive families, active and with a plan, each assigned to one
    worker in turn and in that worker's municipality; ``referred_days_ago(number)``
    says how long ago the family of that number was referred.

    Returns each worker's families, by worker id, as (family id, municipality id).
    """
    from datetime import timedelta

    from extensions import db
    from families.models import Family, Plan, family_workers

    db.session.execute(sa.insert(Family), [{
        "reference": f"PT-2026-{number + 1:05d}", "surname": f"Sukunimi{number}",
        "surname_key": f"sukunimi{number}",
        "municipality_id": municipalities[(number % len(workers))
                                          % len(municipalities)].id,
        "address": f"Katu {number}", "track": "preventive",
        "referral_source": "child_health_clinic",
        "referral_date": today - timedelta(days=referred_days_ago(number)),
        "status": "active", "languages": ["fi"], "created_at": now, "updated_at": now}
        for number in range(count)])
    families = db.session.execute(sa.select(Family.id, Family.municipality_id)
                                  .order_by(Family.id)).all()
    owned: dict[int, list] = {}
    for number, (family_id, municipality_id) in enumerate(families):
        owned.setdefault(workers[number % len(workers)].id, []).append(
            (family_id, municipality_id))
    db.session.execute(sa.insert(Plan), [
        {"family_id": family_id, "goals": ["parenthood"], "content": "", "agreed_with": "",
         "start_date": today - timedelta(days=380),
         "review_date": today + timedelta(days=review_in_days),
         "social_worker_participated": False, "created_at": now, "updated_at": now}
        for family_id, _municipality in families])
    db.session.execute(sa.insert(family_workers), [
        {"family_id": family_id, "user_id": worker_id}
        for worker_id, rows in owned.items() for family_id, _municipality in rows])
    return owned
