"""A reader who tries to work hidden figures out of what a report publishes.

Given lines of published figures (numbers, "<5" or "x") that add up to a
published total (or to a hidden one shared by the lines), the reader knows
that "<5" is 0-4 and "x" at least 5, and solves for the smallest and largest
whole value each "<5" can take (integer programming with SciPy). A figure
whose smallest and largest value are the same has been worked out.
"""

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

SMALL, SECONDARY = "<5", "x"
UNBOUNDED = 10**6


def pinned_figures(lines, total) -> list[tuple[int, int, int]]:
    """(line, position, value) of every "<5" whose value the reader can pin down."""
    variables = []  # (line index or None for the total, position)
    bounds_low, bounds_high = [], []

    def variable(shown, key):
        variables.append(key)
        bounds_low.append(0 if shown == SMALL else 5)
        bounds_high.append(4 if shown == SMALL else UNBOUNDED)
        return len(variables) - 1

    total_index = variable(total, (None, None)) if isinstance(total, str) else None
    equations = []
    for line_index, line in enumerate(lines):
        coefficients, known = {}, 0
        for position, shown in enumerate(line):
            if isinstance(shown, str):
                coefficients[variable(shown, (line_index, position))] = 1
            else:
                known += shown
        if total_index is None:
            equations.append((coefficients, total - known))
        else:
            coefficients[total_index] = -1
            equations.append((coefficients, -known))
    if not variables:
        return []
    matrix = np.zeros((max(len(equations), 1), len(variables)))
    right = np.zeros(max(len(equations), 1))
    for row, (coefficients, value) in enumerate(equations):
        for column, coefficient in coefficients.items():
            matrix[row, column] = coefficient
        right[row] = value
    constraints = LinearConstraint(matrix, right, right)
    bounds = Bounds(bounds_low, bounds_high)
    integrality = np.ones(len(variables))
    pinned = []
    for index, (line_index, position) in enumerate(variables):
        if line_index is None or lines[line_index][position] != SMALL:
            continue
        extremes = []
        for sign in (1, -1):
            objective = np.zeros(len(variables))
            objective[index] = sign
            result = milp(objective, constraints=constraints, bounds=bounds,
                          integrality=integrality)
            assert result.success, "the published figures contradict each other"
            extremes.append(round(result.x[index]))
        if extremes[0] == extremes[1]:
            pinned.append((line_index, position, extremes[0]))
    return pinned
