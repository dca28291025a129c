"""The one wiring point: `create_app` connects every side effect, once, and
nothing connects itself when a module is imported."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from casework import jobs as casework_jobs
from reminders.dispatcher import jobs as reminder_jobs

ROOT = Path(__file__).resolve().parents[2]

# What create_app connects, by name: (where, event or signal, module, function).
EXPECTED = {
    ("session", "before_flush", "core.audit", "_refuse_changes_to_events"),
    ("session", "do_orm_execute", "core.audit", "_refuse_bulk_changes_to_events"),
    ("session", "before_flush", "calendars.feeds.stamps", "_before_flush"),
    ("signal", "visits_changed", "reminders.receivers", "on_visits_changed"),
    ("signal", "sessions_changed", "reminders.receivers", "on_sessions_changed"),
    ("signal", "group_changed", "reminders.receivers", "on_group_changed"),
    ("signal", "account_deactivated", "calendars.receivers", "on_account_deactivated"),
}

# Run in a fresh interpreter: import every module of the application, list what
# is connected; then build two apps and list it again.
PROBE = textwrap.dedent('''
    import importlib, json, pathlib, sys
    import blinker
    import sqlalchemy as sa
    from sqlalchemy.orm import SessionEvents

    root = pathlib.Path(sys.argv[1])
    skip = {"tests", "migrations", "benchmarks", "instance", "node_modules"}
    names = [path.stem for path in root.glob("*.py")]
    for package in sorted(p.parent for p in root.glob("*/__init__.py")):
        if package.name in skip or package.name.startswith("."):
            continue
        for path in sorted(package.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    ours = set(names)
    modules = [importlib.import_module(name) for name in sorted(ours)]

    from extensions import db
    event_names = [name for name in dir(SessionEvents) if not name.startswith("_")]
    signals = {}
    for module in modules:
        for attribute, value in vars(module).items():
            if isinstance(value, blinker.Signal):
                signals.setdefault(id(value), (attribute, value))

    def connected():
        found = []
        session = db.session.session_factory()
        for name in event_names:
            for listener in getattr(session.dispatch, name, ()):
                module = getattr(listener, "__module__", "")
                if module in ours:
                    found.append(["session", name, module, listener.__name__])
        session.close()
        for attribute, signal in signals.values():
            for receiver in signal.receivers.values():
                function = receiver() if isinstance(receiver, __import__("weakref").ref) \\
                    else receiver
                found.append(["signal", attribute, function.__module__, function.__name__])
        return found

    before = connected()
    from app import create_app
    from config import TestConfig, settings
    first = create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://"))
    after_one = connected()
    create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://"))
    after_two = connected()
    jobs = [f"{job.__module__}.{job.__name__}" for job in first.extensions["scheduled_jobs"]]
    print(json.dumps({"modules": len(modules), "signals": len(signals), "before": before,
                      "after_one": after_one, "after_two": after_two, "jobs": jobs}))
''')


def _probe() -> dict:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("FLASK_SQLALCHEMY_DATABASE_URI", None)
    result = subprocess.run([sys.executable, "-c", PROBE, str(ROOT)], cwd=ROOT,
                            env=environment, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_every_module_connects_nothing_and_create_app_connects_each_once():
    found = _probe()
    assert found["modules"] > 50  # every module was imported, not a few
    assert found["signals"] >= 4
    assert found["before"] == []
    after_one = [tuple(item) for item in found["after_one"]]
    assert sorted(after_one) == sorted(EXPECTED)  # each once, and nothing else
    assert sorted(tuple(item) for item in found["after_two"]) == sorted(after_one)
    assert found["jobs"] == ["reminders.dispatcher.jobs.add_to", "casework.jobs.add_to"]


def test_the_scheduler_gets_every_job_create_app_lists(app):
    background = BackgroundScheduler(timezone="UTC")
    background.start(paused=True)  # the jobs are looked at, not run, here
    try:
        reminder_jobs.start(app, background)
        assert {job.id for job in background.get_jobs()} == {
            reminder_jobs.DISPATCH_JOB, reminder_jobs.PLANNING_JOB,
            casework_jobs.ANONYMISATION_JOB}
    finally:
        background.shutdown(wait=False)
