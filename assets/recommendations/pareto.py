"""N-dimensional Pareto fronts (non-dominated rows), matching `paretoset.paretoset` exactly.

Row a dominates row b when a is at least as good in every column and better in one. Identical
rows never dominate each other, so with `distinct=False` all copies of a front point are on the
front; with `distinct=True` (paretoset's default) only the first copy is.
"""

import numpy as np

# Candidates processed per round: large enough for numpy to pay off, small enough that the first
# rounds (the strongest points, which dominate the most) remove most rows before the rest is seen.
_BLOCK = 64


def pareto_mask(matrix: np.ndarray, benefit: np.ndarray, distinct: bool = False) -> np.ndarray:
    """Boolean mask of the non-dominated rows of `matrix` (n x m, no NaN).

    `benefit[j]` is True where higher is better in column j. `distinct` as in paretoset.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    benefit = np.asarray(benefit, dtype=bool)
    if matrix.ndim != 2 or matrix.shape[1] == 0 or benefit.shape != (matrix.shape[1],):
        raise ValueError(
            f"need an n x m matrix (m > 0) and m directions: {matrix.shape}, {benefit}"
        )
    if np.isnan(matrix).any():
        raise ValueError("matrix has NaN: drop or impute those rows first")
    costs = np.where(benefit, -matrix, matrix)  # minimise every column from here on
    mask = _front_2d(costs) if costs.shape[1] == 2 else _front_nd(costs)
    if distinct and mask.any():
        front = np.flatnonzero(mask)
        _, first = np.unique(costs[front], axis=0, return_index=True)
        mask[:] = False
        mask[front[first]] = True
    return mask


def _front_2d(costs: np.ndarray) -> np.ndarray:
    """O(n log n): after a (x, y) sort, a row is dominated iff some earlier, different row has
    y at most its own — that is, iff the running minimum of y before its group of copies does."""
    n = costs.shape[0]
    order = np.lexsort((costs[:, 1], costs[:, 0]))
    x, y = costs[order, 0], costs[order, 1]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (x[1:] != x[:-1]) | (y[1:] != y[:-1])
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    best_before = np.empty(n)
    best_before[:1] = np.inf
    np.minimum.accumulate(y[:-1], out=best_before[1:])
    mask = np.empty(n, dtype=bool)
    mask[order] = best_before[group_start] > y
    return mask


def _front_nd(costs: np.ndarray) -> np.ndarray:
    """Sort-filter-skyline on dense ranks.

    Ranks keep every comparison exact and make the rank sum strictly smaller for a dominating
    row, so in rank-sum order a row can only be dominated by rows before it. Each round takes the
    next block of surviving rows, keeps those no other row of the block dominates (they are
    final: anything that dominates them came earlier and would have removed them), and drops
    every later row they dominate.
    """
    n, m = costs.shape
    ranks = np.empty((m, n), dtype=np.int32)  # one row per criterion: contiguous per comparison
    for j in range(m):
        ranks[j] = np.unique(costs[:, j], return_inverse=True)[1].ravel()
    total = ranks.sum(axis=0, dtype=np.int64)
    alive = np.argsort(total, kind="stable")
    mask = np.zeros(n, dtype=bool)
    while alive.size:
        block, rest = alive[:_BLOCK], alive[_BLOCK:]
        front = block[~_dominated_by(block, block, ranks, total).any(axis=0)]
        mask[front] = True
        alive = rest[~_dominated_by(front, rest, ranks, total).any(axis=0)]
    return mask


def _dominated_by(a: np.ndarray, b: np.ndarray, ranks: np.ndarray, total: np.ndarray) -> np.ndarray:
    """len(a) x len(b) booleans: does row a[i] dominate row b[k]?"""
    ranks_a, ranks_b = ranks[:, a, None], ranks[:, None, b]
    at_most = ranks_a[0] <= ranks_b[0]
    for j in range(1, ranks.shape[0]):
        at_most &= ranks_a[j] <= ranks_b[j]
    # At most as large everywhere and a smaller rank sum means smaller somewhere: not a copy.
    at_most &= total[a, None] < total[None, b]
    return at_most
