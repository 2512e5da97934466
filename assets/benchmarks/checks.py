"""Data-quality checks on `benchmark_results` and the benchmark plan."""

import dagster as dg

from assets.benchmarks import store
from assets.benchmarks.roofline import check_rows
from resources.database import DatabaseResource
from resources.settings import get_settings


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


@dg.asset_check(asset="published_benchmarks", description="Every measured decode rate in "
                "`benchmark_results` (imported and own) is below the memory-bandwidth roofline of "
                "its GPU (assets/benchmarks/roofline.py); rows of unknown size or bandwidth are "
                "skipped and counted.")  # fmt: skip
def benchmark_results_below_roofline(database: DatabaseResource) -> dg.AssetCheckResult:
    with database.begin() as conn:
        rows = store.token_results(conn)
        summary = check_rows(
            rows,
            store.bandwidths(conn),
            store.catalog_params(conn),
            get_settings().benchmark_roofline_tolerance,
        )
    return dg.AssetCheckResult(
        passed=summary.failed == 0,
        metadata={
            "rows": len(rows),
            "passed": summary.passed,
            "failed": summary.failed,
            "skipped": dg.MetadataValue.json(dict(summary.skipped)),
            "max_share_of_roofline": summary.max_utilisation,
            "violations": dg.MetadataValue.json(list(summary.violations[:20])),
        },
    )


@dg.asset_check(asset="benchmark_plan", description="Planned runs fit the budget (GPU-hours and "
                "dollars at spot) and every planned run has a cost estimate.")  # fmt: skip
def benchmark_plan_within_budget(database: DatabaseResource) -> dg.AssetCheckResult:
    # Against the caps stored with the plan: today's settings may have changed since.
    with database.begin() as conn:
        planned = store.planned_items(conn)
        budget = store.plan_budget(conn) or {"max_gpu_hours": 0.0, "max_usd": 0.0}
    hours = sum(p["est_gpu_hours"] or 0 for p in planned)
    usd = sum(p["est_usd_spot"] or 0 for p in planned)
    unestimated = sum(p["est_usd_spot"] is None for p in planned)
    return dg.AssetCheckResult(
        passed=hours <= budget["max_gpu_hours"] and usd <= budget["max_usd"] and unestimated == 0,
        metadata={
            "planned": len(planned),
            "est_gpu_hours": hours,
            "est_usd_spot": usd,
            "without_estimate": unestimated,
            "budget_gpu_hours": budget["max_gpu_hours"],
            "budget_usd": budget["max_usd"],
        },  # fmt: skip
    )
