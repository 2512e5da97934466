"""Checks on the daily rollups."""

import dagster as dg

from resources.database import DatabaseResource


@dg.asset_check(asset="performance_rollups", description="The rollups account for every row: "
                "their run and snapshot counts add up to the rows of `benchmark_results` and "
                "`model_snapshots` (a stale or partial refresh would not).")  # fmt: skip
def performance_rollups_cover_every_row(database: DatabaseResource) -> dg.AssetCheckResult:
    counts = {
        "benchmark_results": database.scalar("SELECT count(*) FROM benchmark_results"),
        "benchmark_results_daily_runs": database.scalar(
            "SELECT coalesce(sum(runs), 0)::bigint FROM benchmark_results_daily"
        ),
        "model_snapshots": database.scalar("SELECT count(*) FROM model_snapshots"),
        "model_snapshots_daily_snapshots": database.scalar(
            "SELECT coalesce(sum(snapshots), 0)::bigint FROM model_snapshots_daily"
        ),
    }
    return dg.AssetCheckResult(
        passed=counts["benchmark_results"] == counts["benchmark_results_daily_runs"]
        and counts["model_snapshots"] == counts["model_snapshots_daily_snapshots"],
        metadata=counts,
    )
