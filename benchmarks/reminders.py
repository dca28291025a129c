"""How many reminders per second the dispatcher sends to a local SMTP server,
with one dispatcher process and with three.

Builds a throwaway database (SQLite in a temporary folder, or PostgreSQL when
BENCH_DATABASE_URL is set, in a schema of its own): one family with 100
guardians who chose e-mail, and home visits booked through the calendar
service, whose reminders are planned by the reminders package as in use. All
reminders are then due. An aiosmtpd server on 127.0.0.1 (a thread of this
process, which otherwise only waits) takes the messages.

For each case the rows are set back to pending, N dispatcher processes are
started at once (`flask --app app reminders dispatch --once --now ...`), and
two figures are printed: reminders per second between the first and the last
message the server took (the dispatchers at work), and over the whole run
from starting the processes to their exit (with Python's and the app's
start-up). SQLite runs one dispatcher at a time, so it has the one-process
case only.

Usage: .venv/bin/python benchmarks/reminders.py [--visits 20] [--repeat 3]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import sqlalchemy as sa  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from accounts.services import create_user  # noqa: E402
from app import create_app  # noqa: E402
from benchmarks.support import free_port, throwaway_database  # noqa: E402
from calendars import services as calendar_services  # noqa: E402
from calendars.conflicts import TravelPolicy  # noqa: E402
from config import Config, settings  # noqa: E402
from core.clock import FixedClock, set_clock  # noqa: E402
from core.places import ensure_reference_data  # noqa: E402
from extensions import db  # noqa: E402
from families import services as family_services  # noqa: E402
from reminders.models import Reminder  # noqa: E402

HELSINKI = ZoneInfo("Europe/Helsinki")
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=HELSINKI)
FIRST_VISIT = datetime(2026, 12, 5, 0, 0, tzinfo=HELSINKI)
DISPATCH_AT = datetime(2026, 12, 4, 20, 0, tzinfo=HELSINKI)
GUARDIANS = 100
SECRET_KEY = "benchmark-only-key"


class Sink:
    """Counts messages and notes when the first and the last arrived."""

    def __init__(self):
        self.count = 0
        self.first = self.last = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        now = time.perf_counter()
        with self.lock:
            self.count += 1
            self.first = self.first or now
            self.last = now
        return "250 OK"


def fill(visits: int) -> int:
    """One family with 100 e-mail guardians and ``visits`` booked visits."""
    clock = FixedClock(NOW)
    coordinator = create_user(email="coordinator@example.test", name="Coordinator",
                              role="coordinator", password="benchmark password",
                              municipalities=["Mikkeli"], clock=clock,
                              hash_method="pbkdf2:sha256:1000")
    worker = create_user(email="worker@example.test", name="Worker", role="family_worker",
                         password="benchmark password", municipalities=["Mikkeli"],
                         clock=clock, hash_method="pbkdf2:sha256:1000")
    members = [{"role": "guardian", "first_name": f"Huoltaja{number}",
                "email": f"guardian{number}@example.test", "reminder_channel": "email",
                "locale": "fi" if number % 2 else "en"} for number in range(GUARDIANS)]
    family = family_services.create_family(
        coordinator, surname="Virtanen", municipality="Mikkeli", track="preventive",
        referral_source="self", referral_date=date(2026, 11, 2), address="Katu 1",
        responsible_social_worker_id=None, family_worker_ids=[worker.id],
        members=members, clock=clock)
    family_services.set_plan(coordinator, family, goals=["parenthood"], content="",
                             agreed_with="", start_date=date(2026, 11, 20),
                             review_date=date(2027, 2, 20), clock=clock)
    calendar = calendar_services.CalendarSettings(TravelPolicy(1.2, 15),
                                                  "1-7 00:00-23:59", 15)
    for number in range(visits):
        start = FIRST_VISIT + timedelta(minutes=50 * number)
        calendar_services.book_visit(
            coordinator, family, kind="home_visit", start=start,
            end=start + timedelta(minutes=45), worker_ids=[worker.id], confirm=True,
            zone=HELSINKI, settings=calendar, clock=clock)
    db.session.commit()
    return db.session.scalar(sa.select(sa.func.count(Reminder.id)))


def reset() -> None:
    db.session.execute(sa.update(Reminder).values(
        status="pending", attempts=0, claimed_by=None, claimed_at=None, sent_at=None,
        provider_message_id=None, last_error=""))
    db.session.commit()


def run_case(url: str, port: int, sink: Sink, processes: int, total: int) -> tuple:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("FLASK_") and key != "DATABASE_URL"}
    environment.update({"FLASK_SQLALCHEMY_DATABASE_URI": url,
                        "FLASK_SECRET_KEY": SECRET_KEY,
                        "FLASK_REMINDER_CHANNEL_EMAIL": "smtp",
                        "FLASK_SMTP_HOST": "127.0.0.1", "FLASK_SMTP_PORT": str(port)})
    sink.count, sink.first, sink.last = 0, None, None
    started = time.perf_counter()
    running = [subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "reminders", "dispatch", "--once",
         "--now", DISPATCH_AT.isoformat()], cwd=ROOT, env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _number in range(processes)]
    for process in running:
        _out, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(err)
    ended = time.perf_counter()
    if sink.count != total:
        raise SystemExit(f"{sink.count} of {total} messages arrived")
    working = total / (sink.last - sink.first)
    overall = total / (ended - started)
    return working, overall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=20,
                        help="visits to remind of, 100 reminders each (default 20)")
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    with throwaway_database() as url:
        app = create_app(settings(Config, SQLALCHEMY_DATABASE_URI=url, SECRET_KEY=SECRET_KEY))
        set_clock(app, FixedClock(NOW))
        with app.app_context():
            db.create_all()
            ensure_reference_data()
            db.session.commit()
            begun = time.perf_counter()
            total = fill(arguments.visits)
            print(f"{total} reminders planned in {time.perf_counter() - begun:.1f} s"
                  f" ({db.engine.dialect.name})")
            sink = Sink()
            port = free_port()
            controller = Controller(sink, hostname="127.0.0.1", port=port)
            controller.start()
            cases = [1, 3] if db.engine.dialect.name == "postgresql" else [1]
            try:
                print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs")
                print("| dispatchers | reminders/s while sending (median) | reminders/s"
                      " start to exit (median) | runs | load average before |")
                print("| --- | --- | --- | --- | --- |")
                for processes in cases:
                    working, overall = [], []
                    # Other work on the machine shows here: the figures are only
                    # comparable between runs at a similar load.
                    load = os.getloadavg()[0]
                    for _run in range(arguments.repeat):
                        reset()
                        rate, whole = run_case(url, port, sink, processes, total)
                        working.append(rate)
                        overall.append(whole)
                    print(f"| {processes} | {statistics.median(working):.0f} |"
                          f" {statistics.median(overall):.0f} | {arguments.repeat} |"
                          f" {load:.1f} |")
            finally:
                controller.stop()
                db.session.remove()
                db.engine.dispose()


if __name__ == "__main__":
    main()
