"""Daily performance and popularity rollups over the time-series tables."""

import dagster as dg
from sqlalchemy import text

from assets.common.metadata import markdown_table
from resources.database import DatabaseResource
from resources.db import timeseries

_PREVIEW = (
    "SELECT day::date AS day, model_id, gpu, runs, itl_ms_p95, tpot_ms_p95, "
    "throughput_per_gpu_p50 FROM benchmark_results_daily "
    "ORDER BY day DESC, runs DESC, model_id, gpu LIMIT 10"
)
_PREVIEW_COLUMNS = ["day", "model_id", "gpu", "runs", "itl_ms_p95", "tpot_ms_p95",
                    "throughput_per_gpu_p50"]  # fmt: skip


@dg.asset(
    group_name="benchmarks",
    kinds={"python", "postgres"},
    deps=["published_benchmarks", "benchmark_runs", "model_snapshots"],
)
def performance_rollups(database: DatabaseResource) -> dg.MaterializeResult:
    """Daily p50/p95 per model x GPU x config of the latency and throughput metrics
    (`benchmark_results_daily`) and daily downloads per model (`model_snapshots_daily`):
    TimescaleDB continuous aggregates where the database has the extension, materialized views
    over monthly partitions otherwise. Natively it first creates the coming months' partitions
    and drops raw per-request partitions past their retention, analyses the partitioned tables
    (autovacuum never does), then refreshes the rollups."""
    with database.begin() as conn:
        timescale = timeseries.has_timescale(conn)
        created = timeseries.ensure_partitions(conn)
        dropped = timeseries.drop_expired_partitions(conn)
        # Here, downstream of every time-series load and after the rows moved into their
        # partitions: autovacuum never analyses a partitioned parent, and without its
        # statistics the API's benchmark filters plan on guesses.
        analysed = timeseries.analyze_partitioned(conn)
    # Outside a transaction: TimescaleDB refuses to refresh a continuous aggregate inside one.
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        counts = timeseries.refresh_rollups(conn)
        preview = [dict(row) for row in conn.execute(text(_PREVIEW)).mappings()]
    return dg.MaterializeResult(
        metadata={
            "storage": "timescaledb" if timescale else "native partitions",
            **{f"rows_{name}": count for name, count in counts.items()},
            "partitions_created": dg.MetadataValue.json(created),
            "partitions_dropped": dg.MetadataValue.json(dropped),
            "tables_analysed": dg.MetadataValue.json(analysed),
            "latest_days": dg.MetadataValue.md(markdown_table(preview, _PREVIEW_COLUMNS)),
        }
    )
