"""Benchmark results: imported from published leaderboards (own GPU runs come with issue #4)."""

import dagster as dg
from sqlalchemy import func, select

from assets.benchmarks.leaderboard import parse_leaderboard_dir
from assets.benchmarks.mlenergy import SOURCE, parse_leaderboard, parse_models
from assets.common.metadata import markdown_table
from resources.database import DatabaseResource
from resources.datasets import DatasetsResource
from resources.db.tables import BenchmarkResult, MlModel, ModelQuality
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


@dg.asset(group_name="benchmarks", kinds={"python", "postgres"})
def model_quality(database: DatabaseResource, datasets: DatasetsResource) -> dg.MaterializeResult:
    """Quality scores (Open LLM Leaderboard v1 snapshots, 2023: average, ARC, HellaSwag, MMLU,
    TruthfulQA) per Hub model id; the recommendations use the latest average where the model
    ids match."""
    rows, skipped = parse_leaderboard_dir(datasets.leaderboards)
    with database.begin() as conn:
        written = upsert(conn, ModelQuality.__table__, rows)
        matched = conn.execute(
            select(func.count(func.distinct(ModelQuality.model_id))).where(
                ModelQuality.model_id.in_(select(BenchmarkResult.model_id))
            )
        ).scalar_one()
    return dg.MaterializeResult(
        metadata={
            "rows": len(rows),
            "rows_written": written,
            "models": len({r["model_id"] for r in rows}),
            "skipped_without_hub_id_or_duplicate": skipped,
            "models_with_benchmarks": matched,
        }
    )
