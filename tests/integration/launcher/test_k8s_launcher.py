"""The Kubernetes launcher against an HTTP Kubernetes API on 127.0.0.1 (kmock), through the real
`kubernetes` client PipesK8sClient uses. The fake kubelet runs each pod's command for real, so
the Pipes context goes in through the pod spec and the messages come back through the pod logs.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from resources.launcher import BenchmarkFailed, BenchmarkPreempted, LaunchRequest
from resources.launcher_k8s import K8sBenchmarkLauncher
from resources.object_store import LocalObjectStore
from tests.integration.launcher.conftest import FAKE_HARNESS, job
from tests.support.k8s_cluster import FakeCluster

GPU = "H100-SXM-80GB"
CAPACITY = "karpenter.sh/capacity-type"


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> Iterator[FakeCluster]:
    with FakeCluster(request.param).running() as cluster:
        yield cluster


def _launcher(cluster: FakeCluster, tmp_path: Path, **config: object) -> K8sBenchmarkLauncher:
    """A launcher on this cluster; its store is a local folder, so messages come by pod logs."""
    defaults = {"max_preemptions": 2, "backoff_s": 0.0, "pending_timeout_s": 1.0,
                "object_store": LocalObjectStore(root=str(tmp_path / "objects"))}  # fmt: skip
    return K8sBenchmarkLauncher(
        image="model-catalog-harness:test", command=FAKE_HARNESS, namespace="benchmarks",
        kubeconfig_file=str(cluster.kubeconfig(tmp_path)), poll_interval_s=0.02,
        **{**defaults, **config},
    )  # fmt: skip


def _request(**overrides: object) -> LaunchRequest:
    fields = {"job": job(fake_sleep_s=0.2), "gpu": GPU, "num_gpus": 1,
              "labels": {"team": "ml-platform"}, **overrides}  # fmt: skip
    return LaunchRequest(**fields)


@pytest.mark.parametrize("cluster", [["run"]], indirect=True)
def test_a_pod_that_completes_returns_its_result(cluster, tmp_path, run_benchmark) -> None:
    run = run_benchmark(_launcher(cluster, tmp_path), _request())
    assert run.result.success, run.error
    assert run.outcome.result["model_id"] == "tiny-org/tiny-llama"
    assert [(a.pricing, a.outcome) for a in run.outcome.attempts] == [("spot", "succeeded")]
    assert len(run.materializations) == 1
    (pod,) = cluster.manifests
    assert pod["spec"]["nodeSelector"][CAPACITY] == "spot"
    assert pod["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["metadata"]["labels"]["model-catalog/team"] == "ml-platform"
    assert pod["metadata"]["labels"]["model-catalog/model"] == "tiny-org.tiny-llama"
    assert cluster.live_pods() == []  # the launcher cleans up after reading the pod back


@pytest.mark.parametrize("cluster", [["run"]], indirect=True)
def test_the_credentials_secret_reaches_the_created_pod(cluster, tmp_path, run_benchmark):
    launcher = _launcher(cluster, tmp_path, credentials_secret="model-catalog-harness")
    run = run_benchmark(launcher, _request())
    assert run.result.success, run.error
    (pod,) = cluster.manifests
    (container,) = pod["spec"]["containers"]
    assert container["envFrom"] == [{"secretRef": {"name": "model-catalog-harness"}}]
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "HF_TOKEN"} & {
        e["name"] for e in container.get("env", [])
    }


@pytest.mark.parametrize("cluster", [["reclaim", "run"]], indirect=True)
def test_a_reclaimed_pod_is_retried_and_yields_one_result(cluster, tmp_path, run_benchmark):
    run = run_benchmark(_launcher(cluster, tmp_path), _request())
    assert run.result.success, run.error
    attempts = run.outcome.attempts
    assert [(a.pricing, a.outcome) for a in attempts] == [
        ("spot", "preempted"),
        ("spot", "succeeded"),
    ]
    assert "vanished" in attempts[0].reason
    assert len(run.materializations) == 1
    assert len(run.result.get_asset_check_evaluations()) == 2
    assert len(cluster.manifests) == 2 and cluster.live_pods() == []


@pytest.mark.parametrize("cluster", [["evict", "evict", "run"]], indirect=True)
def test_repeated_preemption_falls_back_to_on_demand(cluster, tmp_path, run_benchmark) -> None:
    run = run_benchmark(_launcher(cluster, tmp_path), _request())
    assert run.result.success, run.error
    assert [(a.pricing, a.outcome) for a in run.outcome.attempts] == [
        ("spot", "preempted"),
        ("spot", "preempted"),
        ("on-demand", "succeeded"),
    ]
    assert "DisruptionTarget" not in run.outcome.attempts[0].reason  # the condition's reason
    assert "TerminationByKubelet" in run.outcome.attempts[0].reason
    assert run.outcome.pricing == "on-demand"
    assert [p["spec"]["nodeSelector"][CAPACITY] for p in cluster.manifests] == [
        "spot",
        "spot",
        "on-demand",
    ]


@pytest.mark.parametrize("cluster", [["evict"]], indirect=True)
def test_without_fallback_preemptions_end_in_benchmark_preempted(
    cluster, tmp_path, run_benchmark
) -> None:
    run = run_benchmark(_launcher(cluster, tmp_path), _request(allow_on_demand_fallback=False))
    assert isinstance(run.error, BenchmarkPreempted)
    assert [a.outcome for a in run.error.attempts] == ["preempted", "preempted"]
    assert run.materializations == []


@pytest.mark.parametrize("cluster", [["run"]], indirect=True)
def test_a_genuine_failure_fails_fast_with_its_reason(cluster, tmp_path, run_benchmark) -> None:
    request = _request(job=job(model_id="missing/model"))
    run = run_benchmark(_launcher(cluster, tmp_path), request)
    assert isinstance(run.error, BenchmarkFailed)
    assert not isinstance(run.error, BenchmarkPreempted)
    assert "LookupError: model 'missing/model' not found" in run.error.reason
    assert len(cluster.manifests) == 1  # no retry
    assert cluster.live_pods() == []


@pytest.mark.parametrize("cluster", [["oom"]], indirect=True)
def test_an_oom_killed_pod_is_a_failure_not_a_preemption(cluster, tmp_path, run_benchmark):
    run = run_benchmark(_launcher(cluster, tmp_path), _request())
    assert isinstance(run.error, BenchmarkFailed)
    assert not isinstance(run.error, BenchmarkPreempted)
    assert "OOMKilled" in run.error.reason
    assert len(cluster.manifests) == 1


@pytest.mark.parametrize("cluster", [["pending", "run"]], indirect=True)
def test_a_pending_pod_times_out_and_moves_to_on_demand(cluster, tmp_path, run_benchmark):
    run = run_benchmark(_launcher(cluster, tmp_path, pending_timeout_s=0.5), _request())
    assert run.result.success, run.error
    first, second = run.outcome.attempts
    assert (first.pricing, first.outcome) == ("spot", "preempted")
    assert "Pending" in first.reason and "Insufficient nvidia.com/gpu" in first.reason
    assert (second.pricing, second.outcome) == ("on-demand", "succeeded")
    assert cluster.live_pods() == []  # the Pending pod was deleted, not left to start later


@pytest.mark.parametrize("cluster", [["pending"]], indirect=True)
def test_a_pending_pod_is_bounded_without_fallback(cluster, tmp_path, run_benchmark) -> None:
    launcher = _launcher(cluster, tmp_path, pending_timeout_s=0.3, max_preemptions=1)
    run = run_benchmark(launcher, _request(allow_on_demand_fallback=False))
    assert isinstance(run.error, BenchmarkPreempted)
    assert "Pending" in run.error.attempts[0].reason
    assert cluster.live_pods() == []
