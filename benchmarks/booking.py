"""How fast a visit is booked, refused and moved, alone and with other bookings at once.

Builds a throwaway database (SQLite in a temporary folder, or PostgreSQL when
BENCH_DATABASE_URL is set, in a schema of its own) with family workers (Monday
to Friday 8-16), families with plans assigned to them, and two visits a
working day for every worker (9-10 and 11-12) from 60 days back to 60 ahead.
A coordinator books through the JSON API with a bearer token.

In-process (Flask's test client), one request at a time, after a warm-up:
booking a visit that fits (201), one that clashes (409), and moving a booked
visit (200). Then under gunicorn on loopback (--workers processes), --clients
threads on keep-alive connections each book --bookings visits as fast as they
are answered: first each client for a worker of its own, then all of them for
one worker at times that do not overlap (these wait for each other on the
worker's calendar lock). Printed: median and p95 per case.

Usage: .venv/bin/python benchmarks/booking.py [--workers 4] [--clients 8]
"""

import sys
from pathlib import Path

# The project's root, not this folder, comes first on the path: run as a
# script, this folder's calendar.py would shadow the standard calendar module.
ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from datetime import time as clock_time  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from accounts.services import issue_api_token  # noqa: E402
from benchmarks.support import (  # noqa: E402
    build_app,
    create_and_fill,
    families_with_plans,
    median_and_p95,
    print_machine,
    staff,
    start_gunicorn,
    stop,
    throwaway_database,
)
from calendars.models import HomeVisit, visit_workers  # noqa: E402
from core.clock import Clock  # noqa: E402
from core.localtime import local_datetime, unit_zone  # noqa: E402
from core.models import Municipality  # noqa: E402
from core.places import ensure_reference_data  # noqa: E402
from extensions import db  # noqa: E402

SECRET_KEY = "booking-benchmark-" + uuid.uuid4().hex
FAMILIES_PER_WORKER = 20
DAYS_AROUND = 60
SLOTS = ((clock_time(9), 60), (clock_time(11), 60))


def fill(worker_count: int, now: datetime) -> dict:
    """Workers, their families and visits, in bulk; what the cases need, by id."""
    zone = unit_zone()
    today = now.astimezone(zone).date()
    ensure_reference_data()
    municipalities = db.session.scalars(sa.select(Municipality).order_by(Municipality.id)).all()
    clock = Clock()
    coordinator, workers = staff(municipalities, worker_count, clock)
    owned = families_with_plans(municipalities, workers, worker_count * FAMILIES_PER_WORKER,
                                today, now, referred_days_ago=lambda number: 400,
                                review_in_days=300)
    visits, owners = [], []
    days = [today + timedelta(days=n) for n in range(-DAYS_AROUND, DAYS_AROUND + 1)]
    for worker in workers:
        for index, day in enumerate(day for day in days if day.weekday() < 5):
            for start_time, minutes in SLOTS:
                family_id, municipality_id = owned[worker.id][index % FAMILIES_PER_WORKER]
                start = local_datetime(day, start_time, zone)
                visits.append({
                    "family_id": family_id, "kind": "home_visit",
                    "start": start, "end": start + timedelta(minutes=minutes),
                    "place": "Katu 1", "municipality_id": municipality_id,
                    "status": "done" if day < today else "scheduled", "status_reason": "",
                    "sequence": 0, "notes": "", "changed_by_hand": False,
                    "created_at": now, "updated_at": now})
                owners.append(worker.id)
    # Ids from the database, so that its sequence goes on after them.
    ids = db.session.scalars(sa.insert(HomeVisit).returning(
        HomeVisit.id, sort_by_parameter_order=True), visits).all()
    db.session.execute(sa.insert(visit_workers), [
        {"visit_id": visit_id, "user_id": user_id} for visit_id, user_id in zip(
            ids, owners, strict=True)])
    token = issue_api_token(coordinator, clock=clock)
    db.session.commit()
    ahead = [today + timedelta(days=n) for n in range(1, 3 * 365)]
    ahead = [day for day in ahead if day.weekday() < 5]
    return {"token": token, "workers": [worker.id for worker in workers],
            "families": {worker_id: [row[0] for row in rows_of]
                         for worker_id, rows_of in owned.items()},
            "days": ahead, "zone": zone, "visits": len(visits)}


def visit_body(data, worker_id, family_id, day, start_time, minutes=60) -> dict:
    start = local_datetime(day, start_time, data["zone"])
    return {"family_id": family_id, "worker_ids": [worker_id], "kind": "home_visit",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=minutes)).isoformat(), "confirm": True}


# --- in-process, one at a time ---------------------------------------------

