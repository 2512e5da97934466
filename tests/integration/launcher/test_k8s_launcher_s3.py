"""The Kubernetes launcher with Pipes messages over S3: kmock's HTTP Kubernetes API, a real
SeaweedFS, and the fake harness writing through the harness's own `open_pipes` (so with
`PipesS3MessageWriter`, because the object store's reader asks for a bucket).

The pod spec carries the store's endpoint and region, never its keys: the test stands in for the
Secret / IRSA by putting the keys in the environment the fake kubelet gives every pod.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster_aws.s3 import S3Resource

from resources.launcher import LaunchRequest
from resources.launcher_k8s import K8sBenchmarkLauncher
from resources.object_store import PIPES_PREFIX, S3ObjectStore
from tests.integration.launcher.conftest import FAKE_HARNESS, job
from tests.support.k8s_cluster import FakeCluster
from tests.support.seaweed import SeaweedS3

GPU = "H100-SXM-80GB"


@pytest.fixture
def store(seaweed: SeaweedS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3ObjectStore:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweed.access_key_id)  # the pod's Secret / IRSA
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweed.secret_access_key)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):  # only the pod spec may say it
        monkeypatch.delenv(name, raising=False)
    return S3ObjectStore(
        bucket=seaweed.bucket,
        prefix=f"{tmp_path.name}/",
        s3=S3Resource(
            endpoint_url=seaweed.endpoint_url,
            region_name=seaweed.region,
            aws_access_key_id=seaweed.access_key_id,
            aws_secret_access_key=seaweed.secret_access_key,
        ),
    )


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> Iterator[FakeCluster]:
    with FakeCluster(request.param).running() as cluster:
        yield cluster


def _launcher(cluster: FakeCluster, tmp_path: Path, store: S3ObjectStore) -> K8sBenchmarkLauncher:
    return K8sBenchmarkLauncher(
        object_store=store, image="model-catalog-harness:test", command=FAKE_HARNESS,
        namespace="benchmarks", kubeconfig_file=str(cluster.kubeconfig(tmp_path)),
        poll_interval_s=0.05, max_preemptions=2, backoff_s=0.0, pending_timeout_s=5.0,
    )  # fmt: skip


def _stored_messages(store: S3ObjectStore) -> list[dict]:
    chunks = [store.get_bytes(o.key).decode() for o in store.list_objects(PIPES_PREFIX)]
    return [json.loads(line) for chunk in chunks for line in chunk.splitlines() if line.strip()]


def _pod_env(pod: dict) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in pod["spec"]["containers"][0].get("env", [])}


@pytest.mark.parametrize("cluster", [["run"]], indirect=True)
def test_the_result_comes_back_through_s3(cluster, tmp_path, store, run_benchmark) -> None:
    request = LaunchRequest(job=job(fake_sleep_s=0.2), gpu=GPU)
    run = run_benchmark(_launcher(cluster, tmp_path, store), request)
    assert run.result.success, run.error
    assert run.outcome.result["model_id"] == "tiny-org/tiny-llama"
    assert len(run.materializations) == 1
    assert len(run.result.get_asset_check_evaluations()) == 2
    # Every message went through the bucket under pipes/ (none through the pod's logs).
    methods = [m["method"] for m in _stored_messages(store)]
    assert {"opened", "closed"} <= set(methods)
    assert methods.count("report_asset_materialization") == 1
    # The pod's own output travels in the messages too: it outlives a reclaimed node.
    assert "log_external_stream" in methods
    assert all(b'"report_asset_materialization"' not in line for line in cluster.pods_logs())
    (pod,) = cluster.manifests
    env = _pod_env(pod)
    assert env["AWS_ENDPOINT_URL_S3"] == store.s3.endpoint_url
    assert "AWS_ACCESS_KEY_ID" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert cluster.live_pods() == []


@pytest.mark.parametrize("cluster", [["reclaim", "run"]], indirect=True)
def test_a_reclaimed_pod_is_retried_over_s3_and_yields_one_result(
    cluster, tmp_path, store, run_benchmark
) -> None:
    run = run_benchmark(_launcher(cluster, tmp_path, store), LaunchRequest(job=job(), gpu=GPU))
    assert run.result.success, run.error
    assert [a.outcome for a in run.outcome.attempts] == ["preempted", "succeeded"]
    assert len(run.materializations) == 1


@pytest.mark.parametrize("cluster", [["run"]], indirect=True)
def test_a_harness_failure_keeps_its_reason_over_s3(cluster, tmp_path, store, run_benchmark):
    request = LaunchRequest(job=job(model_id="missing/model"), gpu=GPU)
    run = run_benchmark(_launcher(cluster, tmp_path, store), request)
    assert not run.result.success
    assert "LookupError: model 'missing/model' not found" in run.error.reason
    assert len(cluster.manifests) == 1  # a genuine failure: no retry
