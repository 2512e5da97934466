"""`catalog_export` materialized by Dagster against real PostgreSQL and a real S3 (SeaweedFS),
and against the local folder store: what lands where, what it holds, and its read-back check."""

import gzip
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource
from sqlalchemy.engine import Engine

from assets.exports import snapshot
from assets.exports.assets import catalog_export
from assets.exports.checks import catalog_export_reads_back
from resources.database import DatabaseResource
from resources.object_store import LocalObjectStore, ObjectStoreResource, S3ObjectStore
from resources.settings import Settings
from tests.integration.serving.seed import GHOST, LLAMA, QWEN, REMOVED, UNICODE, seed
from tests.support.seaweed import SeaweedS3, seaweed_s3, weed_or_skip


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    weed_or_skip(Settings(database_url=None, redis_url=None))
    with seaweed_s3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.fixture(params=["s3", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStoreResource:
    if request.param == "local":
        return LocalObjectStore(root=str(tmp_path / "objects"))
    server: SeaweedS3 = request.getfixturevalue("seaweed")
    s3 = S3Resource(
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
    )
    return S3ObjectStore(bucket=server.bucket, prefix=f"{uuid.uuid4().hex[:8]}/", s3=s3)


def _materialize(database_url: str, store: ObjectStoreResource) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [catalog_export, catalog_export_reads_back],
        resources={"database": DatabaseResource(url=database_url), "object_store": store},
    )


def _rows(store: ObjectStoreResource, key: str) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(store.get_bytes(key)).splitlines()]


def test_the_export_holds_the_serving_snapshot(
    clean_db: Engine, database_url: str, store: ObjectStoreResource
):
    seed(clean_db)
    result = _materialize(database_url, store)
    assert result.success
    [check] = result.get_asset_check_evaluations()
    assert check.passed, check.metadata

    latest = json.loads(store.get_bytes(snapshot.LATEST_KEY))
    day = datetime.now(UTC).date().isoformat()
    prefix = f"exports/catalog/date={day}/run={result.run_id[:8]}/"
    assert latest["manifest"] == f"{prefix}manifest.json"
    assert latest["recommendations_version"] == "v1"
    manifest = json.loads(store.get_bytes(latest["manifest"]))
    files = {f["name"]: f for f in manifest["files"]}
    assert {f["key"] for f in files.values()} == {
        f"{prefix}models.jsonl.gz",
        f"{prefix}benchmark_results.jsonl.gz",
        f"{prefix}recommendations.jsonl.gz",
    }

    models = _rows(store, files["models"]["key"])
    assert REMOVED not in {m["id"] for m in models}
    assert {QWEN, LLAMA, UNICODE} <= {m["id"] for m in models} and len(models) == 5
    results = {r["result_key"]: r for r in _rows(store, files["benchmark_results"]["key"])}
    assert sorted(results) == ["a", "b", "c", "g"]  # one row per configuration: the latest
    assert results["a"]["throughput_per_gpu"] == 400.0
    assert results["a"]["usd_per_million_spot"] == 0.73  # its cost came along
    assert results["b"]["usd_per_million_spot"] is None
    assert results["g"]["model_id"] == GHOST
    recommendations = _rows(store, files["recommendations"]["key"])
    assert {(r["version"], r["kind"]) for r in recommendations} == {
        ("v1", "ranking"),
        ("v1", "pareto"),
    }

    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    stored = {o.key: o.size for o in store.list_objects(prefix)}
    assert metadata["rows"].value == len(models) + len(results) + len(recommendations)
    assert metadata["bytes"].value == sum(f["bytes"] for f in files.values())
    assert all(stored[f["key"]] == f["bytes"] for f in files.values())
    assert metadata["uri"].value == store.uri_for(latest["manifest"])


def test_a_rerun_writes_a_new_export_with_the_same_bytes(
    clean_db: Engine, database_url: str, store: ObjectStoreResource
):
    seed(clean_db)
    first, second = _materialize(database_url, store), _materialize(database_url, store)
    manifests = [o.key for o in store.list_objects("exports/") if o.key.endswith("manifest.json")]
    assert len(manifests) == 2 and first.run_id != second.run_id
    latest = json.loads(store.get_bytes(snapshot.LATEST_KEY))
    assert latest["run_id"] == second.run_id
    digests = [
        {f["name"]: f["sha256"] for f in json.loads(store.get_bytes(key))["files"]}
        for key in manifests
    ]
    assert digests[0] == digests[1]  # unchanged data: byte-identical files


def test_the_check_fails_when_an_exported_file_is_damaged(
    clean_db: Engine, database_url: str, store: ObjectStoreResource
):
    seed(clean_db)
    assert _materialize(database_url, store).success
    manifest_key = json.loads(store.get_bytes(snapshot.LATEST_KEY))["manifest"]
    damaged = json.loads(store.get_bytes(manifest_key))["files"][0]["key"]
    store.put_bytes(damaged, gzip.compress(b'{"tampered": true}\n'))
    evaluation = catalog_export_reads_back(object_store=store)
    assert not evaluation.passed
    assert damaged in str(evaluation.metadata["problems"].value)
