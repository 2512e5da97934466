"""`benchmark_runs` on an S3 object store (a real SeaweedFS on 127.0.0.1): the harness writes its
raw records to the bucket with the store's endpoint and credentials, and the run reads them back
through the store into `benchmark_request_timings`. Unreadable records leave the result stored
without them, saying why."""

import gzip

import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource
from sqlalchemy.engine import Engine

from assets.benchmarks.run_assets import benchmark_runs
from resources.object_store import RAW_RECORDS_PREFIX, S3ObjectStore
from tests.integration.benchmarks.conftest import PARTITION, RUN_CONFIG, resources_for
from tests.integration.benchmarks.test_runs import _rows, requests
from tests.support.seaweed import SeaweedS3

pytestmark = pytest.mark.integration


@pytest.fixture
def s3_store(seaweed: SeaweedS3, monkeypatch: pytest.MonkeyPatch) -> S3ObjectStore:
    # Nothing ambient: the harness must get the endpoint and keys from the object store.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL",
                 "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return S3ObjectStore(
        bucket=seaweed.bucket,
        prefix="catalog/",
        s3=S3Resource(
            endpoint_url=seaweed.endpoint_url,
            region_name=seaweed.region,
            aws_access_key_id=seaweed.access_key_id,
            aws_secret_access_key=seaweed.secret_access_key,
        ),
    )


def _run(instance: dg.DagsterInstance, resources: dict) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [benchmark_runs],
        partition_key=PARTITION,
        instance=instance,
        resources=resources,
        run_config={"ops": {"benchmark_runs": {"config": RUN_CONFIG}}},
        raise_on_error=False,
    )


def test_raw_records_go_to_s3_and_come_back_as_request_rows(
    catalog: Engine, database_url: str, s3_store: S3ObjectStore, seaweed: SeaweedS3, instance
):
    result = _run(instance, resources_for(database_url, s3_store))
    assert result.success, result.all_events
    [row] = _rows(catalog)
    uri = row["extra"]["raw_records_uri"]
    assert uri.startswith(f"s3://{seaweed.bucket}/catalog/{RAW_RECORDS_PREFIX}")
    key = uri.removeprefix(f"s3://{seaweed.bucket}/")
    body = seaweed.client().get_object(Bucket=seaweed.bucket, Key=key)["Body"].read()
    assert len(gzip.decompress(body).splitlines()) == RUN_CONFIG["num_requests"]
    loaded = requests(catalog)
    assert len(loaded) == RUN_CONFIG["num_requests"]
    assert {r["result_key"] for r in loaded} == {row["result_key"]}
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert (metadata["requests_loaded"].value, metadata["requests_skipped"].value) == (4, 0)


def test_a_corrupt_records_object_keeps_the_result_and_says_why(
    catalog: Engine, database_url: str, s3_store: S3ObjectStore, instance
):
    """The harness's object is replaced by garbage as soon as the result is known."""

    class CorruptingStore(S3ObjectStore):
        def get_bytes(self, key: str) -> bytes:
            self.put_bytes(key, b"not gzip")
            return super().get_bytes(key)

    store = CorruptingStore(**{k: getattr(s3_store, k) for k in ("bucket", "prefix", "s3")})
    result = _run(instance, resources_for(database_url, store))
    assert result.success, result.all_events
    assert len(_rows(catalog)) == 1 and requests(catalog) == []
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["requests_loaded"].value == 0
    assert "not gzipped" in metadata["raw_records_error"].value
