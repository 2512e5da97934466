"""Exports: the serving snapshot of the catalog, as files in the object store."""

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import orjson

from assets.common.metadata import markdown_table
from assets.exports import snapshot
from resources.database import DatabaseResource
from resources.object_store import ObjectStoreResource


@dg.asset(
    group_name="exports",
    kinds={"python", "postgres", "s3"},
    deps=["registry_models", "published_benchmarks", "cost_per_token", "recommendations"],
)
def catalog_export(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    object_store: ObjectStoreResource,
) -> dg.MaterializeResult:
    """The catalog as the API serves it (live models, the latest result per benchmark
    configuration with its cost, the active recommendations) written to the object store as
    gzipped JSON Lines under `exports/catalog/date=<day>/run=<run>/`, with a manifest (rows,
    bytes, SHA-256) and `exports/catalog/LATEST.json` pointing at the newest complete export."""
    exported_at = datetime.now(UTC)
    prefix = snapshot.export_prefix(exported_at.date(), context.run.run_id)
    # REPEATABLE READ: the three tables come from one snapshot, not three moments of a run
    # that is upserting meanwhile.
    with (
        tempfile.TemporaryDirectory() as folder,
        database.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn,
        conn.begin(),
    ):
        version = snapshot.active_version(conn)
        files = snapshot.write_tables(conn, Path(folder), prefix, version)
        for file in files:
            object_store.put_file(file.key, Path(folder, file.key.removeprefix(prefix)))
    manifest_key = f"{prefix}manifest.json"
    about = {"exported_at": exported_at.isoformat(), "run_id": context.run.run_id,
             "recommendations_version": version}  # fmt: skip
    object_store.put_bytes(manifest_key, snapshot.manifest(files, **about))
    # Last: readers follow this pointer, so they never see an export still being written.
    object_store.put_bytes(snapshot.LATEST_KEY, orjson.dumps({**about, "manifest": manifest_key}))
    return dg.MaterializeResult(
        metadata={
            "uri": dg.MetadataValue.url(object_store.uri_for(manifest_key)),
            "keys": dg.MetadataValue.json([f.key for f in files] + [manifest_key]),
            "bytes": sum(f.bytes for f in files),
            "rows": sum(f.rows for f in files),
            "recommendations_version": version or "",
            "files": dg.MetadataValue.md(
                markdown_table([vars(f) for f in files], ["name", "rows", "bytes", "sha256"])
            ),
        }
    )
