"""The object store, both implementations through the same tests: a folder, and S3 through
dagster-aws against a real SeaweedFS on 127.0.0.1 (tests/support/seaweed.py)."""

import gzip
import json
import os
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pytest
from botocore.exceptions import ClientError
from dagster_aws.s3 import S3Resource
from pydantic import ValidationError

from resources.object_store import (
    PIPES_PREFIX,
    LocalObjectStore,
    ObjectNotFoundError,
    ObjectStoreResource,
    S3ObjectStore,
    build_object_store,
)
from resources.settings import REPO_ROOT, Settings
from tests.support.seaweed import SeaweedS3, seaweed_s3, weed_or_skip


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    weed_or_skip(Settings(database_url=None, redis_url=None))
    with seaweed_s3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


def _s3_store(server: SeaweedS3, prefix: str, secret: str | None = None) -> S3ObjectStore:
    return S3ObjectStore(
        bucket=server.bucket,
        prefix=prefix,
        s3=S3Resource(
            endpoint_url=server.endpoint_url,
            region_name=server.region,
            aws_access_key_id=server.access_key_id,
            aws_secret_access_key=secret or server.secret_access_key,
            max_attempts=1,
        ),
    )


@pytest.fixture(params=["local", "s3"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path):
    """A factory of stores of one kind sharing one folder or bucket, each test its own prefix."""
    run = uuid.uuid4().hex[:8]
    if request.param == "local":
        return lambda prefix="": LocalObjectStore(root=str(tmp_path / "objects"), prefix=prefix)
    server = request.getfixturevalue("seaweed")
    return lambda prefix="": _s3_store(server, f"{run}/{prefix}")


@pytest.fixture
def store(make_store) -> ObjectStoreResource:
    return make_store("catalog/")


def test_bytes_and_files_round_trip(store: ObjectStoreResource, tmp_path: Path):
    assert store.get_bytes(store.key_from_uri(store.put_bytes("a/one.json", b"{}"))) == b"{}"
    store.put_bytes("a/one.json", b'{"v": 2}')  # replaces
    assert store.get_bytes("a/one.json") == b'{"v": 2}'
    # Over boto3's 8 MiB multipart threshold, so S3 takes the multipart path.
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))
    store.put_file("raw/big.bin", big)
    copy = store.get_file("raw/big.bin", tmp_path / "copy.bin")
    assert copy.read_bytes() == big.read_bytes()


def test_listing_by_prefix(make_store):
    store, neighbour = make_store("catalog/"), make_store("other/")
    for key in ("a/1", "a/2", "ab/3", "b/1"):
        store.put_bytes(key, key.encode() * 2)
    neighbour.put_bytes("a/9", b"x")
    assert [(o.key, o.size) for o in store.list_objects("a/")] == [("a/1", 6), ("a/2", 6)]
    assert [o.key for o in store.list_objects("a")] == ["a/1", "a/2", "ab/3"]
    assert [o.key for o in store.list_objects()] == ["a/1", "a/2", "ab/3", "b/1"]
    assert store.list_objects("zz/") == []
    assert [o.key for o in neighbour.list_objects()] == ["a/9"]


def test_a_missing_key_is_a_clear_error(store: ObjectStoreResource, tmp_path: Path):
    with pytest.raises(ObjectNotFoundError, match="nope/x.json"):
        store.get_bytes("nope/x.json")
    with pytest.raises(ObjectNotFoundError, match="nope/x.json"):
        store.get_file("nope/x.json", tmp_path / "x.json")
    with pytest.raises(ObjectNotFoundError, match="nope/x.json"):
        store.presigned_url("nope/x.json")
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize(
    "key", ["", "/abs", "../up", "a/../b", "a//b", "a\\b", "a/", ".incoming/x"]
)
def test_unsafe_keys_are_refused_and_nothing_is_written(store: ObjectStoreResource, key: str):
    with pytest.raises(ValueError, match="invalid object key"):
        store.put_bytes(key, b"x")
    with pytest.raises(ValueError, match="invalid object key"):
        store.list_objects(key + "/")
    assert store.list_objects() == []


