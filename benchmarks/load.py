"""Load: the app under gunicorn on PostgreSQL, driven from a second process by a
mix of page views, API calls and calendar feed fetches, for a bounded time.

Builds a throwaway PostgreSQL schema (BENCH_DATABASE_URL, by default this
machine's database `test`), fills it with the demo data (demo.seed: six
municipalities' families, groups, visits and staff), gives a coordinator and a
family worker an API token and a feed each, and serves it with gunicorn on
loopback. A second process runs CLIENTS keep-alive clients, each signed in
through the login form as a coordinator or a family worker, each sending the
next request as soon as the last one is answered (a closed loop), for
``--seconds`` or ``--max-requests``, whichever ends first.

The mix, by weight: pages 50 (the dashboard, the family list, a family, the
week, a group, the reports), API 30 (families, a family, groups, visits, me),
feeds 20 (half of them conditional, answered 304). An error is any answer other
than the one expected (200, or 304 for a conditional feed fetch) or a failed
connection. Printed: requests, throughput, latency p50/p95/p99 in all and per
kind, and the errors.

Usage: .venv/bin/python benchmarks/load.py [--seconds 30] [--clients 8] [--workers 4]
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
import multiprocessing  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from benchmarks.support import free_port, start_gunicorn, stop, throwaway_database  # noqa: E402

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET_KEY = "load-benchmark-" + uuid.uuid4().hex
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"'
                  r'|name="csrf_token" value="([^"]+)"')
WEIGHTS = {"page": 50, "api": 30, "feed": 20}


# --- the data --------------------------------------------------------------

def prepare(url: str) -> dict:
    """Demo data in the throwaway schema; what the clients will ask for."""
    import demo
    from accounts.models import User
    from accounts.services import issue_api_token
    from app import create_app
    from calendars.feeds import tokens as feed_tokens
    from config import Config, settings
    from core.clock import FixedClock
    from core.places import ensure_reference_data
    from extensions import db
    from families.models import Family
    from groups.models import PeerGroup

    app = create_app(settings(Config, SQLALCHEMY_DATABASE_URI=url, SECRET_KEY=SECRET_KEY))
    now = datetime.now(UTC)
    with app.app_context():
        db.create_all()
        ensure_reference_data()
        demo.seed(now, random.Random(7))
        db.session.commit()
        users = {role: db.session.scalar(sa.select(User).where(
            User.role == role, User.email.in_(demo.DEMO_EMAILS)).order_by(User.id))
            for role in ("coordinator", "family_worker")}
        clock = FixedClock(now)
        plan = {"users": {}, "feeds": [],
                "families": db.session.scalars(sa.select(Family.id).where(
                    Family.municipality.has(name=users["coordinator"].municipalities[0].name))
                    .limit(50)).all(),
                "groups": db.session.scalars(sa.select(PeerGroup.id).limit(20)).all(),
                "counts": {"families": db.session.scalar(sa.select(sa.func.count(Family.id))),
                           "groups": db.session.scalar(sa.select(sa.func.count(PeerGroup.id)))}}
        for role, user in users.items():
            plan["users"][role] = {"email": user.email, "id": user.id,
                                   "token": issue_api_token(user, clock=clock)}
            _, secret = feed_tokens.create_feed(
                user, owner_type="worker", owner_id=user.id, locale="fi",
                detailed_allowed=False, clock=clock)
            plan["feeds"].append(f"/calendars/feeds/{secret}.ics")
        db.session.commit()
        db.engine.dispose()
    plan["password"] = demo.PASSWORD
    plan["today"] = now.date().isoformat()
    return plan


# --- the server ------------------------------------------------------------

def serve(url: str, workers: int) -> tuple[subprocess.Popen, int]:
    """The app under gunicorn on the throwaway database, its own address its public one."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update({"FLASK_SQLALCHEMY_DATABASE_URI": url, "FLASK_SECRET_KEY": SECRET_KEY,
                "FLASK_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"})
    return start_gunicorn("app:create_app()", env, workers=workers, port=port)


# --- the clients (in the second process) -----------------------------------

