"""Benchmark runs land in their GPU's Dagster queue: the run tag matches a configured limit."""

import yaml

from orchestration.jobs import GPU_TYPE_TAG, benchmark_run_tags
from resources.settings import REPO_ROOT


def _limited_gpu_types() -> tuple[set[str], set[str]]:
    helm = yaml.safe_load((REPO_ROOT / "deploy/helm/dagster-values.yaml").read_text())
    queue = helm["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    local = yaml.safe_load((REPO_ROOT / "deploy/dagster.yaml").read_text())
    limits = local["run_coordinator"]["config"]["tag_concurrency_limits"]
    return (
        {r["value"] for r in queue["tagConcurrencyLimits"] if r["key"] == GPU_TYPE_TAG},
        {r["value"] for r in limits if r["key"] == GPU_TYPE_TAG},
    )


def test_a_gpu_run_is_tagged_with_a_gpu_type_the_queues_limit():
    helm, local = _limited_gpu_types()
    for gpu in ("H100-SXM-80GB", "H100-NVL-94GB", "A100-SXM-80GB", "A100-SXM-40GB"):
        family = benchmark_run_tags(600, gpu)[GPU_TYPE_TAG]
        assert family in helm and family in local, gpu


def test_a_cpu_run_joins_no_gpu_queue():
    assert GPU_TYPE_TAG not in benchmark_run_tags(600, "CPU")
    assert GPU_TYPE_TAG not in benchmark_run_tags(600)
