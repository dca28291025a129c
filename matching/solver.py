"""The bulk assignment: each family at most one group, no group over its free
seats, the total score as high as it can be.

Solved exactly as a min-cost flow with OR-Tools (the fastest of the exact
methods measured, see docs/benchmarks.md). Among assignments with the same
total score, one placing more families is preferred. A greedy assignment is
kept beside it for the benchmark's comparison.
"""

from collections.abc import Iterable

import numpy as np
from ortools.graph.python import min_cost_flow

# Scores are whole tenths (0-1000). Multiplying by more than the number of
# families makes "one more family placed" worth less than one tenth of score:
# the total score comes first, the number placed second.
PLACEMENT_WEIGHT = 1_000_000

Candidate = tuple[int, int, int]  # (family id, group id, score in tenths)


def solve(candidates: Iterable[Candidate], free_seats: dict[int, int]) -> dict[int, int]:
    """The optimal assignment as {family id: group id}."""
    candidates = list(candidates)
    if not candidates:
        return {}
    family, group, score = (np.array(column, dtype=np.int64)
                            for column in zip(*candidates, strict=True))
    chosen = solve_pairs(family, group, score, free_seats)
    return dict(zip(family[chosen].tolist(), group[chosen].tolist(), strict=True))


def solve_pairs(family: np.ndarray, group: np.ndarray, score: np.ndarray,
                free_seats: dict[int, int]) -> np.ndarray:
    """The optimal assignment of candidate pairs given as arrays (family ids,
    group ids, scores in tenths): the positions of the pairs chosen, in the
    order of (family, group)."""
    family, group, score = (np.asarray(a, dtype=np.int64) for a in (family, group, score))
    if not len(family):
        return np.zeros(0, dtype=np.int64)
    # Arcs in the order of the sorted (family, group, score) triples: among
    # optimal assignments the same one is found whatever order pairs come in.
    order = np.lexsort((score, group, family))
    families = np.unique(family)
    groups = np.array(sorted(g for g in free_seats if free_seats[g] > 0), dtype=np.int64)
    usable = order[np.isin(group[order], groups)]
    family_node = 1 + np.searchsorted(families, family[usable])
    group_node = 1 + len(families) + np.searchsorted(groups, group[usable])
    source, sink = 0, 1 + len(families) + len(groups)
    family_nodes = 1 + np.arange(len(families), dtype=np.int64)
    group_nodes = 1 + len(families) + np.arange(len(groups), dtype=np.int64)
    ones = np.ones(len(families), dtype=np.int64)
    starts = np.concatenate([np.full(len(families), source), family_node, family_nodes,
                             group_nodes])
    ends = np.concatenate([family_nodes, group_node, np.full(len(families), sink),
                           np.full(len(groups), sink)])
    capacities = np.concatenate([ones, np.ones(len(usable), dtype=np.int64), ones,
                                 np.array([free_seats[g] for g in groups.tolist()],
                                          dtype=np.int64)])
    costs = np.concatenate([np.zeros(len(families), dtype=np.int64),
                            -(score[usable] * PLACEMENT_WEIGHT + 1),
                            np.zeros(len(families) + len(groups), dtype=np.int64)])

    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        starts.astype(np.int64), ends.astype(np.int64), capacities, costs)
    flow.set_node_supply(source, len(families))
    flow.set_node_supply(sink, -len(families))
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    flows = flow.flows(arcs)
    first = len(families)
    return usable[np.flatnonzero(flows[first:first + len(usable)] > 0)]


def total(assignment: dict[int, int], candidates: Iterable[Candidate]) -> int:
    """The total score (tenths) of an assignment."""
    scores = {(family, group): score for family, group, score in candidates}
    return sum(scores[(family, group)] for family, group in assignment.items())


def greedy(candidates: Iterable[Candidate], free_seats: dict[int, int]) -> dict[int, int]:
    """Best pairs first: fast, and how much it loses is what the benchmark shows."""
    left = dict(free_seats)
    assignment = {}
    for family, group, _score in sorted(candidates, key=lambda c: (-c[2], c[0], c[1])):
        if family not in assignment and left.get(group, 0) > 0:
            assignment[family] = group
            left[group] -= 1
    return assignment
