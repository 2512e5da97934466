"""Regression detection between consecutive results of the same work."""

from datetime import UTC, datetime, timedelta

import pytest

from assets.benchmarks.regression import (
    Thresholds,
    compare,
    previous_of,
    worst_severity,
)
from assets.benchmarks.runs import DEFAULT_CONFIG

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _row(key: str, hours: int, **metrics) -> dict:
    base = {"result_key": key, "measured_at": T0 + timedelta(hours=hours), "task": "t",
            "model_id": "m/a", "gpu": "H100-SXM-80GB", "num_gpus": 1,
            "config": {**DEFAULT_CONFIG, "seed": hours}}  # fmt: skip
    return {**base, **metrics}


def test_a_throughput_drop_beyond_the_thresholds_is_warn_then_error():
    before = _row("k1", 0, output_throughput=100.0, ttft_ms_p95=50.0)
    small = compare(before, _row("k2", 1, output_throughput=95.0), Thresholds())
    assert small == []
    [warn] = compare(before, _row("k2", 1, output_throughput=85.0), Thresholds())
    assert (warn.metric, warn.severity, warn.change_pct) == ("output_throughput", "WARN", -15.0)
    [error] = compare(before, _row("k2", 1, output_throughput=60.0), Thresholds())
    assert error.severity == "ERROR"


def test_a_latency_rise_is_a_regression_and_a_drop_is_not():
    before = _row("k1", 0, ttft_ms_p95=50.0, e2e_ms_p95=1000.0)
    found = compare(before, _row("k2", 1, ttft_ms_p95=80.0, e2e_ms_p95=500.0), Thresholds())
    assert [(r.metric, r.severity) for r in found] == [("ttft_ms_p95", "ERROR")]


def test_missing_metrics_are_not_compared():
    assert compare(_row("k1", 0), _row("k2", 1, ttft_ms_p95=500.0), Thresholds()) == []


def test_previous_is_the_newest_earlier_result_of_the_same_work():
    history = [
        _row("k1", 0, output_throughput=1.0),
        _row("k2", 1, output_throughput=2.0),
        _row("other-gpu", 2, output_throughput=3.0) | {"gpu": "L4"},
        _row("other-config", 2) | {"config": {**DEFAULT_CONFIG, "concurrency": 64}},
        _row("k4", 5),
    ]
    current = _row("k3", 3)
    assert previous_of(current, history)["result_key"] == "k2"
    assert previous_of(_row("k1", 9), [_row("k1", 0)]) is None  # same identity: not compared


def test_the_worst_severity_of_what_was_found():
    found = compare(_row("k2", 1, output_throughput=100.0), _row("k3", 2, output_throughput=50.0),
                    Thresholds(warn=0.1, error=0.6))  # fmt: skip
    assert [(r.previous_key, r.current_key, r.severity) for r in found] == [("k2", "k3", "WARN")]
    assert worst_severity(found) == "WARN" and worst_severity([]) is None


def test_thresholds_must_be_ordered():
    with pytest.raises(ValueError, match="warn <= error"):
        Thresholds(warn=0.5, error=0.2)
