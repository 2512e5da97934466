"""Registry metadata: the models, and their daily popularity."""

from datetime import UTC, datetime

import dagster as dg
from sqlalchemy import func, select

from assets.common.metadata import markdown_table
from assets.registry.parsing import parse_models, snapshot_rows
from resources.database import DatabaseResource
from resources.db.tables import MlModel, ModelSnapshot
from resources.db.upsert import upsert
from resources.registry import RegistryResource

_MODELS = MlModel.__table__
_SNAPSHOTS = ModelSnapshot.__table__


@dg.asset(group_name="registry", kinds={"python", "postgres"})
def registry_models(
    context: dg.AssetExecutionContext, database: DatabaseResource, registry: RegistryResource
) -> dg.MaterializeResult:
    """Models from the configured registry (the offline Hub snapshot by default, or a live
    Hub-compatible endpoint), upserted into `models`. Records that fail validation are left out
    and counted; the rest is ingested."""
    rows, rejected = parse_models(registry.list_models(), registry.name)
    for item in rejected[:20]:
        context.log.warning(f"rejected registry record: {item['reason']}")
    with database.begin() as conn:
        known = set(conn.execute(select(_MODELS.c.id)).scalars())
        written = upsert(conn, _MODELS, rows)
        total = conn.execute(select(func.count()).select_from(_MODELS)).scalar_one()
    new = [r for r in rows if r["id"] not in known]
    top_new = sorted(new, key=lambda r: r.get("downloads") or 0, reverse=True)[:10]
    return dg.MaterializeResult(
        metadata={
            "source": registry.name,
            "records": len(rows) + len(rejected),
            "new": len(new),
            "changed": written - len(new),
            "rejected": len(rejected),
            "models_in_catalog": total,
            "top_new_models": dg.MetadataValue.md(
                markdown_table(top_new, ["id", "pipeline_tag", "downloads", "likes"])
            ),
        }
    )


@dg.asset(group_name="registry", kinds={"python", "postgres"}, deps=[registry_models])
def model_snapshots(database: DatabaseResource, registry: RegistryResource) -> dg.MaterializeResult:
    """Daily popularity per model (time series, one row per model per day). A source with an
    exported history (the Hub snapshot) backfills all of it; a live source records today's
    counts from the catalog."""
    history = registry.history()
    if history is not None:
        rows = snapshot_rows(history, registry.name)
    else:
        rows = _today_from_catalog(database, registry.name)
    with database.begin() as conn:
        written = upsert(conn, _SNAPSHOTS, rows)
        days = conn.execute(
            select(func.min(_SNAPSHOTS.c.snapshot_date), func.max(_SNAPSHOTS.c.snapshot_date))
        ).one()
    return dg.MaterializeResult(
        metadata={
            "rows": len(rows),
            "rows_written": written,
            "models": len({r["model_id"] for r in rows}),
            "first_day": str(days[0]),
            "last_day": str(days[1]),
        }
    )


def _today_from_catalog(database: DatabaseResource, source: str) -> list[dict]:
    today = datetime.now(UTC).date()
    with database.begin() as conn:
        current = conn.execute(
            select(_MODELS.c.id, _MODELS.c.downloads, _MODELS.c.likes).where(
                _MODELS.c.source == source, _MODELS.c.removed_at.is_(None)
            )
        ).all()
    return [
        {"model_id": i, "snapshot_date": today, "downloads": d, "likes": lk,
         "trending_rank": None, "source": source}
        for i, d, lk in current
    ]  # fmt: skip
