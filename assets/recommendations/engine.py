"""Recommendations over a candidate frame: hard constraints, a TOPSIS ranking that says how stable
each rank is, and 2-D Pareto fronts (DESIGN §7). Every answer is JSON-ready, with None for NaN.

A candidate frame has one row per benchmark configuration (a model on a GPU for a task):
`result_key`, `model_id`, `gpu`, `num_gpus`, criteria columns named as in `criteria.CRITERIA`
(any may be NaN), optionally `latency_p50_ms`, `ttft_p95_ms` and `license`, and `provenance`.
"""

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from itertools import compress
from typing import Any

import numpy as np
import pandas as pd

from assets.recommendations import topsis
from assets.recommendations.criteria import CRITERIA, LATENCY_P50_COLUMN, criterion
from assets.recommendations.pareto import pareto_mask

_EXAMPLES = 3  # model ids named per constraint: enough to recognise, short enough to read


@dataclass(frozen=True)
class Constraints:
    """Hard limits, each optional; `max_cost_per_million` applies to `pricing`'s cost column.

    A row whose constrained value is missing is removed: it cannot be shown to meet the limit.
    A limit whose column the frame lacks (e.g. no TTFT for ML.ENERGY data) is not applied, and
    the explanation says so.
    """

    max_latency_p95_ms: float | None = None
    max_ttft_p95_ms: float | None = None
    max_cost_per_million: float | None = None
    max_memory_gb: float | None = None
    min_quality: float | None = None
    licenses: tuple[str, ...] | None = None
    pricing: str = "spot"

    def __post_init__(self) -> None:
        if self.pricing not in ("spot", "on_demand"):
            raise ValueError(f"pricing must be 'spot' or 'on_demand', not {self.pricing!r}")

    @property
    def cost_column(self) -> str:
        return f"cost_{self.pricing}_per_million"

    def checks(self) -> list[tuple[str, str, Any, Callable[[pd.Series, Any], pd.Series]]]:
        """(constraint, column, limit, test) in the order they are applied."""
        allowed = list(self.licenses) if self.licenses is not None else None
        return [
            ("max_latency_p95_ms", "latency_p95_ms", self.max_latency_p95_ms, _at_most),
            ("max_ttft_p95_ms", "ttft_p95_ms", self.max_ttft_p95_ms, _at_most),
            ("max_cost_per_million", self.cost_column, self.max_cost_per_million, _at_most),
            ("max_memory_gb", "memory_gb", self.max_memory_gb, _at_most),
            ("min_quality", "quality", self.min_quality, _at_least),
            ("licenses", "license", allowed, pd.Series.isin),
        ]


