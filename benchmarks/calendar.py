"""How fast a worker's calendar answers with two years of visits in the database.

Builds a throwaway database (SQLite in a temporary folder, or PostgreSQL when
BENCH_DATABASE_URL is set, in a schema of its own) and fills it in bulk: family
workers over the six municipalities with working hours, families assigned to
them, about two visits a working day per worker from a year back to a year
ahead (never overlapping), and a few peer groups with weekly sessions that
workers facilitate. Then it times, through the app in-process, the week page,
the events API and the free-slot search for one worker, and prints the median
and the 95th percentile per case.

Usage: .venv/bin/python benchmarks/calendar.py [--workers 50] [--families 1500]
"""

import sys
from pathlib import Path

# This file is named like the standard library's ``calendar``, which the app's
# dependencies import: keep its own folder off the import path.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import random  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from datetime import time as clock_time  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from accounts.services import issue_api_token  # noqa: E402
from benchmarks.support import (  # noqa: E402
    PASSWORD,
    build_app,
    create_and_fill,
    families_with_plans,
    median_and_p95,
    print_machine,
    staff,
    throwaway_database,
    timed_gets,
)  # noqa: E402
from calendars.models import Absence, HomeVisit, visit_workers  # noqa: E402
from core.clock import FixedClock, set_clock  # noqa: E402
from core.localtime import local_datetime, unit_zone  # noqa: E402
from core.models import Municipality  # noqa: E402
from core.places import ensure_reference_data  # noqa: E402
from extensions import db  # noqa: E402
from groups.models import (  # noqa: E402
    GroupSession,
    PeerGroup,
    group_facilitators,
    group_municipalities,
)

SLOTS = ((clock_time(8, 30), 60), (clock_time(10, 0), 90), (clock_time(12, 30), 75),
         (clock_time(14, 15), 90))  # a worker's visit times: never overlapping
VISITS_PER_DAY = 2
GROUPS = 8
SESSIONS_PER_GROUP = 30


def fill(worker_count, family_count, now):
    """Insert workers, families, visits and groups in bulk; return what the cases need."""
    rng = random.Random(2026)
    zone = unit_zone()
    today = now.astimezone(zone).date()
    ensure_reference_data()
    municipalities = db.session.scalars(sa.select(Municipality).order_by(Municipality.id)).all()
    clock = FixedClock(now)
    coordinator, workers = staff(municipalities, worker_count, clock)

    # Families, each with a plan and one worker of its municipality.
    owner = families_with_plans(municipalities, workers, family_count, today, now,
                                referred_days_ago=lambda number: 400 + number % 200,
                                review_in_days=60)

    # Visits: two of the four slots on every working day, a year back and ahead.
    visits, links = [], []
    first, last = today - timedelta(days=365), today + timedelta(days=365)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    days = [day for day in days if day.weekday() < 5]
    for worker in workers:
        owned = owner[worker.id]
        for day in days:
            for start_time, minutes in rng.sample(SLOTS, VISITS_PER_DAY):
                family_id, municipality_id = rng.choice(owned)
                start = local_datetime(day, start_time, zone)
                past = day < today
                status = ("cancelled" if rng.random() < 0.05 else
                          "done" if past else "scheduled")
                visits.append({
                    "id": len(visits) + 1, "family_id": family_id, "kind": "home_visit",
                    "start": start, "end": start + timedelta(minutes=minutes),
                    "place": "Katu 1", "municipality_id": municipality_id, "status": status,
                    "status_reason": "", "sequence": 0, "notes": "",
                    "changed_by_hand": False, "created_at": now, "updated_at": now})
                links.append({"visit_id": len(visits), "user_id": worker.id})
    db.session.execute(sa.insert(HomeVisit), visits)
    db.session.execute(sa.insert(visit_workers), links)

    # Peer groups meeting weekly at 17:00, each facilitated by two workers.
    group_rows = [{"name": f"Ryhmä {n}", "description": "", "themes": ["parenthood"],
                   "tracks": ["preventive"], "language": "fi", "capacity": 8,
                   "status": "running", "roster_version": 0, "created_at": now,
                   "updated_at": now} for n in range(GROUPS)]
    db.session.execute(sa.insert(PeerGroup), group_rows)
    group_ids = db.session.scalars(sa.select(PeerGroup.id).order_by(PeerGroup.id)).all()
    db.session.execute(sa.insert(group_municipalities), [
        {"group_id": group_id, "municipality_id": municipalities[n % len(municipalities)].id}
        for n, group_id in enumerate(group_ids)])
    db.session.execute(sa.insert(group_facilitators), [
        {"group_id": group_id, "user_id": workers[(2 * n + k) % worker_count].id}
        for n, group_id in enumerate(group_ids) for k in (0, 1)])
    sessions = []
    for n, group_id in enumerate(group_ids):
        weekday_first = today - timedelta(days=today.weekday() - n % 5) - timedelta(weeks=10)
        for week in range(SESSIONS_PER_GROUP):
            start = local_datetime(weekday_first + timedelta(weeks=week), clock_time(17), zone)
            sessions.append({"group_id": group_id, "start": start,
                             "end": start + timedelta(minutes=90), "status": "scheduled",
                             "sequence": 0, "changed_by_hand": False, "created_at": now,
                             "updated_at": now})
    db.session.execute(sa.insert(GroupSession), sessions)

    # The measured worker (a facilitator of the first group) is away a day next week.
    worker = workers[0]
    away = today + timedelta(days=7 - today.weekday() + 2)
    db.session.add(Absence(user_id=worker.id, kind="training",
                           start=local_datetime(away, clock_time(8), zone),
                           end=local_datetime(away, clock_time(16), zone), note="Koulutus"))
    token = issue_api_token(coordinator, clock=clock)
    db.session.commit()
    return {"coordinator": coordinator.email, "worker": worker.id, "token": token,
            "family": owner[worker.id][0][0], "visits": len(visits),
            "families": family_count, "sessions": len(sessions), "today": today}


