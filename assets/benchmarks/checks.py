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
