"""How fast the reports page answers for a region of 5,000 families and 100,000 visits.

Builds a throwaway database (SQLite in a temporary folder, or PostgreSQL when
BENCH_DATABASE_URL is set, in a schema of its own) and fills it in bulk: the
six municipalities, family workers, families referred over two years with a
guardian each, home visits (a planning meeting first, then home visits, most
of them done), peer groups with sessions, seats, waiting lists and attendance,
and reminders sent and failed. Then it times, through the app in-process, the
reports page (every report, charts included) for a coordinator of all six
municipalities, each report over the API, and an Excel export, and prints the
median and the 95th percentile per case.

Usage: .venv/bin/python benchmarks/reports.py [--families 5000] [--visits 100000]
"""

import sys
from pathlib import Path

# The project's root, not this folder, comes first on the path: run as a
# script, this folder's calendar.py would shadow the standard calendar module.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import random  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from datetime import time as clock_time  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from accounts.services import issue_api_token  # noqa: E402
from benchmarks.support import (  # noqa: E402
    PASSWORD,
    build_app,
    create_and_fill,
    median_and_p95,
    print_machine,
    staff,
    throwaway_database,
    timed_gets,
)
from calendars.models import HomeVisit, visit_workers  # noqa: E402
from core.clock import FixedClock, set_clock  # noqa: E402
from core.localtime import local_datetime, unit_zone  # noqa: E402
from core.models import Municipality  # noqa: E402
from core.places import ensure_reference_data  # noqa: E402
from extensions import db  # noqa: E402
from families.models import Family, Member, family_workers  # noqa: E402
from groups.models import (  # noqa: E402
    Attendance,
    Enrollment,
    GroupSession,
    PeerGroup,
    group_facilitators,
    group_municipalities,
)
from reminders.models import Reminder  # noqa: E402
from reports.services import REPORT_NAMES  # noqa: E402

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
FIRST_REFERRAL = date(2024, 12, 1)
WORKERS = 40
GROUPS = 30
SESSIONS_PER_GROUP = 10
REMINDERS = 20_000
SOURCES = ("health_care", "child_health_clinic", "early_childhood_education",
           "other_authority", "self")


