"""How long a bulk matching proposal takes for a season's waiting list.

Builds a throwaway database (SQLite in a temporary folder, or PostgreSQL with
BENCH_DATABASE_URL, in a schema of its own) with waiting families and open
groups, then times the stages of a proposal: loading and scoring the
candidate pairs, solving, explaining, storing; and a greedy assignment beside
it. Peak memory is measured on a second, identical proposal run under
tracemalloc (which slows allocation, so its time is printed apart).
Usage: .venv/bin/python benchmarks/matching.py [--sizes 5000x300 20000x1000]
"""

import sys
from pathlib import Path

# The project's root, not this folder, comes first on the path: run as a
# script, this folder's calendar.py would shadow the standard calendar module.
sys.path[0] = str(Path(__file__).resolve().parent.parent)


import argparse  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from accounts.services import create_user  # noqa: E402
from app import create_app  # noqa: E402
from benchmarks.support import print_machine, throwaway_database  # noqa: E402
from calendars.models import HomeVisit  # noqa: E402
from config import TestConfig, settings  # noqa: E402
from core.clock import Clock  # noqa: E402
from core.models import Municipality  # noqa: E402
from core.places import ensure_reference_data  # noqa: E402
from core.vocabulary import SUPPORT_AREAS  # noqa: E402
from extensions import db  # noqa: E402
from families.models import Family, Member, Plan  # noqa: E402
from groups.models import GroupSession, PeerGroup, group_municipalities  # noqa: E402
from matching import services, solver  # noqa: E402

HELSINKI = ZoneInfo("Europe/Helsinki")
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=HELSINKI)
AREAS = list(SUPPORT_AREAS)


