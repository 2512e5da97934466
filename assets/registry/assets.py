"""Registry metadata: the models, and their daily popularity."""

import dagster as dg

from assets.common.metadata import markdown_table
from assets.common.partitions import models_partitions
from assets.registry import store
from assets.registry.history_import import observed_counts, upsert_history
from assets.registry.parsing import snapshot_rows
from assets.registry.sync import SyncReport, sync_source
from resources.database import DatabaseResource
from resources.registry import RegistryResource

_TOTALS = ("listed", "changed", "updated", "removed", "quarantined", "shadowed",
           "details_fetched", "details_failed", "details_deferred")  # fmt: skip


@dg.asset(group_name="registry", kinds={"python", "postgres"})
def registry_models(
    context: dg.AssetExecutionContext, database: DatabaseResource, registry: RegistryResource
) -> dg.MaterializeResult:
    """Models from every configured registry source (the offline Hub snapshot by default; live
    Hub-compatible endpoints and manifests when configured), merged into `models` with their
    source. Incremental: details are fetched only for new or changed models; models missing
    from a complete listing are marked removed (never deleted); records that fail validation go
    to `registry_quarantine`. New models get a `models` partition."""
    sources = registry.sources()
    names = [source.name for source in sources]
    reports: list[SyncReport] = []
    failed: dict[str, str] = {}
    for source in sources:
        try:
            reports.append(sync_source(database.engine, source, names))
        except Exception as error:  # noqa: BLE001 - recorded in the sync state; raised below
            context.log.error(f"registry source {source.name} failed: {error!r}")
            failed[source.name] = f"{type(error).__name__}: {error}"[:500]
    for report in reports:
        if report.partial_reason:
            context.log.info(f"{report.source}: partial listing ({report.partial_reason}), "
                             "no removals marked")  # fmt: skip
    with database.begin() as conn:
        ids = store.registry_model_ids(conn, names)
        total = store.count_models(conn)
    added = _add_partitions(context.instance, ids)
    if failed:
        raise dg.Failure(
            description=f"registry source(s) failed: {', '.join(failed)}",
            metadata={name: dg.MetadataValue.text(error) for name, error in failed.items()},
        )
    new = [row for report in reports for row in report.new]
    top_new = sorted(new, key=lambda r: r.get("downloads") or 0, reverse=True)[:10]
    totals = {key: sum(getattr(report, key) for report in reports) for key in _TOTALS}
    return dg.MaterializeResult(
        metadata={
            "sources": ", ".join(names),
            "new": len(new),
            **totals,
            "partitions_added": added,
            "models_in_catalog": total,
            "per_source": dg.MetadataValue.md(
                markdown_table(
                    [{"source": r.source, **r.counts()} for r in reports],
                    ["source", "listed", "new", "changed", "removed", "quarantined", "complete"],
                )
            ),  # fmt: skip
            "top_new_models": dg.MetadataValue.md(
                markdown_table(
                    top_new,
                    ["id", "source", "pipeline_tag", "num_parameters", "downloads", "likes"],
                )
            ),  # fmt: skip
        }
    )


def _add_partitions(instance: dg.DagsterInstance, ids: list[str]) -> int:
    # Removed models keep their partition: their benchmark history stays addressable.
    known = set(instance.get_dynamic_partitions(models_partitions.name))
    missing = [model_id for model_id in ids if model_id not in known]
    if missing:
        instance.add_dynamic_partitions(models_partitions.name, missing)
    return len(missing)


@dg.asset(group_name="registry", kinds={"python", "postgres"}, deps=[registry_models])
def model_snapshots(
    context: dg.AssetExecutionContext, database: DatabaseResource, registry: RegistryResource
) -> dg.MaterializeResult:
    """Daily popularity per model (time series, one row per model per day). A source with an
    exported history (the Hub snapshot) backfills all of it; a live source records the counts
    its last sync observed, dated that day, and only from a complete listing: a partial one
    (stop_at_watermark, limit) left the models it did not re-list with older counts, which must
    not enter the series as that day's (such a source is listed under `not_snapshotted`)."""
    rows: list[dict] = []
    skipped: dict[str, str] = {}
    with database.begin() as conn:
        for source in registry.sources():
            history = source.history()
            if history is not None:
                rows += snapshot_rows(history, source.name)
                continue
            observed, why_not = observed_counts(conn, source.name)
            rows += observed
            if why_not:
                context.log.warning(f"no popularity snapshot of {source.name}: {why_not}")
                skipped[source.name] = why_not
        summary = upsert_history(conn, rows)
    return dg.MaterializeResult(
        metadata={
            "rows": len(rows),
            "models": len({r["model_id"] for r in rows}),
            "not_snapshotted": dg.MetadataValue.json(skipped),
            **summary,
        }
    )