def test_uri_for_names_where_the_object_is(store: ObjectStoreResource):
    uri = store.put_bytes("raw/benchmarks/r1.jsonl.gz", gzip.compress(b'{"ttft_ms": 1}\n'))
    assert uri == store.uri_for("raw/benchmarks/r1.jsonl.gz")
    if isinstance(store, S3ObjectStore):
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        body = store.client.get_object(Bucket=bucket, Key=key)["Body"].read()
    else:
        assert uri.startswith("file:///")
        body = Path(urllib.request.url2pathname(uri.removeprefix("file://"))).read_bytes()
    assert gzip.decompress(body) == b'{"ttft_ms": 1}\n'
    assert store.key_from_uri(uri) == "raw/benchmarks/r1.jsonl.gz"


def test_prefix_uri_is_where_the_keys_under_it_land(store: ObjectStoreResource):
    # The harness gets `prefix_uri` as its artifacts_uri and appends its own file names.
    prefix_uri = store.prefix_uri("raw/benchmarks/")
    assert store.uri_for("raw/benchmarks/r1.jsonl.gz") == prefix_uri + "r1.jsonl.gz"
    assert store.key_from_uri(prefix_uri + "r1.jsonl.gz") == "raw/benchmarks/r1.jsonl.gz"
    with pytest.raises(ValueError):
        store.prefix_uri("../outside/")
    with pytest.raises(ValueError, match="not in this object store"):
        store.key_from_uri("s3://elsewhere/raw/r1.jsonl.gz")
    odd = "exports/Ünï code%20.json"  # a file URI percent-encodes it, an s3 one does not
    assert store.key_from_uri(store.put_bytes(odd, b"x")) == odd


def test_a_presigned_url_reads_without_credentials(store: ObjectStoreResource):
    store.put_bytes("exports/report.json", b'{"ok": true}')
    with urllib.request.urlopen(store.presigned_url("exports/report.json", expires_s=60)) as reply:
        assert reply.read() == b'{"ok": true}'


def test_wrong_credentials_are_rejected(seaweed: SeaweedS3):
    good = _s3_store(seaweed, "creds/")
    good.put_bytes("kept.txt", b"x")
    wrong_secret = _s3_store(seaweed, "creds/", secret="not-the-secret")
    for attempt in (
        lambda: wrong_secret.get_bytes("kept.txt"),
        lambda: wrong_secret.put_bytes("written.txt", b"y"),
        lambda: wrong_secret.list_objects(),
    ):
        with pytest.raises(ClientError) as refused:
            attempt()
        assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    unknown_key = _s3_store(replace(seaweed, access_key_id="AKUNKNOWN"), "creds/")
    with pytest.raises(ClientError) as refused:
        unknown_key.get_bytes("kept.txt")
    assert refused.value.response["Error"]["Code"] in {"InvalidAccessKeyId", "AccessDenied"}
    assert [o.key for o in good.list_objects()] == ["kept.txt"]


# The external side of a Pipes session, as the benchmark harness runs it in its pod.
_EXTERNAL = """
import sys
import boto3
from dagster_pipes import PipesDefaultMessageWriter, PipesS3MessageWriter, open_dagster_pipes

s3 = sys.argv[1] == "s3"
# boto3 reads the endpoint, region and keys from the AWS_* variables of pipes_env().
writer = PipesS3MessageWriter(client=boto3.client("s3"), interval=0.1) if s3 else None
with open_dagster_pipes(message_writer=writer or PipesDefaultMessageWriter()) as pipes:
    print("stdout survives the pod", flush=True)
    pipes.report_asset_materialization(metadata={"rows": 3, "via": sys.argv[1]})
"""


