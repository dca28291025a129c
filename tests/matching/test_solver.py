"""The bulk assignment is optimal: against brute force on small instances and
against an independent exact method (scipy's Hungarian algorithm) on medium ones.
"""

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from matching.solver import PLACEMENT_WEIGHT, greedy, solve, total


def brute_force(candidates, free_seats):
    """Every assignment tried: (best total score, most families placed at that score)."""
    by_family = {}
    for family, group, score in candidates:
        by_family.setdefault(family, []).append((group, score))
    families = sorted(by_family)
    best = (0, 0)

    def walk(index, left, score, placed):
        nonlocal best
        if index == len(families):
            best = max(best, (score, placed))
            return
        walk(index + 1, left, score, placed)
        for group, value in by_family[families[index]]:
            if left.get(group, 0) > 0:
                left[group] -= 1
                walk(index + 1, left, score + value, placed + 1)
                left[group] += 1

    walk(0, dict(free_seats), 0, 0)
    return best


def scipy_optimum(candidates, free_seats):
    """The same problem as a rectangular assignment: one column per free seat,
    one "no group" column per family."""
    families = sorted({family for family, _, _ in candidates})
    row = {family: index for index, family in enumerate(families)}
    columns = [group for group in sorted(free_seats) for _ in range(free_seats[group])]
    forbidden = 10.0**15
    cost = np.full((len(families), len(columns) + len(families)), forbidden)
    cost[:, len(columns):] = 0
    for family, group, score in candidates:
        for column, owner in enumerate(columns):
            if owner == group:
                cost[row[family], column] = -(score * PLACEMENT_WEIGHT + 1)
    rows, cols = linear_sum_assignment(cost)
    scores = {(family, group): score for family, group, score in candidates}
    chosen = [(families[r], columns[c]) for r, c in zip(rows, cols, strict=True)
              if c < len(columns) and cost[r, c] < forbidden]
    return sum(scores[pair] for pair in chosen), len(chosen)


def check_valid(assignment, candidates, free_seats):
    allowed = {(family, group) for family, group, _ in candidates}
    assert all(pair in allowed for pair in assignment.items())  # eligible pairs only
    for group, seats in free_seats.items():
        assert sum(1 for g in assignment.values() if g == group) <= seats


instances = st.integers(1, 7).flatmap(lambda families: st.integers(1, 4).flatmap(
    lambda groups: st.tuples(
        st.lists(st.tuples(st.integers(1, families), st.integers(1, groups),
                           st.integers(0, 1000)), max_size=families * groups),
        st.lists(st.integers(0, 3), min_size=groups, max_size=groups))))


@settings(max_examples=250, deadline=None)
@given(instances)
def test_small_instances_match_brute_force(instance):
    pairs, seats = instance
    candidates = list({(f, g): (f, g, s) for f, g, s in pairs}.values())
    free_seats = {group + 1: count for group, count in enumerate(seats)}
    assignment = solve(candidates, free_seats)
    check_valid(assignment, candidates, free_seats)
    assert (total(assignment, candidates), len(assignment)) == \
        brute_force(candidates, free_seats)


def medium_instance(seed, families=500, groups=40):
    rng = random.Random(seed)
    free_seats = {group: rng.randint(8, 15) for group in range(1, groups + 1)}
    candidates = [(family, group, rng.randint(0, 1000))
                  for family in range(1, families + 1)
                  for group in rng.sample(range(1, groups + 1), rng.randint(0, 6))]
    return candidates, free_seats


def test_medium_instances_match_an_independent_exact_method():
    for seed in range(3):
        candidates, free_seats = medium_instance(seed)
        assignment = solve(candidates, free_seats)
        check_valid(assignment, candidates, free_seats)
        assert (total(assignment, candidates), len(assignment)) == \
            scipy_optimum(candidates, free_seats)


def test_greedy_is_valid_but_not_better():
    candidates, free_seats = medium_instance(7)
    quick = greedy(candidates, free_seats)
    check_valid(quick, candidates, free_seats)
    assert total(quick, candidates) <= total(solve(candidates, free_seats), candidates)


def test_ties_are_broken_the_same_way_every_time():
    candidates = [(family, group, 500) for family in range(1, 6) for group in (1, 2)]
    first = solve(candidates, {1: 2, 2: 2})
    assert all(solve(list(reversed(candidates)), {2: 2, 1: 2}) == first for _ in range(3))
    assert len(first) == 4
