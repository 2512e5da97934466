"""Data-quality checks on the registry tables."""

import dagster as dg

from resources.database import DatabaseResource

# Smallest real models are ~1e5 parameters; the largest public ones ~2e12.
_MIN_PARAMS, _MAX_PARAMS = 10_000, 10_000_000_000_000


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
