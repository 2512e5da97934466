"""Benchmark results: imported from published leaderboards (own GPU runs come with issue #4)."""

import dagster as dg
from sqlalchemy import func, select

from assets.benchmarks.mlenergy import SOURCE, parse_leaderboard, parse_models
from assets.common.metadata import markdown_table
from resources.database import DatabaseResource
from resources.datasets import DatasetsResource
from resources.db.tables import BenchmarkResult, MlModel
from resources.db.upsert import upsert

_TABLE = BenchmarkResult.__table__


@dg.asset(
    group_name="benchmarks", kinds={"python", "postgres"}, deps=["gpu_catalog", "registry_models"]
)
def published_benchmarks(
    database: DatabaseResource, datasets: DatasetsResource
) -> dg.MaterializeResult:
    """ML.ENERGY leaderboard v3 results (H100, B200; 7 tasks), normalised to the canonical
    metrics and stored in `benchmark_results` with their provenance. Re-imports are upserts."""
    rows = parse_leaderboard(datasets.mlenergy)  # parse everything before writing anything
    models = parse_models(datasets.mlenergy)
    with database.begin() as conn:
        # Benchmarked models join the catalog; a registry's own record of a model wins.
        new_models = upsert(conn, MlModel.__table__, models, update=[])
        written = upsert(conn, _TABLE, rows)
        per_task = conn.execute(
            select(_TABLE.c.task, _TABLE.c.gpu, func.count())
            .where(_TABLE.c.source == SOURCE)
            .group_by(_TABLE.c.task, _TABLE.c.gpu)
            .order_by(_TABLE.c.task, _TABLE.c.gpu)
        ).all()
    table = [{"task": t, "gpu": g, "configurations": n} for t, g, n in per_task]
    return dg.MaterializeResult(
        metadata={
            "source": SOURCE,
            "configurations": len(rows),
            "rows_written": written,
            "models": len({r["model_id"] for r in rows}),
            "models_added_to_catalog": new_models,
            "per_task": dg.MetadataValue.md(
                markdown_table(table, ["task", "gpu", "configurations"])
            ),
        }
    )
