"""Performance regressions: a new result against the previous one of the same work.

"The same work" is the same model, GPU, GPU count, task and comparable config
(`runs.comparable_config`), measured under another revision, engine or harness version. A
throughput that drops, or a latency that rises, by more than a threshold is a regression; a
change beyond the `error` threshold is an ERROR, beyond `warn` a WARN. Metrics missing on either
side are not compared (an imported row has no TTFT, say): nothing is guessed.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from assets.benchmarks.runs import config_key

# Higher is better for these; lower is better for the latencies.
THROUGHPUT_METRICS = ("output_throughput", "tokens_per_s_per_user")
LATENCY_METRICS = ("ttft_ms_p50", "ttft_ms_p95", "tpot_ms_p50", "tpot_ms_p95", "e2e_ms_p95")

Severity = Literal["WARN", "ERROR"]


@dataclass(frozen=True)
class Thresholds:
    """Relative change that counts as a regression (0.10 = 10% worse)."""

    warn: float = 0.10
    error: float = 0.25

    def __post_init__(self) -> None:
        if not 0 < self.warn <= self.error:
            raise ValueError(f"need 0 < warn <= error, got warn={self.warn} error={self.error}")


@dataclass(frozen=True)
class Regression:
    metric: str
    previous: float
    current: float
    change_pct: float  # signed: negative = lower than before
    severity: Severity
    previous_key: str
    current_key: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "previous": self.previous,
            "current": self.current,
            "change_pct": round(self.change_pct, 2),
            "severity": self.severity,
            "previous_key": self.previous_key,
            "current_key": self.current_key,
        }


def group_key(row: Mapping[str, Any]) -> tuple:
    """Rows with the same key measured the same work."""
    return (
        row["task"],
        row["model_id"],
        row["gpu"],
        row["num_gpus"],
        config_key(row.get("config") or {}),
    )


def compare(
    previous: Mapping[str, Any], current: Mapping[str, Any], thresholds: Thresholds
) -> list[Regression]:
    """Every metric of `current` that is worse than in `previous` beyond the thresholds."""
    found = []
    for metric in THROUGHPUT_METRICS + LATENCY_METRICS:
        before, after = previous.get(metric), current.get(metric)
        if not before or after is None or before <= 0:
            continue
        change = (after - before) / before
        worse = -change if metric in THROUGHPUT_METRICS else change
        if worse <= thresholds.warn:
            continue
        severity: Severity = "ERROR" if worse > thresholds.error else "WARN"
        found.append(
            Regression(
                metric,
                float(before),
                float(after),
                100 * change,
                severity,
                previous["result_key"],
                current["result_key"],
            )
        )
    return found


def previous_of(
    current: Mapping[str, Any], history: Iterable[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The newest row of `history` for the same work as `current`, measured before it under
    another identity (a re-measurement of the same identity replaces, it does not compare)."""
    key = group_key(current)
    earlier = [
        row
        for row in history
        if group_key(row) == key
        and row["result_key"] != current["result_key"]
        and row["measured_at"] < current["measured_at"]
    ]
    return max(earlier, key=lambda row: row["measured_at"], default=None)


def worst_severity(found: Iterable[Regression]) -> Severity | None:
    severities = {r.severity for r in found}
    return "ERROR" if "ERROR" in severities else ("WARN" if severities else None)
