"""What an own run reports besides its row: the check results and the UI metadata.

The harness's two checks are passed through unchanged; the roofline and regression checks are
judged here on the stored row (see roofline.py and regression.py for the rules).
"""

from typing import Any

import dagster as dg

from assets.benchmarks.regression import Thresholds, compare, previous_of, worst_severity
from assets.benchmarks.roofline import judge
from resources.launcher import HARNESS_CHECKS, LaunchOutcome, PipesResult
from resources.settings import Settings


def harness_checks(results: tuple[PipesResult, ...]) -> list[dg.AssetCheckResult]:
    """The harness's own checks, passed through under this asset."""
    reported = {r.check_name: r for r in results if isinstance(r, dg.AssetCheckResult)}
    return [
        dg.AssetCheckResult(check_name=name, passed=reported[name].passed,
                            severity=reported[name].severity, metadata=reported[name].metadata)
        for name in HARNESS_CHECKS
    ]  # fmt: skip


def roofline_check(
    row: dict[str, Any], bandwidth: float | None, facts: dict[str, Any], settings: Settings
) -> dg.AssetCheckResult:
    verdict = judge(row, bandwidth, facts["num_parameters"], settings.benchmark_roofline_tolerance)
    return dg.AssetCheckResult(
        check_name="benchmark_run_below_roofline",
        passed=verdict.verdict != "failed",
        metadata={
            "verdict": verdict.verdict,
            "skipped_because": verdict.reason,
            "per_user_tokens_s": verdict.per_user_tokens_s,
            "bound_tokens_s": verdict.bound_tokens_s,
        },  # fmt: skip
    )


def regression_check(
    row: dict[str, Any], history: list[dict[str, Any]], settings: Settings
) -> dg.AssetCheckResult:
    thresholds = Thresholds(settings.benchmark_regression_warn, settings.benchmark_regression_error)
    previous = previous_of(row, history)
    found = compare(previous, row, thresholds) if previous else []
    severity = worst_severity(found)
    return dg.AssetCheckResult(
        check_name="benchmark_run_no_regression",
        passed=not found,
        severity=dg.AssetCheckSeverity.ERROR if severity == "ERROR" else dg.AssetCheckSeverity.WARN,
        metadata={
            "previous_result_key": previous["result_key"] if previous else None,
            "previous_engine_version": previous.get("engine_version") if previous else None,
            "previous_revision": previous.get("model_revision") if previous else None,
            "regressions": dg.MetadataValue.json([r.as_dict() for r in found]),
        },
    )


def run_metadata(row: dict[str, Any], outcome: LaunchOutcome, replaced: int) -> dict[str, Any]:
    metrics = ("output_throughput", "throughput_per_gpu", "tokens_per_s_per_user", "ttft_ms_p50",
               "ttft_ms_p95", "tpot_ms_p50", "tpot_ms_p95", "itl_ms_p95", "e2e_ms_p95",
               "peak_memory_gb", "energy_per_output_j")  # fmt: skip
    return {
        **{m: row[m] for m in metrics if row.get(m) is not None},
        "result_key": row["result_key"],
        "rows_replaced": replaced,
        "engine": f"{row.get('engine')} {row.get('engine_version') or ''}".strip(),
        "harness_version": row.get("harness_version") or "",
        "model_revision": row.get("model_revision") or "",
        "hardware": dg.MetadataValue.json(row["extra"].get("hardware") or {}),
        "pricing": outcome.pricing,
        "preemptions": sum(a.outcome == "preempted" for a in outcome.attempts),
        "attempts": dg.MetadataValue.json([a.__dict__ for a in outcome.attempts]),
        "raw_records_uri": row["extra"].get("raw_records_uri") or "",
    }
