"""Checks on the exports."""

import dagster as dg
import orjson

from assets.exports import snapshot
from resources.object_store import ObjectNotFoundError, ObjectStoreResource


@dg.asset_check(asset="catalog_export", description="The export LATEST.json points at reads back "
                "whole: every file with the manifest's bytes, SHA-256 and row count.")  # fmt: skip
def catalog_export_reads_back(object_store: ObjectStoreResource) -> dg.AssetCheckResult:
    try:
        latest = orjson.loads(object_store.get_bytes(snapshot.LATEST_KEY))
        found = snapshot.problems(
            object_store.get_bytes(latest["manifest"]), object_store.get_bytes
        )
    except ObjectNotFoundError as error:
        return dg.AssetCheckResult(passed=False, metadata={"problems": str(error)})
    return dg.AssetCheckResult(
        passed=not found,
        metadata={"manifest": latest["manifest"], "problems": dg.MetadataValue.json(found)},
    )