def in_process(app, data, repeat: int) -> list[tuple[str, list[float]]]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {data['token']}"}
    workers, days = data["workers"], data["days"]

    def call(method, path, body, expected):
        started = time.perf_counter()
        response = client.open(path, method=method, json=body, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == expected, (path, response.get_json())
        return elapsed, response.get_json()

    booked, booking, refusing, moving = [], [], [], []
    for number in range(repeat + 1):  # the first of each is the warm-up
        worker_id = workers[number % len(workers)]
        day = days[number // len(workers)]
        family_id = data["families"][worker_id][number // len(workers)
                                                 % FAMILIES_PER_WORKER]
        elapsed, visit = call("POST", "/api/v1/visits",
                              visit_body(data, worker_id, family_id, day, clock_time(13)),
                              201)
        booked.append(visit["id"])
        booking.append(elapsed)
        elapsed, _ = call("POST", "/api/v1/visits",
                          visit_body(data, worker_id, family_id, day, clock_time(9, 30)), 409)
        refusing.append(elapsed)
    for visit_id in booked:
        elapsed, _ = call("PATCH", f"/api/v1/visits/{visit_id}",
                          {"start": _later(client, headers, visit_id), "confirm": True}, 200)
        moving.append(elapsed)
    return [("Book a visit that fits (201)", booking[1:]),
            ("Book a visit that clashes (409)", refusing[1:]),
            ("Move a booked visit (200)", moving[1:])]


def _later(client, headers, visit_id) -> str:
    """The visit's start 90 minutes later (14:30, free), as the API writes it."""
    start = client.get(f"/api/v1/visits/{visit_id}", headers=headers).get_json()["start"]
    return (datetime.fromisoformat(start) + timedelta(minutes=90)).isoformat()


# --- under gunicorn, several at once ----------------------------------------

def at_once(port, token, bodies_per_client: list[list[dict]]) -> tuple[list[float], dict]:
    """Each client books its list on a keep-alive connection of its own, all
    started together; the latencies of every booking, and the answers counted."""
    barrier = threading.Barrier(len(bodies_per_client))
    samples: list[float] = []
    answers: dict[int, int] = {}
    lock = threading.Lock()

    def client(bodies):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        barrier.wait(timeout=60)
        for body in bodies:
            started = time.perf_counter()
            connection.request("POST", "/api/v1/visits", body=json.dumps(body),
                               headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                samples.append(elapsed)
                answers[response.status] = answers.get(response.status, 0) + 1
        connection.close()

    threads = [threading.Thread(target=client, args=(bodies,)) for bodies in bodies_per_client]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return samples, answers


def under_gunicorn(url, data, *, workers: int, clients: int,
                   bookings: int) -> list[tuple[str, list[float], dict]]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("FLASK_") and key != "DATABASE_URL"}
    env.update({"FLASK_SQLALCHEMY_DATABASE_URI": url, "FLASK_SECRET_KEY": SECRET_KEY})
    process, port = start_gunicorn("app:create_app()", env, workers=workers)
    days = data["days"][20:]
    try:
        # Warm every process up: a refused booking each, a few times over.
        at_once(port, data["token"], [[visit_body(
            data, data["workers"][0], data["families"][data["workers"][0]][0],
            days[0], clock_time(9, 30))] * 3 for _ in range(workers)])
        own = [[visit_body(data, worker_id, data["families"][worker_id][k % 20], days[k],
                           clock_time(13))
                for k in range(bookings)]
               for worker_id in data["workers"][:clients]]
        shared_worker = data["workers"][0]
        # Client c books 12:00 + 30 min x c for 25 minutes: never the same time.
        shared = [[visit_body(data, shared_worker, data["families"][shared_worker][c],
                              days[bookings + k], clock_time(12 + c // 2, 30 * (c % 2)), 25)
                   for k in range(bookings)]
                  for c in range(clients)]
        first = at_once(port, data["token"], own)
        second = at_once(port, data["token"], shared)
    finally:
        stop(process)
    return [(f"{clients} clients at once, each for its own worker", *first),
            (f"{clients} clients at once, all for one worker", *second)]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn processes")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--bookings", type=int, default=25, help="per client")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--family-workers", type=int, default=20)
    args = parser.parse_args()

    with throwaway_database() as url:
        app = build_app(url)
        try:
            now = datetime.now(UTC)
            data, fill_seconds = create_and_fill(app, fill, args.family_workers, now)
            print(f"database: {url.split(':')[0]}, family workers: {args.family_workers}, "
                  f"visits: {data['visits']}, requests per in-process case: {args.repeat}")
            print_machine()
            print(f"fill: {fill_seconds:.1f} s")
            for name, samples in in_process(app, data, args.repeat):
                median, p95 = median_and_p95(samples)
                print(f"{name}: median {median:.1f} ms, p95 {p95:.1f} ms")
            with app.app_context():
                db.engine.dispose()
            for name, samples, answers in under_gunicorn(
                    url, data, workers=args.workers, clients=args.clients,
                    bookings=args.bookings):
                median, p95 = median_and_p95(samples)
                counted = ", ".join(f"{count} x {status}"
                                    for status, count in sorted(answers.items()))
                print(f"{name} (gunicorn, {args.workers} workers): median {median:.1f} ms,"
                      f" p95 {p95:.1f} ms ({counted})")
        finally:
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
