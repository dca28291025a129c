"""The bulk assignment: each family at most one group, no group over its free
places, the total score as high as it can be.

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


def _edge_value(score: int) -> int:
    return score * PLACEMENT_WEIGHT + 1


def solve(candidates: Iterable[Candidate], free_places: dict[int, int]) -> dict[int, int]:
    """The optimal assignment as {family id: group id}."""
    candidates = sorted(candidates)
    if not candidates:
        return {}
    families = sorted({family for family, _, _ in candidates})
    groups = sorted(group for group in free_places if free_places[group] > 0)
    family_node = {family: 1 + index for index, family in enumerate(families)}
    group_node = {group: 1 + len(families) + index for index, group in enumerate(groups)}
    source, sink = 0, 1 + len(families) + len(groups)
    usable = [(f, g, s) for f, g, s in candidates if g in group_node]

    starts = ([source] * len(families) + [family_node[f] for f, _, _ in usable]
              + [family_node[f] for f in families] + [group_node[g] for g in groups])
    ends = ([family_node[f] for f in families] + [group_node[g] for _, g, _ in usable]
            + [sink] * len(families) + [sink] * len(groups))
    capacities = ([1] * len(families) + [1] * len(usable) + [1] * len(families)
                  + [free_places[g] for g in groups])
    costs = ([0] * len(families) + [-_edge_value(s) for _, _, s in usable]
             + [0] * len(families) + [0] * len(groups))

    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64),
        np.array(capacities, dtype=np.int64), np.array(costs, dtype=np.int64))
    flow.set_node_supply(source, len(families))
    flow.set_node_supply(sink, -len(families))
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    flows = flow.flows(arcs)
    first = len(families)
    return {usable[index][0]: usable[index][1]
            for index in range(len(usable)) if flows[first + index] > 0}


def total(assignment: dict[int, int], candidates: Iterable[Candidate]) -> int:
    """The total score (tenths) of an assignment."""
    scores = {(family, group): score for family, group, score in candidates}
    return sum(scores[(family, group)] for family, group in assignment.items())


def greedy(candidates: Iterable[Candidate], free_places: dict[int, int]) -> dict[int, int]:
    """Best pairs first: fast, and how much it loses is what the benchmark shows."""
    left = dict(free_places)
    assignment = {}
    for family, group, _score in sorted(candidates, key=lambda c: (-c[2], c[0], c[1])):
        if family not in assignment and left.get(group, 0) > 0:
            assignment[family] = group
            left[group] -= 1
    return assignment