class Client:
    """One keep-alive connection with a session cookie."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            self.connection.close()  # the server closed it: open a new one, once
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return response.status, dict(response.getheaders()), data

    def sign_in(self, email: str, password: str) -> None:
        _, _, page = self.request("GET", "/login")
        match = CSRF.search(page.decode())
        form = urlencode({"email": email, "password": password,
                          "csrf_token": match.group(1) or match.group(2)})
        status, _, _ = self.request("POST", "/login", form,
                                    {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"sign-in as {email} answered {status}")


def requests_of(plan: dict, role: str, rng: random.Random):
    """The next request of a client: (kind, path, headers, expected status)."""
    user = plan["users"][role]
    bearer = {"Authorization": f"Bearer {user['token']}", "Accept": "application/json"}
    today = datetime.fromisoformat(plan["today"])
    week = (today + timedelta(days=7)).date().isoformat()
    pages = ["/", "/families/", "/calendars/week"]
    if role == "coordinator":  # reports are for coordinators (and admins)
        pages += ["/reports/", *(f"/families/{rng.choice(plan['families'])}"
                                 for _ in range(2))]
    pages += [f"/groups/{rng.choice(plan['groups'])}"] if plan["groups"] else []
    apis = ["/api/v1/families", "/api/v1/groups", "/api/v1/me",
            f"/api/v1/visits?{urlencode({'from': plan['today'], 'to': week})}"]
    if role == "coordinator":
        apis.append(f"/api/v1/families/{rng.choice(plan['families'])}")
    kind = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    if kind == "page":
        return kind, rng.choice(pages), {}, 200
    if kind == "api":
        return kind, rng.choice(apis), bearer, 200
    return kind, rng.choice(plan["feeds"]), {}, 200


def drive(port: int, plan: dict, seconds: float, clients: int, max_requests: int,
          queue) -> None:
    """Run the clients; put every (kind, status, latency, ok) on the queue as JSON."""
    results, errors = [], []
    lock = threading.Lock()
    etags: dict[str, str] = {}
    start = threading.Barrier(clients + 1)
    bounds = {"end": time.perf_counter() + 3600}

    def run(number: int):
        rng = random.Random(number)
        role = "coordinator" if number % 2 == 0 else "family_worker"
        try:
            client = Client(port)
            client.sign_in(plan["users"][role]["email"], plan["password"])
        except Exception as error:  # noqa: BLE001 - reported
            errors.append(f"client {number}: {error!r}")
            start.abort()
            return
        start.wait()
        mine = []
        while time.perf_counter() < bounds["end"] and len(results) + len(mine) < max_requests:
            kind, path, headers, expected = requests_of(plan, role, rng)
            if kind == "feed" and path in etags and rng.random() < 0.5:
                headers, expected = {"If-None-Match": etags[path]}, 304
            began = time.perf_counter()
            try:
                status, answer_headers, _ = client.request("GET", path, headers=headers)
                ok = status == expected
            except (http.client.HTTPException, OSError) as error:
                status, answer_headers, ok = repr(error), {}, False
            mine.append((kind, status, time.perf_counter() - began, ok))
            if kind == "feed" and "ETag" in answer_headers:
                etags[path] = answer_headers["ETag"]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    try:
        start.wait()
        began = time.perf_counter()
        bounds["end"] = began + seconds
    except threading.BrokenBarrierError:
        began = time.perf_counter()
    for thread in threads:
        thread.join()
    queue.put(json.dumps({"elapsed": time.perf_counter() - began, "results": results,
                          "errors": errors}))


# --- the run ---------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def report(outcome: dict, args, plan: dict) -> None:
    results, elapsed = outcome["results"], outcome["elapsed"]
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"data: demo data, {plan['counts']['families']} families, "
          f"{plan['counts']['groups']} groups; PostgreSQL")
    print(f"gunicorn: {args.workers} sync workers on loopback; {args.clients} clients in a "
          f"second process, closed loop, {elapsed:.1f} s")
    if outcome["errors"]:
        print("client errors:", *outcome["errors"], sep="\n  ")
    failed = [row for row in results if not row[3]]
    print(f"requests: {len(results):,}, throughput {len(results) / elapsed:,.0f} req/s, "
          f"errors: {len(failed)}")
    for kind in ("all", *WEIGHTS):
        rows = [row for row in results if kind == "all" or row[0] == kind]
        latencies = [row[2] * 1000 for row in rows]
        if not latencies:
            continue
        print(f"  {kind:5} {len(rows):7,} requests  p50 {percentile(latencies, 0.50):6.1f} ms"
              f"  p95 {percentile(latencies, 0.95):6.1f} ms"
              f"  p99 {percentile(latencies, 0.99):6.1f} ms"
              f"  mean {statistics.fmean(latencies):6.1f} ms")
    for kind, status, _, _ in failed[:10]:
        print(f"  error: {kind} answered {status}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args()
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_DATABASE)

    with throwaway_database() as url:
        started = time.perf_counter()
        plan = prepare(url)
        print(f"fill: {time.perf_counter() - started:.1f} s")
        server, port = serve(url, args.workers)
        try:
            context = multiprocessing.get_context("spawn")
            queue = context.Queue()
            driver = context.Process(target=drive, args=(
                port, plan, args.seconds, args.clients, args.max_requests, queue))
            driver.start()
            outcome = json.loads(queue.get(timeout=args.seconds + 300))
            driver.join(timeout=60)
        finally:
            stop(server)
        report(outcome, args, plan)


if __name__ == "__main__":
    main()
