"""Dispatchers as real processes: three at once on PostgreSQL, one killed mid-batch,
and `flask scheduler run` with its APScheduler jobs."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from extensions import db
from reminders.models import Reminder
from tests.conftest import make_family, make_user, require
from tests.reminders.helpers import at, book
from tests.reminders.sinks import SmtpSink

GUARDIANS_PER_FAMILY = 100
WAIT_SECONDS = 120  # a bound for loops that wait on other processes, not a timing test

# Alone, after the parallel run: a dispatcher is caught mid-batch and 2000 mails
# are raced through three processes, which another worker's tests starve.
pytestmark = pytest.mark.serial


def _guardians(count):
    return [{"role": "guardian", "first_name": f"Huoltaja{number}",
             "email": f"guardian{number}@example.test", "reminder_channel": "email",
             "locale": "fi" if number % 2 else "en"} for number in range(count)]


def _due_reminders(coordinator, visits: int) -> int:
    """Visits a day ahead with 100 e-mail guardians each: ``visits * 100`` due reminders."""
    worker = make_user("family_worker")
    family = make_family(coordinator, workers=[worker], plan=True,
                         members=_guardians(GUARDIANS_PER_FAMILY))
    for number in range(visits):
        book(coordinator, family, at(12, 5, 0) + timedelta(minutes=50 * number), minutes=45)
    return db.session.scalar(sa.select(sa.func.count(Reminder.id)).where(
        Reminder.status == "pending"))


DISPATCH_AT = at(12, 4, 20).isoformat()


def _environment(database_url, sink, **extra) -> dict:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("FLASK_") and key != "DATABASE_URL"}
    environment.update({
        "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
        "FLASK_SECRET_KEY": "test-dispatcher-key",
        "FLASK_REMINDER_CHANNEL_EMAIL": "smtp",
        "FLASK_SMTP_HOST": "127.0.0.1",
        "FLASK_SMTP_PORT": str(sink.port),
        "FLASK_REMINDER_BATCH_SIZE": "50",
        "FLASK_BABEL_DEFAULT_LOCALE": "en",  # the summary read below, as the suite reads
        **{key: str(value) for key, value in extra.items()},
    })
    return environment


def _flask(app, environment, *arguments) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", *arguments],
                            cwd=app.root_path, env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(process) -> str:
    out, err = process.communicate(timeout=WAIT_SECONDS)
    assert process.returncode == 0, err
    return out


def _statuses() -> Counter:
    db.session.expire_all()
    return Counter(dict(db.session.execute(
        sa.select(Reminder.status, sa.func.count(Reminder.id)).group_by(Reminder.status))
        .all()))


def test_three_dispatchers_deliver_2000_reminders_each_exactly_once(
        app, coordinator, database_url):
    if not database_url.startswith("postgresql"):
        require("POSTGRES", "TEST_DATABASE_URL is not set")
    assert _due_reminders(coordinator, visits=20) == 2000
    with SmtpSink() as sink:
        environment = _environment(database_url, sink)
        processes = [_flask(app, environment, "reminders", "dispatch", "--once",
                            "--now", DISPATCH_AT) for _number in range(3)]
        outputs = [_finish(process) for process in processes]
        arrived = sink.keys()
    assert len(arrived) == 2000, outputs
    assert set(arrived.values()) == {1}
    assert _statuses() == Counter({"sent": 2000})
    by_dispatcher = Counter(db.session.scalars(sa.select(Reminder.claimed_by)))
    print(f"\n3 dispatchers, 2000 reminders: sent per dispatcher "
          f"{sorted(by_dispatcher.values(), reverse=True)}, duplicates 0")


def test_a_dispatcher_killed_mid_batch_loses_nothing_and_repeats_at_most_its_batch(
        app, coordinator, database_url):
    total = _due_reminders(coordinator, visits=2)
    assert total == 200
    # Slowed down, so that the dispatcher is surely in the middle of a batch.
    with SmtpSink(delay=0.005) as sink:
        environment = _environment(database_url, sink, FLASK_REMINDER_CLAIM_TIMEOUT=60)
        victim = _flask(app, environment, "reminders", "dispatch", "--once",
                        "--now", DISPATCH_AT)
        deadline = time.monotonic() + WAIT_SECONDS
        while sink.count() < 75 and victim.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert victim.poll() is None, "the dispatcher finished before it could be killed"
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=WAIT_SECONDS)
        before = _statuses()
        assert before["sending"] > 0  # claims the dead dispatcher left behind
        # Within the claim timeout another dispatcher leaves them alone...
        _finish(_flask(app, environment, "reminders", "dispatch", "--once",
                       "--now", DISPATCH_AT))
        assert _statuses()["sending"] == before["sending"]
        # ...and after it, reclaims and sends them.
        later = (datetime.fromisoformat(DISPATCH_AT) + timedelta(minutes=2)).isoformat()
        output = _finish(_flask(app, environment, "reminders", "dispatch", "--once",
                                "--now", later))
        arrived = sink.keys()
    assert f"{before['sending']} reclaimed" in output
    assert len(arrived) == total  # every reminder arrived
    twice = sum(count - 1 for count in arrived.values())
    assert max(arrived.values()) <= 2
    assert twice <= 50  # bounded by the batch in flight
    assert _statuses() == Counter({"sent": total})
    print(f"\nkilled mid-batch: {before['sending']} claims reclaimed, {twice} of {total}"
          f" reminders arrived twice")


def test_the_scheduler_process_dispatches_on_its_interval_and_stops_on_sigterm(
        app, coordinator, database_url):
    worker = make_user("family_worker")
    family = make_family(coordinator, workers=[worker], plan=True, members=_guardians(1))
    now = datetime.now(UTC)
    db.session.add(Reminder(
        idempotency_key="c:home_visit:1:deleted:test", purpose="cancellation",
        event_type="home_visit", event_id=1, event_start=now + timedelta(days=1),
        family_id=family.id, member_id=family.members[0].id, channel="email",
        payload={"what": "home_visit", "start": (now + timedelta(days=1)).isoformat(),
                 "end": (now + timedelta(days=1, hours=1)).isoformat(), "place": "",
                 "contact_name": "", "contact_phone": ""},
        send_at=now - timedelta(minutes=1), created_at=now, updated_at=now))
    db.session.commit()
    with SmtpSink() as sink:
        environment = _environment(database_url, sink, FLASK_REMINDER_DISPATCH_INTERVAL=1)
        scheduler = _flask(app, environment, "scheduler", "run")
        deadline = time.monotonic() + WAIT_SECONDS
        while sink.count() < 1 and scheduler.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        scheduler.send_signal(signal.SIGTERM)
        output = _finish(scheduler)
        assert sink.count() == 1
    assert "Scheduler stopped." in output
    assert _statuses() == Counter({"sent": 1})


@pytest.mark.parametrize("arguments, message", [
    (["reminders", "dispatch"], "--once"),
    (["reminders", "dispatch", "--once", "--now", "tomorrow"], "ISO 8601"),
])
def test_the_dispatch_command_explains_bad_input(runner, arguments, message):
    result = runner.invoke(args=arguments)
    assert result.exit_code == 2
    assert message in result.output


def test_the_dispatch_command_runs_one_pass_at_a_given_instant(runner, coordinator):
    worker = make_user("family_worker")
    family = make_family(coordinator, workers=[worker], plan=True, members=_guardians(2))
    book(coordinator, family, at(12, 3, 10))
    result = runner.invoke(args=["reminders", "dispatch", "--once", "--now",
                                 "2026-12-02T10:05:00+02:00"])
    assert result.exit_code == 0, result.output
    assert "2 sent" in result.output
    assert _statuses() == Counter({"sent": 2})


def test_the_plan_command_plans_the_horizon(runner, coordinator):
    worker = make_user("family_worker")
    family = make_family(coordinator, workers=[worker], plan=True, members=_guardians(1))
    book(coordinator, family, at(12, 3, 10) + timedelta(days=45))
    assert _statuses() == Counter()
    result = runner.invoke(args=["reminders", "plan", "--now", "2026-12-20T10:00"])
    assert result.exit_code == 0, result.output
    assert _statuses() == Counter({"pending": 1})


def test_a_misconfigured_channel_is_reported_not_raised(runner, app):
    app.config["REMINDER_CHANNEL_SMS"] = "smtp"
    try:
        result = runner.invoke(args=["reminders", "dispatch", "--once"])
    finally:
        app.config["REMINDER_CHANNEL_SMS"] = "log"
    assert result.exit_code == 1
    assert "does not carry sms" in result.output


def test_the_scheduler_gets_a_dispatch_job_and_a_planning_job(app, coordinator):
    from apscheduler.schedulers.background import BackgroundScheduler

    from reminders.dispatcher import jobs

    background = BackgroundScheduler(timezone="UTC")
    background.start(paused=True)  # the jobs are looked at, not run, here
    try:
        jobs.add_to(background, app)
        scheduled = {job.id: job for job in background.get_jobs()}
        assert set(scheduled) == {jobs.DISPATCH_JOB, jobs.PLANNING_JOB}
        assert scheduled[jobs.DISPATCH_JOB].trigger.interval == timedelta(seconds=30)
        assert scheduled[jobs.PLANNING_JOB].trigger.interval == timedelta(hours=1)
    finally:
        background.shutdown(wait=False)


def test_the_jobs_open_their_own_app_context_and_do_their_work(app, coordinator):
    from reminders.dispatcher import jobs

    worker = make_user("family_worker")
    family = make_family(coordinator, workers=[worker], plan=True, members=_guardians(1))
    book(coordinator, family, at(12, 10, 10))
    db.session.execute(sa.delete(Reminder))
    db.session.commit()
    jobs.planning_job(app)
    assert _statuses() == Counter({"pending": 1})
    jobs.dispatch_job(app)  # nothing due yet at the suite's "now"
    assert _statuses() == Counter({"pending": 1})