def fill(family_count, visit_count):
    """Insert the region in bulk; return the coordinator's token and the counts."""
    rng = random.Random(2026)
    zone = unit_zone()
    ensure_reference_data()
    municipalities = db.session.scalars(sa.select(Municipality).order_by(Municipality.id)).all()
    clock = FixedClock(NOW)
    coordinator, social_worker, workers = staff(
        municipalities, WORKERS, clock, roles=("coordinator", "social_worker"))
    db.session.flush()
    span = (NOW.date() - FIRST_REFERRAL).days

    families, referred = [], {}
    for number in range(1, family_count + 1):
        child_protection = rng.random() < 0.25
        referral = FIRST_REFERRAL + timedelta(days=rng.randrange(span))
        referred[number] = referral
        families.append({
            "id": number, "reference": f"PT-B-{number:05d}", "surname": f"Sukunimi{number}",
            "surname_key": f"sukunimi{number}",
            "municipality_id": municipalities[number % len(municipalities)].id,
            "address": "", "track": "child_protection" if child_protection else "preventive",
            "referral_source": "social_worker" if child_protection else rng.choice(SOURCES),
            "responsible_social_worker_id": social_worker.id if child_protection else None,
            "referral_date": referral, "languages": ["fi"],
            "status": rng.choice(("referred", "planning", "active", "active", "closed")),
            "created_at": NOW, "updated_at": NOW})
    db.session.execute(sa.insert(Family), families)
    db.session.execute(sa.insert(Member), [
        {"id": number, "family_id": number, "role": "guardian", "first_name": "Anna",
         "phone": "+358401234567", "email": "", "reminder_channel": "sms", "locale": "fi"}
        for number in referred])
    assigned = {number: workers[number % WORKERS] for number in referred}
    db.session.execute(sa.insert(family_workers), [
        {"family_id": number, "user_id": worker.id} for number, worker in assigned.items()])

    visits, visit_links = [], []
    per_family = max(1, visit_count // family_count)
    number = 0
    for family_id, referral in referred.items():
        day = referral + timedelta(days=rng.randrange(3, 30))
        for index in range(per_family):
            number += 1
            start = local_datetime(day, clock_time(8 + rng.randrange(8), 0), zone)
            past = start < NOW
            visits.append({
                "id": number, "family_id": family_id,
                "kind": "planning_meeting" if index == 0 else "home_visit",
                "start": start, "end": start + timedelta(hours=1), "place": "",
                "municipality_id": families[family_id - 1]["municipality_id"],
                "status": rng.choices(("done", "cancelled", "no_show"), (85, 10, 5))[0]
                if past else "scheduled",
                "status_reason": "", "sequence": 0, "notes": "", "changed_by_hand": False,
                "created_at": NOW, "updated_at": NOW})
            visit_links.append({"visit_id": number, "user_id": assigned[family_id].id})
            day += timedelta(days=rng.randrange(5, 10))
    for chunk in range(0, len(visits), 10_000):
        db.session.execute(sa.insert(HomeVisit), visits[chunk:chunk + 10_000])
        db.session.execute(sa.insert(visit_workers), visit_links[chunk:chunk + 10_000])

    groups, sessions, enrollments, attendance = [], [], [], []
    session_number = enrollment_number = 0
    pool = list(referred)
    rng.shuffle(pool)
    for group_id in range(1, GROUPS + 1):
        first = date(2025, 1, 7) + timedelta(weeks=rng.randrange(90))
        groups.append({"id": group_id, "name": f"Ryhmä {group_id:02d}", "description": "",
                       "themes": ["parenthood"], "min_age_months": 0, "max_age_months": 72,
                       "tracks": ["preventive", "child_protection"], "language": "fi",
                       "capacity": rng.randrange(6, 13), "status": "running",
                       "roster_version": 0, "created_at": NOW, "updated_at": NOW})
        members = [pool.pop() for _ in range(12)]
        session_ids = []
        for week in range(SESSIONS_PER_GROUP):
            session_number += 1
            start = local_datetime(first + timedelta(weeks=week), clock_time(17, 0), zone)
            sessions.append({"id": session_number, "group_id": group_id, "start": start,
                             "end": start + timedelta(minutes=90), "status": "scheduled",
                             "sequence": 0, "changed_by_hand": False, "created_at": NOW,
                             "updated_at": NOW})
            session_ids.append((session_number, start))
        for position, family_id in enumerate(members):
            enrollment_number += 1
            waiting = position >= groups[-1]["capacity"]
            enrollments.append({
                "id": enrollment_number, "group_id": group_id, "family_id": family_id,
                "status": "waitlisted" if waiting else "enrolled",
                "position": position if waiting else None, "requested_at": NOW,
                "enrolled_at": None if waiting else local_datetime(
                    first - timedelta(days=7), clock_time(12, 0), zone)})
            if not waiting:
                attendance.extend(
                    {"session_id": session_id, "member_id": family_id,
                     "present": rng.random() < 0.8, "recorded_at": NOW}
                    for session_id, start in session_ids if start < NOW)
    db.session.execute(sa.insert(PeerGroup), groups)
    db.session.execute(sa.insert(group_municipalities), [
        {"group_id": group["id"], "municipality_id": municipalities[group["id"] % 6].id}
        for group in groups])
    db.session.execute(sa.insert(group_facilitators), [
        {"group_id": group["id"], "user_id": workers[group["id"] % WORKERS].id}
        for group in groups])
    db.session.execute(sa.insert(GroupSession), sessions)
    db.session.execute(sa.insert(Enrollment), enrollments)
    db.session.execute(sa.insert(Attendance), attendance)

    reminders = []
    for number in range(1, REMINDERS + 1):
        visit = visits[rng.randrange(len(visits))]
        reminders.append({
            "idempotency_key": f"bench-{number}", "purpose": "reminder",
            "event_type": "home_visit", "event_id": visit["id"], "event_sequence": 0,
            "event_start": visit["start"], "family_id": visit["family_id"],
            "member_id": visit["family_id"], "channel": rng.choice(("sms", "email")),
            "payload": {}, "send_at": visit["start"] - timedelta(hours=24),
            "status": rng.choices(("sent", "failed", "cancelled"), (90, 5, 5))[0],
            "attempts": 1, "last_error": "", "created_at": NOW, "updated_at": NOW})
    db.session.execute(sa.insert(Reminder), reminders)
    token = issue_api_token(coordinator, clock=clock)
    db.session.commit()
    return token, {"families": family_count, "visits": len(visits),
                   "group sessions": len(sessions), "places": len(enrollments),
                   "attendance": len(attendance), "reminders": len(reminders)}


def timed(client, url, headers, repeat):
    """Milliseconds per request over ``repeat`` requests, after two warm-ups."""
    return median_and_p95(timed_gets(client, url, headers, repeat, warm_ups=2)[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=5000)
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", action="store_true",
                        help="print where the reports page spends its time")
    args = parser.parse_args()

    with throwaway_database() as url:
        app = build_app(url)
        try:
            set_clock(app, FixedClock(NOW))
            (token, counts), fill_seconds = create_and_fill(app, fill, args.families,
                                                            args.visits)
            print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, "
                  + ", ".join(f"{name}: {count}" for name, count in counts.items())
                  + f", requests per case: {args.repeat}")
            print_machine()
            print(f"fill: {fill_seconds:.1f} s")
            signed_in = app.test_client()
            response = signed_in.post("/login", data={"email": "coordinator@bench.example",
                                                      "password": PASSWORD})
            assert response.status_code == 302, response.status_code
            bearer = {"Authorization": f"Bearer {token}"}
            api = app.test_client()
            period = "from=2025-12&to=2026-11"
            cases = [("Reports page (HTML, all reports and charts), 12 months",
                      f"/reports/?{period}", {}, signed_in),
                     ("Reports page, 24 months", "/reports/?from=2024-12&to=2026-11", {},
                      signed_in),
                     ("Reports page, one municipality, 12 months",
                      f"/reports/?{period}&municipality=Mikkeli", {}, signed_in)]
            cases += [(f"API {name}, 12 months", f"/api/v1/reports/{name}?{period}", bearer,
                       api) for name in REPORT_NAMES]
            cases.append(("Excel export, visits per worker and month, 12 months",
                          f"/reports/home_visits/by_worker.xlsx?{period}", {}, signed_in))
            for name, path, headers, client in cases:
                median, p95 = timed(client, path, headers, args.repeat)
                print(f"{name}: median {median:.1f} ms, p95 {p95:.1f} ms")
            if args.profile:
                profiler = cProfile.Profile()
                profiler.runcall(signed_in.get, cases[0][1])
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        finally:
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
