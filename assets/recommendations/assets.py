"""Recommendations: TOPSIS rankings per named profile and Pareto fronts, precomputed."""

import dagster as dg
from sqlalchemy import delete, select, update

from assets.common.metadata import markdown_table
from assets.recommendations import precompute
from assets.recommendations.frames import load_candidates
from assets.recommendations.profiles import load_profiles
from resources.database import DatabaseResource
from resources.db.tables import Recommendation, RecommendationVersion
from resources.db.upsert import upsert
from resources.settings import get_settings

_RECS = Recommendation.__table__
_VERSIONS = RecommendationVersion.__table__


@dg.asset(
    group_name="recommendations",
    kinds={"python", "postgres"},
    deps=["published_benchmarks", "cost_per_token", "registry_models", "model_quality"],
)
def recommendations(database: DatabaseResource) -> dg.MaterializeResult:
    """TOPSIS rankings for every (task, GPU, profile) and Pareto fronts for every (task, GPU,
    axis pair), written as one new version (content-addressed: unchanged data, same version)
    and made the active one in the same transaction."""
    with database.begin() as conn:
        frame = load_candidates(conn)
    if frame.empty:
        raise dg.Failure("no benchmark results to rank: materialize published_benchmarks first")
    rows = precompute.build(frame, load_profiles())
    version = precompute.content_version(rows)
    summary = precompute.index(rows)
    with database.begin() as conn:
        written = upsert(conn, _RECS, [{**row, "version": version} for row in rows])
        upsert(conn, _VERSIONS, [{"version": version, "summary": summary}], update=["summary"])
        conn.execute(update(_VERSIONS).values(active=_VERSIONS.c.version == version))
        dropped = _prune(conn, keep=get_settings().keep_versions, active=version)
    preview = _preview(rows, profile="balanced")
    return dg.MaterializeResult(
        metadata={
            "version": version,
            "rankings": sum(r["kind"] == "ranking" for r in rows),
            "pareto_fronts": sum(r["kind"] == "pareto" for r in rows),
            "rows": len(rows),
            "rows_written": written,
            "versions_dropped": dg.MetadataValue.json(dropped),
            "top_balanced_per_task": dg.MetadataValue.md(
                markdown_table(preview, ["task", "model_id", "gpu", "num_gpus", "score"])
            ),
        }
    )


def _preview(rows: list[dict], profile: str) -> list[dict]:
    """The best configuration per task, all GPUs together, for the UI."""
    return [
        {"task": r["task"], **r["payload"]["items"][0]}
        for r in rows
        if r["kind"] == "ranking" and r["key"] == profile and r["gpu"] == precompute.ANY_GPU
        and r["payload"]["items"]
    ]  # fmt: skip


def _prune(conn, keep: int, active: str) -> list[str]:
    """Keep the active version and the newest others up to `keep` (for rollback)."""
    versions = (
        conn.execute(select(_VERSIONS.c.version).order_by(_VERSIONS.c.created_at.desc()))
        .scalars()
        .all()
    )
    kept = [active] + [v for v in versions if v != active][: keep - 1]
    dropped = [v for v in versions if v not in kept]
    if dropped:
        conn.execute(delete(_RECS).where(_RECS.c.version.in_(dropped)))
        conn.execute(delete(_VERSIONS).where(_VERSIONS.c.version.in_(dropped)))
    return dropped
