"""Data-quality checks on the registry tables and the sync itself."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from sqlalchemy import select

from assets.registry.changes import quarantine_spike
from resources.database import DatabaseResource
from resources.db.tables import RegistrySyncState
from resources.registry import RegistryResource

# Smallest real models are ~1e5 parameters; the largest public ones ~2e12.
_MIN_PARAMS, _MAX_PARAMS = 10_000, 10_000_000_000_000
# An owned Hub id: owner/name, letters, digits, '-', '_', '.'; legacy ids have no owner.
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)?$"


@dg.asset_check(asset="registry_models", description="The catalog is not empty and every "
                "known parameter count is plausible.")  # fmt: skip
def registry_models_are_plausible(database: DatabaseResource) -> dg.AssetCheckResult:
    total = database.scalar("SELECT count(*) FROM models")
    implausible = database.scalar(
        "SELECT count(*) FROM models WHERE num_parameters NOT BETWEEN :lo AND :hi",
        lo=_MIN_PARAMS,
        hi=_MAX_PARAMS,
    )
    return dg.AssetCheckResult(
        passed=total > 0 and implausible == 0,
        metadata={"models": total, "implausible_parameter_counts": implausible},
    )


@dg.asset_check(asset="registry_models", description="Model ids are well-formed (no blank or "
                "padded ids) and unique ignoring case, as the Hub treats them.")  # fmt: skip
def registry_model_ids_are_valid(database: DatabaseResource) -> dg.AssetCheckResult:
    malformed = database.scalar(
        "SELECT count(*) FROM models WHERE removed_at IS NULL AND id !~ :pattern",
        pattern=_ID_PATTERN,
    )
    # The primary key keeps ids unique; two sources spelling one repo differently would not be.
    clashes = database.scalar(
        "SELECT count(*) FROM (SELECT lower(id) FROM models WHERE removed_at IS NULL "
        "GROUP BY lower(id) HAVING count(*) > 1) AS twice"
    )
    return dg.AssetCheckResult(
        passed=malformed == 0 and clashes == 0,
        metadata={"malformed_ids": malformed, "ids_differing_only_in_case": clashes},
    )


@dg.asset_check(asset="registry_models", blocking=False, description="Records the last sync of "
                "each source quarantined (a warning: the rest was ingested).")  # fmt: skip
def registry_quarantine_count(
    database: DatabaseResource, registry: RegistryResource
) -> dg.AssetCheckResult:
    states = _states(database, registry)
    per_source = {name: int(s["counts"].get("quarantined", 0)) for name, s in states.items()}
    stored = database.scalar("SELECT count(*) FROM registry_quarantine")
    return dg.AssetCheckResult(
        passed=sum(per_source.values()) == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"quarantined_last_run": sum(per_source.values()), "quarantine_rows": stored,
                  **{f"quarantined:{name}": n for name, n in per_source.items()}},
    )  # fmt: skip


@dg.asset_check(asset="registry_models", description="No source's last sync quarantined a "
                "spike of records (thresholds: RegistryResource).")  # fmt: skip
def registry_quarantine_spike(
    database: DatabaseResource, registry: RegistryResource
) -> dg.AssetCheckResult:
    spikes = {}
    for name, state in _states(database, registry).items():
        last, *previous = state["recent"] or [{}]
        why = quarantine_spike(
            int(last.get("listed", 0)), int(last.get("quarantined", 0)),
            [int(run.get("quarantined", 0)) for run in previous],
            max_share=registry.quarantine_max_share, factor=registry.quarantine_spike_factor,
            minimum=registry.quarantine_spike_min,
        )  # fmt: skip
        if why:
            spikes[name] = why
    return dg.AssetCheckResult(
        passed=not spikes,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"spikes": dg.MetadataValue.json(spikes)},
    )


@dg.asset_check(asset="registry_models", description="Every configured source synced "
                "successfully within RegistryResource.max_sync_age_hours.")  # fmt: skip
def registry_sources_are_fresh(
    database: DatabaseResource, registry: RegistryResource
) -> dg.AssetCheckResult:
    states = _states(database, registry)
    oldest = datetime.now(UTC) - timedelta(hours=registry.max_sync_age_hours)
    stale = sorted(
        source.name
        for source in registry.sources()
        if (states.get(source.name) or {}).get("last_success_at") is None
        or states[source.name]["last_success_at"] < oldest
    )
    errors = {n: s["last_error"] for n, s in states.items() if s.get("last_error")}
    return dg.AssetCheckResult(
        passed=not stale,
        metadata={"stale_sources": ", ".join(stale) or "none",
                  "last_errors": dg.MetadataValue.json(errors)},
    )  # fmt: skip


def _states(database: DatabaseResource, registry: RegistryResource) -> dict[str, dict]:
    names = [source.name for source in registry.sources()]
    table = RegistrySyncState.__table__
    with database.begin() as conn:
        rows = conn.execute(select(table).where(table.c.source.in_(names))).mappings()
        return {row["source"]: dict(row) for row in rows}


@dg.asset_check(asset="model_snapshots", description="Every snapshot belongs to a model in "
                "the catalog, and no snapshot is dated in the future.")  # fmt: skip
def model_snapshots_are_consistent(database: DatabaseResource) -> dg.AssetCheckResult:
    orphans = database.scalar(
        "SELECT count(*) FROM model_snapshots s LEFT JOIN models m ON m.id = s.model_id "
        "WHERE m.id IS NULL"
    )
    future = database.scalar("SELECT count(*) FROM model_snapshots WHERE snapshot_date > now()")
    return dg.AssetCheckResult(
        passed=orphans == 0 and future == 0,
        metadata={"orphan_snapshots": orphans, "future_snapshots": future},
    )
