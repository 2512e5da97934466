"""Data-quality checks on `benchmark_results`."""

import dagster as dg

from resources.database import DatabaseResource


@dg.asset_check(asset="published_benchmarks", description="Latency percentiles are ordered "
                "(p50 <= p90 <= p95 <= p99) and throughput and energy are positive.")  # fmt: skip
def published_benchmarks_are_consistent(database: DatabaseResource) -> dg.AssetCheckResult:
    bad = database.scalar(
        """
        SELECT count(*) FROM benchmark_results
        WHERE itl_ms_p50 > itl_ms_p90 OR itl_ms_p90 > itl_ms_p95 OR itl_ms_p95 > itl_ms_p99
           OR ttft_ms_p50 > ttft_ms_p95 OR ttft_ms_p95 > ttft_ms_p99
           OR output_throughput <= 0 OR energy_per_output_j <= 0
        """
    )
    total = database.scalar("SELECT count(*) FROM benchmark_results")
    return dg.AssetCheckResult(
        passed=bool(total) and bad == 0,
        metadata={"rows": total, "inconsistent_rows": bad},
    )


@dg.asset_check(asset="model_quality", description="Scores lie in 0..100 and the average is "
                "within the range of its parts.")  # fmt: skip
def model_quality_is_consistent(database: DatabaseResource) -> dg.AssetCheckResult:
    bad = database.scalar(
        "SELECT count(*) FROM model_quality WHERE average < least(arc, hellaswag, mmlu, truthfulqa)"
        " - 0.5 OR average > greatest(arc, hellaswag, mmlu, truthfulqa) + 0.5"
    )
    total = database.scalar("SELECT count(*) FROM model_quality")
    return dg.AssetCheckResult(passed=total > 0 and bad == 0,
                               metadata={"rows": total, "inconsistent_rows": bad})  # fmt: skip