def timed(client, url, headers, repeat):
    """Milliseconds per request over ``repeat`` requests, after a warm-up, and what
    the last answer held: JSON items, or the page's size."""
    samples, response = timed_gets(client, url, headers, repeat, warm_ups=3)
    held = (f"{len(response.get_json())} items" if response.is_json
            else f"{len(response.get_data()) // 1024} KiB")
    return *median_and_p95(samples), held


def profile(client, url, headers, repeat=20):
    """Where the time of a case goes: cProfile's top functions by cumulative time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        client.get(url, headers=headers)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--families", type=int, default=1500)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of each case")
    args = parser.parse_args()

    with throwaway_database() as url:
        app = build_app(url)
        try:
            with app.app_context():
                # A Monday morning: the week ahead is still open for free slots.
                today = date.today() - timedelta(days=date.today().weekday())
                now = local_datetime(today, clock_time(7), unit_zone())
            set_clock(app, FixedClock(now))
            facts, fill_seconds = create_and_fill(app, fill, args.workers, args.families, now)
            run(app, args, facts, fill_seconds)
        finally:
            with app.app_context():
                db.engine.dispose()


def run(app, args, facts, fill_seconds):
    today, worker, family = facts["today"], facts["worker"], facts["family"]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {facts['token']}"}
    week_end = today + timedelta(days=6)
    slots_end = today + timedelta(days=13)
    api_cases = [
        ("Events API, one week", f"/api/v1/workers/{worker}/events?from={today}&to={week_end}",
         headers),
        ("Free slots, 14 days, 60 min",
         f"/api/v1/workers/{worker}/free-slots?from={today}&to={slots_end}&duration=60",
         headers),
        ("Free slots, 14 days, 60 min, with family",
         f"/api/v1/workers/{worker}/free-slots?from={today}&to={slots_end}&duration=60"
         f"&family={family}", headers),
    ]
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, "
          f"workers: {args.workers}, families: {facts['families']}, "
          f"visits: {facts['visits']}, group sessions: {facts['sessions']}, "
          f"requests per case: {args.repeat}")
    print_machine()
    print(f"fill: {fill_seconds:.1f} s")
    week_url = f"/calendars/week?worker={worker}&date={today + timedelta(days=2)}"
    cases = []
    if "calendars.week" in app.view_functions:
        session_client = app.test_client()
        response = session_client.post("/login", data={"email": facts["coordinator"],
                                                       "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        cases.append(("Week page (HTML), signed in", week_url, {}, session_client))
    else:
        print("Week page: skipped, the endpoint calendars.week does not exist yet")
    cases += [(name, url, case_headers, client) for name, url, case_headers in api_cases]
    for name, url, case_headers, case_client in cases:
        median, p95, held = timed(case_client, url, case_headers, args.repeat)
        print(f"{name}: median {median:.1f} ms, p95 {p95:.1f} ms ({held})")
        if args.profile:
            profile(case_client, url, case_headers)


if __name__ == "__main__":
    main()
