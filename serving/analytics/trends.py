"""Benchmark metrics over time (pure): which direction is worse, changes, and regressions."""

from enum import StrEnum

import numpy as np
import pandas as pd


class Metric(StrEnum):
    p95_latency = "p95_latency"
    throughput = "throughput"
    energy = "energy"

    @property
    def higher_is_worse(self) -> bool:
        return self is not Metric.throughput

    @property
    def unit(self) -> str:
        return {"p95_latency": "ms", "throughput": "outputs/s per GPU", "energy": "J/output"}[
            self.value
        ]


class Baseline(StrEnum):
    """What the latest run is compared with: the run before it, or the median of the runs
    before it (one noisy earlier run then neither hides nor fakes a regression)."""

    previous = "previous"
    median = "median"


REGRESSION_COLUMNS = [
    "result_key", "metric", "latest_value", "latest_at", "baseline_value", "baseline_runs",
    "previous_at", "change_pct",
]  # fmt: skip


def change_pct(first: float, last: float) -> float | None:
    """Signed change from `first` to `last` in percent; None when `first` is 0 (undefined)."""
    if first == 0:
        return None
    return (last - first) / abs(first) * 100.0


def find_regressions(
    runs: pd.DataFrame,
    metrics: list[Metric],
    *,
    threshold_pct: float,
    baseline: Baseline = Baseline.previous,
    window: int = 5,
) -> pd.DataFrame:
    """Configurations whose latest run is worse than the baseline by more than `threshold_pct`.

    `runs` has one row per run: `result_key`, `measured_at` and a column per metric (missing
    values NaN). A configuration with a single run, or whose latest run lacks the metric, has
    nothing to compare and is left out; earlier runs lacking it are skipped. The baseline looks
    at most `window` earlier runs back. `change_pct` is signed (latency up: positive,
    throughput down: negative); "worse" follows each metric's direction.
    """
    ordered = runs.sort_values(["result_key", "measured_at"], kind="stable")
    latest = ordered.groupby("result_key", sort=False).tail(1)
    earlier = ordered.drop(index=latest.index)
    found = [
        _regressions(latest, earlier, metric, threshold_pct, baseline, window) for metric in metrics
    ]
    found = [frame for frame in found if not frame.empty]
    if not found:
        return pd.DataFrame(columns=REGRESSION_COLUMNS)
    return pd.concat(found, ignore_index=True)


def _regressions(
    latest: pd.DataFrame,
    earlier: pd.DataFrame,
    metric: Metric,
    threshold_pct: float,
    baseline: Baseline,
    window: int,
) -> pd.DataFrame:
    name = metric.value
    history = earlier[earlier[name].notna()].groupby("result_key", sort=False).tail(window)
    summary = history.groupby("result_key").agg(
        previous=(name, "last"),
        median=(name, "median"),
        previous_at=("measured_at", "last"),
        baseline_runs=(name, "size"),
    )
    rows = latest[latest[name].notna()].join(summary, on="result_key", how="inner")
    base = rows["previous"] if baseline is Baseline.previous else rows["median"]
    # A zero baseline has no relative change: leave it out rather than divide by zero.
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = (rows[name] - base) / base.abs() * 100.0
    worse_by = pct if metric.higher_is_worse else -pct
    # Rounded: (1.1 - 1.0) / 1.0 is 10.000000000000009%, which is not "more than 10%".
    hit = (base != 0) & (worse_by.round(9) > threshold_pct)
    return pd.DataFrame(
        {
            "result_key": rows.loc[hit, "result_key"],
            "metric": name,
            "latest_value": rows.loc[hit, name],
            "latest_at": rows.loc[hit, "measured_at"],
            "baseline_value": base[hit],
            "baseline_runs": rows.loc[hit, "baseline_runs"],
            "previous_at": rows.loc[hit, "previous_at"],
            "change_pct": pct[hit],
        },
        columns=REGRESSION_COLUMNS,
    )
