"""A private registry's manifest on S3 (`s3://bucket/key`), read from a real SeaweedFS on
127.0.0.1 (tests/support/seaweed.py) through the same ManifestSource and sync as a local file."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest
from sqlalchemy import text

from assets.registry import assets as registry_assets
from assets.registry.sync import sync_source
from resources.database import DatabaseResource
from resources.registry import HubSource, ManifestSource, RegistryResource
from resources.registry_manifest import ManifestError
from resources.settings import Settings
from tests.support.fake_hub import FakeHub
from tests.support.seaweed import SeaweedS3, seaweed_s3, weed_or_skip

pytestmark = pytest.mark.integration
NOW = datetime(2026, 5, 1, 3, tzinfo=UTC)
MANIFEST = {
    "models": [
        {"id": "corp/llm-7b", "author": "corp", "sha": "abc0", "pipeline_tag": "text-generation",
         "safetensors": {"total": 7_000_000_000}, "cardData": {"license": "other"}},
        {"id": "corp/llm-7b-q4", "author": "corp", "sha": "abc1",
         "tags": ["base_model:quantized:corp/llm-7b"]},
        {"id": "corp/typo", "pipline_tag": "text-generation"},  # quarantined, not fatal
    ]
}  # fmt: skip


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    weed_or_skip(Settings(database_url=None, redis_url=None))
    with seaweed_s3(tmp_path_factory.mktemp("seaweed")) as server:
        server.client().put_object(
            Bucket=server.bucket, Key="registry/internal.json", Body=json.dumps(MANIFEST).encode()
        )
        yield server


def _manifest(server: SeaweedS3, key: str = "registry/internal.json", **config) -> ManifestSource:
    settings = {
        "name": "internal", "url": f"s3://{server.bucket}/{key}",
        "s3_endpoint_url": server.endpoint_url, "s3_region": server.region,
        "aws_access_key_id": server.access_key_id,
        "aws_secret_access_key": server.secret_access_key, "timeout_s": 5,
    }  # fmt: skip
    return ManifestSource(**{**settings, **config})


def test_a_manifest_on_s3_syncs_like_a_local_one(clean_db, seaweed: SeaweedS3) -> None:
    report = sync_source(clean_db, _manifest(seaweed), ["internal"], now=NOW)
    assert (len(report.new), report.quarantined, report.complete) == (2, 1, True)
    with clean_db.connect() as conn:
        rows = {r["id"]: dict(r) for r in conn.execute(text("SELECT * FROM models")).mappings()}
    assert rows["corp/llm-7b"]["num_parameters"] == 7_000_000_000
    assert rows["corp/llm-7b-q4"]["base_models"] == ["corp/llm-7b"]
    assert {r["source"] for r in rows.values()} == {"internal"}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"aws_secret_access_key": "not-the-secret"}, "refused the read (SignatureDoesNotMatch"),
        ({"aws_access_key_id": "AKNOBODY"}, "refused the read (InvalidAccessKeyId"),
        ({"url": "s3://catalog-test/registry/missing.json"}, "refused the read (NoSuchKey"),
    ],
)
def test_a_refused_read_is_a_clear_error_recorded_in_the_sync_state(
    clean_db, seaweed: SeaweedS3, config: dict, expected: str
) -> None:
    with pytest.raises(ManifestError, match=expected.replace("(", r"\(")):
        sync_source(clean_db, _manifest(seaweed, **config), ["internal"], now=NOW)
    with clean_db.connect() as conn:
        error = conn.execute(text("SELECT last_error FROM registry_sync_state")).scalar_one()
        models = conn.execute(text("SELECT count(*) FROM models")).scalar_one()
    assert error.startswith("ManifestError: s3://catalog-test/registry/") and expected in error
    assert models == 0


def test_bad_credentials_fail_their_source_only(
    clean_db, database_url: str, records: list[dict], seaweed: SeaweedS3
) -> None:
    """The asset syncs every other source, records the S3 source's error, then fails the run."""
    instance = dg.DagsterInstance.ephemeral()
    wrong = _manifest(seaweed, aws_secret_access_key="not-the-secret")
    with FakeHub(records[:20]) as hub:
        registry = RegistryResource(
            hub=[HubSource(name="hub", endpoint=hub.url)], manifests=[wrong]
        )
        result = dg.materialize(
            dg.load_assets_from_modules([registry_assets]),
            selection=["registry_models"],
            resources={"database": DatabaseResource(url=database_url), "registry": registry},
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "registry source(s) failed: internal" in failure.event_specific_data.error.message
    with clean_db.connect() as conn:
        errors = dict(
            conn.execute(text("SELECT source, last_error FROM registry_sync_state")).all()
        )
        sources = conn.execute(text("SELECT source, count(*) FROM models GROUP BY source")).all()
    assert errors["hub"] is None and "SignatureDoesNotMatch" in errors["internal"]
    assert sources == [("hub", 20)]
