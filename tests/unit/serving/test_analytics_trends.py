"""Regression detection and changes over hand-made run series."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from serving.analytics.trends import Baseline, Metric, change_pct, find_regressions

T0 = datetime(2025, 1, 1, tzinfo=UTC)
NAN = np.nan


def _runs(series: dict[str, list[tuple[float, float, float]]]) -> pd.DataFrame:
    """{result_key: [(p95_latency, throughput, energy), ...]} oldest first, a day apart."""
    rows = [
        {"result_key": key, "measured_at": T0 + timedelta(days=i), "p95_latency": lat,
         "throughput": tput, "energy": energy}
        for key, runs in series.items()
        for i, (lat, tput, energy) in enumerate(runs)
    ]  # fmt: skip
    # Shuffled: the function must not rely on the input order.
    return pd.DataFrame(rows).sample(frac=1.0, random_state=7)


def _found(runs: pd.DataFrame, **kwargs) -> list[tuple[str, str, float]]:
    kwargs = {"threshold_pct": 10.0} | kwargs
    frame = find_regressions(runs, list(Metric), **kwargs)
    return sorted(
        (r.result_key, r.metric, round(r.change_pct, 6)) for r in frame.itertuples(index=False)
    )


def test_each_metric_regresses_in_its_own_direction():
    runs = _runs(
        {
            "slower": [(20.0, 100.0, 1.0), (25.0, 100.0, 1.0)],
            "fewer": [(20.0, 100.0, 1.0), (20.0, 80.0, 1.0)],
            "hungrier": [(20.0, 100.0, 1.0), (20.0, 100.0, 1.5)],
        }
    )
    assert _found(runs) == [
        ("fewer", "throughput", -20.0),
        ("hungrier", "energy", 50.0),
        ("slower", "p95_latency", 25.0),
    ]


def test_improvements_are_not_regressions():
    # Latency down, throughput up, energy down: all better.
    runs = _runs({"better": [(20.0, 100.0, 2.0), (10.0, 200.0, 1.0)]})
    assert _found(runs) == []


@pytest.mark.parametrize(
    "series",
    [
        [(20.0, 100.0, 1.0)],  # a single run: nothing to compare with
        [(20.0, 100.0, 1.0), (20.0, 100.0, 1.0)],  # equal values
        [(20.0, 100.0, 1.0), (21.9, 91.0, 1.09)],  # noise below the threshold
        [(20.0, 100.0, 1.0), (22.0, 90.0, 1.1)],  # exactly at it: "more than" is not met
    ],
)
def test_nothing_to_report(series):
    assert _found(_runs({"k": series})) == []


def test_only_the_latest_run_counts():
    # A regression in the middle that the latest run recovered from is history, not news.
    runs = _runs({"k": [(20.0, 100.0, 1.0), (40.0, 100.0, 1.0), (20.0, 100.0, 1.0)]})
    assert _found(runs) == []
    assert _found(runs, baseline=Baseline.median) == []


def test_median_baseline_ignores_one_noisy_earlier_run():
    series = [(20.0, 100.0, 1.0), (21.0, 100.0, 1.0), (19.0, 100.0, 1.0), (40.0, 100.0, 1.0)]
    series.append((24.0, 100.0, 1.0))
    runs = _runs({"k": series})
    # Against the outlier just before it, 24 looks like a big improvement...
    assert _found(runs, baseline=Baseline.previous) == []
    # ...against the median of the earlier runs (20.5) it is 17% worse.
    found = find_regressions(
        runs, [Metric.p95_latency], threshold_pct=10.0, baseline=Baseline.median, window=4
    )
    assert found["baseline_value"].tolist() == [20.5]
    assert found["baseline_runs"].tolist() == [4]
    assert found["change_pct"].round(4).tolist() == [round(3.5 / 20.5 * 100, 4)]


def test_median_window_limits_how_far_back_it_looks():
    series = [(100.0, 1.0, 1.0), (100.0, 1.0, 1.0), (20.0, 1.0, 1.0), (20.0, 1.0, 1.0)]
    runs = _runs({"k": [*series, (24.0, 1.0, 1.0)]})
    assert _found(runs, baseline=Baseline.median, window=2) == [("k", "p95_latency", 20.0)]
    assert _found(runs, baseline=Baseline.median, window=4) == []


def test_missing_values():
    runs = _runs(
        {
            # The latest run lacks throughput: nothing to say about it.
            "no-latest": [(20.0, 100.0, NAN), (20.0, NAN, NAN)],
            # An earlier run lacking the metric is skipped: compare with the one before it.
            "gap": [(20.0, 100.0, NAN), (NAN, 100.0, NAN), (30.0, 100.0, NAN)],
        }
    )
    frame = find_regressions(runs, list(Metric), threshold_pct=10.0)
    assert frame[["result_key", "metric", "baseline_value"]].values.tolist() == [
        ["gap", "p95_latency", 20.0]
    ]
    assert frame["previous_at"].tolist() == [T0]
    assert frame["latest_at"].tolist() == [T0 + timedelta(days=2)]


def test_zero_baseline_is_left_out():
    assert _found(_runs({"k": [(0.0, 100.0, 1.0), (5.0, 100.0, 1.0)]})) == []


def test_empty_input_keeps_the_columns():
    frame = find_regressions(_runs({"k": [(20.0, 100.0, 1.0)]}), list(Metric), threshold_pct=10.0)
    assert frame.empty
    assert "change_pct" in frame.columns


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [(100.0, 150.0, 50.0), (100.0, 50.0, -50.0), (-10.0, -5.0, 50.0), (5.0, 5.0, 0.0)],
)
def test_change_pct(first, last, expected):
    assert change_pct(first, last) == pytest.approx(expected)


def test_change_pct_from_zero_is_undefined():
    assert change_pct(0.0, 5.0) is None


def test_metric_directions():
    assert Metric.p95_latency.higher_is_worse
    assert Metric.energy.higher_is_worse
    assert not Metric.throughput.higher_is_worse
