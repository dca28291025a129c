"""How fast the family list and detail answer for a region of many families.

Builds a throwaway database (SQLite in a temporary folder, or PostgreSQL when
BENCH_DATABASE_URL is set, in a schema of its own), fills it with families,
members and plans, then times requests through the app in-process and prints
the figures. Usage: .venv/bin/python benchmarks/families.py [--families 5000]
"""

import sys
from pathlib import Path

# The project's root, not this folder, comes first on the path: run as a
# script, this folder's calendar.py would shadow the standard calendar module.
sys.path[0] = str(Path(__file__).resolve().parent.parent)


import argparse  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from accounts.services import create_user, issue_api_token  # noqa: E402
from benchmarks.support import (  # noqa: E402
    build_app,
    create_and_fill,
    median_and_p95,
    print_machine,
    throwaway_database,
    timed_gets,
)
from core.clock import Clock  # noqa: E402
from core.models import Municipality  # noqa: E402
from core.places import ensure_reference_data  # noqa: E402
from extensions import db  # noqa: E402
from families.models import Family, Member, Plan, family_workers  # noqa: E402


def fill(count):
    """Insert ``count`` families with two members and a plan each, in bulk."""
    now = datetime.now(UTC)
    ensure_reference_data()
    municipalities = db.session.scalars(sa.select(Municipality)).all()
    clock = Clock()
    coordinator = create_user(email="coordinator@bench.example", name="Coordinator",
                              role="coordinator", password="benchmark-password",
                              municipalities=[m.name for m in municipalities], clock=clock)
    worker = create_user(email="worker@bench.example", name="Worker", role="family_worker",
                         password="benchmark-password", municipalities=["Mikkeli"],
                         clock=clock)
    db.session.flush()
    families = [{
        "reference": f"PT-2026-{number:05d}", "surname": f"Sukunimi{number}",
        "surname_key": f"sukunimi{number}",
        "municipality_id": municipalities[number % len(municipalities)].id,
        "address": f"Katu {number}", "track": "preventive",
        "referral_source": "child_health_clinic",
        "referral_date": date(2025, 1, 1) + timedelta(days=number % 600),
        "status": "active", "languages": ["fi"], "created_at": now, "updated_at": now,
    } for number in range(1, count + 1)]
    db.session.execute(sa.insert(Family), families)
    ids = db.session.scalars(sa.select(Family.id).order_by(Family.id)).all()
    db.session.execute(sa.insert(Member), [
        {"family_id": family_id, "role": role, "first_name": name, "birth_date": born,
         "phone": "", "email": "", "reminder_channel": "none", "locale": "fi"}
        for family_id in ids
        for role, name, born in (("guardian", "Anna", None),
                                 ("child", "Eeli", date(2023, 5, 1)))])
    db.session.execute(sa.insert(Plan), [
        {"family_id": family_id, "goals": ["parenthood"], "content": "", "agreed_with": "",
         "start_date": date(2026, 1, 1), "review_date": date(2027, 1, 1),
         "social_worker_participated": False, "created_at": now, "updated_at": now}
        for family_id in ids])
    db.session.execute(sa.insert(family_workers), [
        {"family_id": family_id, "user_id": worker.id} for family_id in ids[::10]])
    token = issue_api_token(coordinator, clock=clock)
    worker_token = issue_api_token(worker, clock=clock)
    db.session.commit()
    return ids, token, worker_token


def timed(client, url, headers, repeat):
    """Milliseconds per request over ``repeat`` requests, after one warm-up."""
    return median_and_p95(timed_gets(client, url, headers, repeat, warm_ups=1)[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()

    with throwaway_database() as url:
        app = build_app(url)
        try:
            (ids, token, worker_token), fill_seconds = create_and_fill(app, fill,
                                                                       args.families)
            client = app.test_client()
            coordinator = {"Authorization": f"Bearer {token}"}
            worker = {"Authorization": f"Bearer {worker_token}"}
            middle = ids[len(ids) // 2]
            cases = [
                ("API list, coordinator, 50 per page", "/api/v1/families?per_page=50",
                 coordinator),
                ("API list, coordinator, search 'nimi42'", "/api/v1/families?q=nimi42",
                 coordinator),
                ("API list, family worker (assigned only)", "/api/v1/families", worker),
                ("API detail with members and plan", f"/api/v1/families/{middle}",
                 coordinator),
            ]
            print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, "
                  f"families: {args.families}, requests per case: {args.repeat}")
            print_machine()
            print(f"fill: {fill_seconds:.1f} s")
            for name, path, headers in cases:
                median, p95 = timed(client, path, headers, args.repeat)
                print(f"{name}: median {median:.1f} ms, p95 {p95:.1f} ms")
        finally:
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