def test_pipes_messages_round_trip_through_the_store(store: ObjectStoreResource, tmp_path: Path):
    script = tmp_path / "external.py"
    script.write_text(_EXTERNAL)
    kind = "s3" if isinstance(store, S3ObjectStore) else "local"

    @dg.asset
    def measured(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        client = dg.PipesSubprocessClient(
            message_reader=store.pipes_message_reader(interval_s=0.1),
            env=store.pipes_env(with_credentials=True),
        )
        invocation = client.run(context=context, command=[sys.executable, str(script), kind])
        return invocation.get_materialize_result()

    result = dg.materialize([measured])
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert (metadata["rows"].value, metadata["via"].value) == (3, kind)
    # The messages stay in the store under pipes/ (where the lifecycle rule expires them),
    # stdout included: what a reclaimed spot node would otherwise have taken with it.
    stored = store.list_objects(PIPES_PREFIX)
    assert stored
    text = "\n".join(store.get_bytes(o.key).decode() for o in stored)
    messages = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert {m["method"] for m in messages} >= {"opened", "report_asset_materialization", "closed"}
    assert "stdout survives the pod" in text


def test_settings_build_the_store(tmp_path: Path, seaweed: SeaweedS3, monkeypatch):
    local = build_object_store(Settings(database_url=None, redis_url=None, home=tmp_path))
    assert isinstance(local, LocalObjectStore) and local.root == str(tmp_path / "objects")
    # S3: the keys travel as dg.EnvVar and are resolved when Dagster builds the resource.
    monkeypatch.setenv("CATALOG_OBJECT_STORE_ACCESS_KEY_ID", seaweed.access_key_id)
    monkeypatch.setenv("CATALOG_OBJECT_STORE_SECRET_ACCESS_KEY", seaweed.secret_access_key)
    settings = Settings(
        database_url=None,
        redis_url=None,
        object_store_kind="s3",
        object_store_bucket=seaweed.bucket,
        object_store_prefix="from-settings/",
        object_store_endpoint_url=seaweed.endpoint_url,
        object_store_region=seaweed.region,
    )
    resource = build_object_store(settings)
    assert isinstance(resource, S3ObjectStore)
    assert resource.s3.aws_secret_access_key == dg.EnvVar("CATALOG_OBJECT_STORE_SECRET_ACCESS_KEY")

    @dg.asset
    def written(object_store: ObjectStoreResource) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"uri": object_store.put_bytes("k.txt", b"v")})

    assert dg.materialize([written], resources={"object_store": resource}).success
    assert seaweed.client().get_object(Bucket=seaweed.bucket, Key="from-settings/k.txt")


@pytest.mark.parametrize(
    "values",
    [
        {"object_store_kind": "s3"},
        {"object_store_kind": "s3", "object_store_bucket": "b", "object_store_access_key_id": "k"},
    ],
)
def test_incomplete_s3_settings_are_refused(values: dict):
    with pytest.raises(ValidationError, match="CATALOG_OBJECT_STORE_"):
        Settings(database_url=None, redis_url=None, **values)


def test_the_lifecycle_rules_apply_to_a_real_s3_server(seaweed: SeaweedS3):
    """SeaweedFS has one storage class: it takes expiry and multipart rules, refuses transitions
    (NotImplemented). So the rules minus their transitions go in and read back unchanged, and
    the full file is refused for that reason alone (AWS takes it whole)."""
    config = json.loads((REPO_ROOT / "deploy" / "object-store" / "lifecycle.json").read_text())
    client = seaweed.client()
    with pytest.raises(ClientError) as refused:
        client.put_bucket_lifecycle_configuration(
            Bucket=seaweed.bucket, LifecycleConfiguration=config
        )
    assert refused.value.response["Error"]["Code"] == "NotImplemented"
    without_transitions = {
        "Rules": [{k: v for k, v in rule.items() if k != "Transitions"} for rule in config["Rules"]]
    }
    client.put_bucket_lifecycle_configuration(
        Bucket=seaweed.bucket, LifecycleConfiguration=without_transitions
    )
    applied = client.get_bucket_lifecycle_configuration(Bucket=seaweed.bucket)["Rules"]
    assert sorted(applied, key=lambda r: r["ID"]) == sorted(
        without_transitions["Rules"], key=lambda r: r["ID"]
    )
    client.delete_bucket_lifecycle(Bucket=seaweed.bucket)
