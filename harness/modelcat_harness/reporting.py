"""The run's report through Dagster Pipes: one materialization and two asset checks."""

from typing import Any

from modelcat_harness.runner import Report

# Flat scalars shown in the Dagster UI beside the full `benchmark_result` JSON.
_UI_FIELDS = (
    "output_throughput", "throughput_per_gpu", "tokens_per_s_per_user", "ttft_ms_p50",
    "ttft_ms_p99", "tpot_ms_p50", "tpot_ms_p99", "itl_ms_p50", "itl_ms_p99", "e2e_ms_p50",
    "e2e_ms_p99", "peak_memory_gb", "energy_per_output_j", "avg_power_watts",
)  # fmt: skip


def materialization_metadata(report: Report) -> dict[str, dict[str, Any]]:
    result = report.result
    metadata: dict[str, dict[str, Any]] = {
        "benchmark_result": {"raw_value": result, "type": "json"},
        "engine": {"raw_value": f"{result['engine']} {result['engine_version']}", "type": "text"},
        "harness_version": {"raw_value": result["harness_version"], "type": "text"},
        "concurrency": {"raw_value": result["concurrency"], "type": "int"},
        "requests_succeeded": {
            "raw_value": result["extra"]["requests"]["requests_succeeded"],
            "type": "int",
        },
        "raw_records_uri": {"raw_value": result["extra"]["raw_records_uri"], "type": "url"},
    }
    for name in _UI_FIELDS:
        value = result[name]
        metadata[name] = {"raw_value": value, "type": "null" if value is None else "float"}
    return metadata


def report_to_pipes(pipes: Any, report: Report) -> None:
    """Report through an open `PipesContext` (the launching asset declares both checks)."""
    pipes.report_asset_materialization(metadata=materialization_metadata(report))
    for check in report.checks:
        pipes.report_asset_check(
            check_name=check.name,
            passed=check.passed,
            severity="ERROR",
            metadata={"details": {"raw_value": check.metadata, "type": "json"}},
        )


def standalone_output(report: Report) -> dict[str, Any]:
    """What `python -m modelcat_harness --job job.json` prints."""
    return {
        "benchmark_result": report.result,
        "checks": [
            {"name": c.name, "passed": c.passed, "metadata": c.metadata} for c in report.checks
        ],
    }