def apply_constraints(
    frame: pd.DataFrame, constraints: Constraints
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The rows that meet every limit, and what each limit removed, in the order applied."""
    explanation = []
    for name, column, limit, test in constraints.checks():
        if limit is None:
            continue
        applied = column in frame.columns
        keep = test(frame[column], limit) if applied else pd.Series(True, index=frame.index)
        removed = frame.loc[~keep, "model_id"]
        explanation.append(
            {
                "constraint": name,
                "column": column,
                "limit": limit,
                "applied": applied,
                "removed": int(removed.size),
                "examples": list(removed.unique()[:_EXAMPLES]),
            }
        )
        frame = frame[keep]
    return frame, _json_safe(explanation)


def rank(
    frame: pd.DataFrame,
    weights: dict[str, float],
    constraints: Constraints | None = None,
    top_k: int | None = None,
    stability_draws: int = 200,
    seed: int = 0,
    noise: float = 0.05,
) -> dict[str, Any]:
    """Rank the feasible candidates by TOPSIS over the weighted criteria.

    Criteria with weight 0, or with no value among the feasible rows, are dropped and listed
    (when none is left, there is nothing to rank by and `items` is empty).
    A row missing a used criterion gets the column's worst value there, and lists it under
    `missing`: an unmeasured configuration is never rewarded for the gap, and its other
    strengths still count. Ties rank by `result_key`. `margin_to_next` is the score above the
    next candidate in the full ranking (so the last of a top-k still has one), None for the last.

    Rank stability re-ranks `stability_draws` times (seeded): latency drawn uniformly between
    p50 and p95 where the row has a p50, every other value scaled by U(1 - noise, 1 + noise).
    """
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    for name, weight in weights.items():
        criterion(name)
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"weight of {name!r} must be finite and >= 0, got {weight}")
    feasible, excluded = apply_constraints(frame, constraints or Constraints())
    feasible = feasible.sort_values("result_key", kind="stable")
    used, dropped = [], []
    for name, weight in weights.items():
        if weight == 0:
            dropped.append({"name": name, "reason": "weight is 0"})
        elif len(feasible) and np.isnan(_numbers(feasible, [name])).all():
            dropped.append({"name": name, "reason": "no values among the feasible candidates"})
        else:
            used.append(name)
    total = sum(weights[name] for name in used)
    answer: dict[str, Any] = {
        "items": [],
        "criteria": [{**asdict(CRITERIA[name]), "weight": weights[name] / total} for name in used],
        "dropped_criteria": dropped,
        "feasible": len(feasible),
        "candidates": len(frame),
        "excluded": excluded,
        "stability": {"draws": stability_draws, "seed": seed, "relative_noise": noise},
    }
    if used and len(feasible):
        answer["items"] = _items(feasible, used, weights, top_k, stability_draws, seed, noise)
    return _json_safe(answer)


def pareto(frame: pd.DataFrame, x: str, y: str) -> dict[str, Any]:
    """The Pareto front of the candidates on two criteria, and the points it dominates.

    Copies of a front point are all on the front. Points are sorted by x, then y; rows missing
    x or y are left out and counted in `missing`.
    """
    if x == y:
        raise ValueError(f"x and y must differ, both are {x!r}")
    axes = {"x": criterion(x), "y": criterion(y)}
    values = _numbers(frame, [x, y])
    complete = ~np.isnan(values).any(axis=1)
    rows, values = frame[complete], values[complete]
    on_front = pareto_mask(values, np.array([axis.is_benefit for axis in axes.values()]))
    order = np.lexsort((rows["result_key"].to_numpy(dtype=str), values[:, 1], values[:, 0]))
    points = [{**_identity(rows.iloc[i]), "x": values[i, 0], "y": values[i, 1]} for i in order]
    answer = {
        key: {k: getattr(c, k) for k in ("name", "unit", "direction")} for key, c in axes.items()
    }
    answer["front"] = list(compress(points, on_front[order]))
    answer["dominated"] = list(compress(points, ~on_front[order]))
    answer["missing"] = int((~complete).sum())
    return _json_safe(answer)


def _items(
    feasible: pd.DataFrame,
    used: list[str],
    weights: dict[str, float],
    k: int | None,
    draws: int,
    seed: int,
    noise: float,
) -> list[dict[str, Any]]:
    values = _numbers(feasible, used)
    benefit = np.array([CRITERIA[name].is_benefit for name in used])
    w = np.array([weights[name] for name in used])
    matrix = _impute_worst(values, benefit)
    scores = topsis.topsis(matrix, w, benefit)
    shares = topsis.contributions(matrix, w, benefit)
    order = topsis.top_k(scores, len(feasible))
    ranks = None
    if draws > 0:
        low, high = values * (1 - noise), values * (1 + noise)
        if "latency_p95_ms" in used:
            j = used.index("latency_p95_ms")
            p50 = _numbers(feasible, [LATENCY_P50_COLUMN])[:, 0]
            spread = ~np.isnan(p50)
            low[spread, j], high[spread, j] = p50[spread], values[spread, j]
        ranks = _rank_draws(low, high, w, benefit, draws, seed)
    reported = [name for name in CRITERIA if name in feasible.columns]
    raw = _numbers(feasible, reported)
    items = []
    for position, i in enumerate(order[:k]):
        row = feasible.iloc[i]
        following = order[position + 1] if position + 1 < order.size else None
        items.append(
            {
                "rank": position + 1,
                **_identity(row),
                "score": scores[i],
                "margin_to_next": None if following is None else scores[i] - scores[following],
                "values": dict(zip(reported, raw[i], strict=True)),
                "missing": [used[j] for j in np.flatnonzero(np.isnan(values[i]))],
                "contributions": dict(zip(used, shares[i], strict=True)),
                "rank_stability": None if ranks is None else _spread(ranks[:, i], position + 1),
                "provenance": row.get("provenance"),
            }
        )
    return items


def _rank_draws(
    low: np.ndarray,
    high: np.ndarray,
    weights: np.ndarray,
    benefit: np.ndarray,
    draws: int,
    seed: int,
) -> np.ndarray:
    """draws x n ranks (1 = best), each value drawn uniformly in [low, high] (NaN stays missing
    and gets the worst value of its draw, as in the nominal ranking)."""
    rng = np.random.default_rng(seed)
    samples = low + rng.random((draws, *low.shape)) * (high - low)
    ranks = np.empty((draws, low.shape[0]), dtype=np.int64)
    for d in range(draws):
        scores = topsis.topsis(_impute_worst(samples[d], benefit), weights, benefit)
        ranks[d, np.argsort(-scores, kind="stable")] = np.arange(1, low.shape[0] + 1)
    return ranks


def _spread(ranks: np.ndarray, nominal: int) -> dict[str, Any]:
    return {
        "rank_p5": int(np.percentile(ranks, 5, method="lower")),
        "rank_p95": int(np.percentile(ranks, 95, method="higher")),
        "same_rank_share": float((ranks == nominal).mean()),
        "top1_share": float((ranks == 1).mean()),
    }


# NaN compares False: a missing value never meets a limit. astype: columns read with None in
# them arrive as objects, which would not compare with a number.
def _at_most(values: pd.Series, limit: float) -> pd.Series:
    return values.astype(float) <= limit


def _at_least(values: pd.Series, limit: float) -> pd.Series:
    return values.astype(float) >= limit


def _impute_worst(values: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    worst = np.where(benefit, np.nanmin(values, axis=0), np.nanmax(values, axis=0))
    return np.where(np.isnan(values), worst, values)


def _numbers(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The columns as floats; absent columns, missing and non-finite values are NaN."""
    values = np.full((len(frame), len(columns)), np.nan)
    for j, column in enumerate(columns):
        if column in frame.columns:
            values[:, j] = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
    values[~np.isfinite(values)] = np.nan
    return values


def _identity(row: pd.Series) -> dict[str, Any]:
    return {name: row[name] for name in ("result_key", "model_id", "gpu", "num_gpus")}


def _json_safe(value: Any) -> Any:
    """numpy scalars to Python, NaN and inf to None, recursively."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value