def fill(families, groups, rng):
    """Waiting families and open groups; about 30 eligible groups per family."""
    ensure_reference_data()
    municipalities = max(6, groups // 50)
    for number in range(7, municipalities + 1):
        db.session.add(Municipality(name=f"Kunta {number}",
                                    latitude=61.2 + rng.random(), longitude=26 + 2 * rng.random()))
    db.session.flush()
    places = [m.id for m in db.session.scalars(sa.select(Municipality).order_by(Municipality.id))]
    now = datetime.now(UTC)
    group_rows = []
    for number in range(groups):
        low = rng.choice((0, 6, 12, 24, 36, 48, 60, 84))
        group_rows.append({
            "name": f"Ryhmä {number}", "description": "", "themes": rng.sample(AREAS, 3),
            "min_age_months": low, "max_age_months": low + rng.choice((24, 36, 48, 72)),
            "tracks": ["preventive", "child_protection"], "language": "fi",
            "capacity": rng.randint(8, 15), "status": "open", "roster_version": 0,
            "created_at": now, "updated_at": now})
    db.session.execute(sa.insert(PeerGroup), group_rows)
    group_ids = list(db.session.scalars(sa.select(PeerGroup.id).order_by(PeerGroup.id)))
    db.session.execute(sa.insert(group_municipalities), [
        {"group_id": group_id, "municipality_id": places[index % len(places)]}
        for index, group_id in enumerate(group_ids)])
    sessions = []
    for group_id in group_ids:
        first = NOW.date() + timedelta(days=rng.randint(3, 30))
        hour = rng.choice((9, 10, 13, 17, 18))
        for week in range(8):
            start = datetime.combine(first + timedelta(weeks=week), datetime.min.time(),
                                     tzinfo=HELSINKI).replace(hour=hour)
            sessions.append({"group_id": group_id, "start": start,
                             "end": start + timedelta(minutes=90), "status": "scheduled",
                             "sequence": 0, "changed_by_hand": False, "created_at": now,
                             "updated_at": now})
    db.session.execute(sa.insert(GroupSession), sessions)
    db.session.execute(sa.insert(Family), [{
        "reference": f"PT-2026-{number:05d}", "surname": f"Sukunimi{number}",
        "surname_key": f"sukunimi{number}",
        "municipality_id": rng.choice(places), "address": "", "track": "preventive",
        "referral_source": "self",
        "referral_date": date(2026, 11, 1) - timedelta(days=rng.randint(0, 400)),
        "status": "active", "languages": ["fi"], "created_at": now, "updated_at": now}
        for number in range(families)])
    family_rows = db.session.execute(
        sa.select(Family.id, Family.municipality_id).order_by(Family.id)).all()
    db.session.execute(sa.insert(Plan), [{
        "family_id": family_id, "goals": rng.sample(AREAS, rng.randint(2, 4)), "content": "",
        "agreed_with": "", "start_date": date(2026, 1, 1), "review_date": date(2027, 6, 1),
        "social_worker_participated": False, "created_at": now, "updated_at": now}
        for family_id, _ in family_rows])
    members, visits = [], []
    for family_id, municipality_id in family_rows:
        members.append({"family_id": family_id, "role": "guardian", "first_name": "Anna",
                        "phone": "", "email": "", "reminder_channel": "none",
                        "locale": "fi"})
        for _ in range(rng.randint(1, 3)):
            members.append({"family_id": family_id, "role": "child", "first_name": "Eeli",
                            "birth_date": NOW.date() - timedelta(days=rng.randint(30, 4000)),
                            "phone": "", "email": "", "reminder_channel": "none",
                            "locale": "fi"})
        if rng.random() < 0.3:
            for week in range(4):
                start = NOW + timedelta(days=7 * week + rng.randint(1, 5),
                                        hours=rng.randint(-2, 6))
                visits.append({"family_id": family_id, "kind": "home_visit", "start": start,
                               "end": start + timedelta(hours=1), "place": "",
                               "municipality_id": municipality_id, "status": "scheduled",
                               "status_reason": "", "sequence": 0, "notes": "",
                               "changed_by_hand": False, "created_at": now,
                               "updated_at": now})
    db.session.execute(sa.insert(Member), members)
    db.session.execute(sa.insert(HomeVisit), visits)
    admin = create_user(email="admin@bench.example", name="Admin", role="admin",
                        password="benchmark-password", clock=Clock())
    db.session.commit()
    return admin


def scipy_sparse_solve(candidates, free):
    """The same assignment through scipy's sparse bipartite matching (one column per
    free seat, one "no group" column per family), timed to choose the solver."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    families = sorted({family for family, _, _ in candidates})
    row = {family: index for index, family in enumerate(families)}
    first_column, column = {}, 0
    for group in sorted(free):
        first_column[group] = column
        column += free[group]
    # Weights must be positive: the best edge is the cheapest.
    ceiling = 1000 * solver.PLACEMENT_WEIGHT + 2
    rows, columns, weights = [], [], []
    for family, group, score in candidates:
        for offset in range(free.get(group, 0)):
            rows.append(row[family])
            columns.append(first_column[group] + offset)
            weights.append(ceiling - (score * solver.PLACEMENT_WEIGHT + 1))
    for index in range(len(families)):
        rows.append(index)
        columns.append(column + index)
        weights.append(ceiling)
    matrix = csr_matrix((np.array(weights, dtype=np.float64), (rows, columns)),
                        shape=(len(families), column + len(families)))
    _, matched = min_weight_full_bipartite_matching(matrix)
    owners = [group for group in sorted(free) for _ in range(free[group])]
    return {families[r]: owners[c] for r, c in enumerate(matched) if c < column}


def measure(families, groups):
    with throwaway_database() as url:
        app = create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI=url))
        try:
            with app.app_context():
                db.create_all()
                started = time.perf_counter()
                admin = fill(families, groups, random.Random(families + groups))
                filled = time.perf_counter() - started
                db.session.expire_all()
                started = time.perf_counter()
                run = services.compute(now=NOW, zone=HELSINKI)
                computed = time.perf_counter()
                proposal = services.store(admin, run, [], now=NOW)
                db.session.commit()
                stored = time.perf_counter()
                # The same proposal again for its peak memory: tracemalloc slows
                # every allocation, so this run is timed apart from the one above.
                db.session.expire_all()
                tracemalloc.start()
                traced_started = time.perf_counter()
                traced = services.compute(now=NOW, zone=HELSINKI)
                services.store(admin, traced, [], now=NOW)
                db.session.commit()
                traced_seconds = time.perf_counter() - traced_started
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                del traced
                candidates = list(zip(*(column.tolist() for column in run.candidates),
                                      strict=True))
                free = {group.id: group.free_seats for group in run.groups}
                greedy_started = time.perf_counter()
                quick = solver.greedy(candidates, free)
                greedy_seconds = time.perf_counter() - greedy_started
                optimum = solver.total(run.assignment, candidates)
                greedy_total = solver.total(quick, candidates)
                scipy_started = time.perf_counter()
                other = scipy_sparse_solve(candidates, free)
                scipy_seconds = time.perf_counter() - scipy_started
                scipy_total = solver.total(other, candidates)
                print(f"{families} families x {groups} groups "
                      f"({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}):")
                print(f"  fill: {filled:.1f} s; candidate pairs scored: {run.pairs}, "
                      f"eligible: {len(candidates)} "
                      f"({len(candidates) / max(len(run.family_ids), 1):.1f} per family)")
                print(f"  load: {run.seconds['load']:.2f} s, score: {run.seconds['score']:.2f} s, "
                      f"solve: {run.seconds['solve']:.2f} s, "
                      f"explain: {run.seconds['explain']:.2f} s, "
                      f"store: {stored - computed:.2f} s, "
                      f"whole proposal: {stored - started:.2f} s")
                print(f"  placed: {len(run.assignment)}, total score {optimum / 10:.1f}; "
                      f"greedy: {greedy_seconds:.3f} s, total {greedy_total / 10:.1f} "
                      f"({100 * (optimum - greedy_total) / max(optimum, 1):.1f}% lower), "
                      f"placed {len(quick)}")
                print(f"  scipy's sparse bipartite matching, same pairs: {scipy_seconds:.2f} s,"
                      f" total {scipy_total / 10:.1f}"
                      f" ({'the same' if scipy_total == optimum else 'DIFFERENT'})")
                print(f"  peak Python memory during the proposal: {peak / 2**20:.0f} MiB "
                      f"(that run, under tracemalloc, took {traced_seconds:.2f} s); "
                      f"process peak RSS: "
                      f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
                del proposal
        finally:
            with app.app_context():
                db.engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="+", default=["5000x300", "20000x1000"])
    args = parser.parse_args()
    print_machine()
    for size in args.sizes:
        families, groups = (int(part) for part in size.split("x"))
        measure(families, groups)


if __name__ == "__main__":
    main()
