"""The benchmark pod spec: valid against the Kubernetes 1.31 schema for every cloud x pricing,
schedulable on the GPU pools deploy/gpu-pools declares, and labelled for cost attribution."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from assets.benchmarks.podspec import (
    CLOUDS,
    GPU_NODE_LABELS,
    POOL_LABEL,
    PRICINGS,
    PodRequest,
    UnsupportedGpuError,
    label_value,
    pod_manifest,
    pod_template,
)
from assets.costs.gpus import gpu_specs
from resources.settings import REPO_ROOT

KUBERNETES_VERSION = "1.31.0"  # as tests/unit/deploy/test_k8s_manifests.py
VALIDATOR = Path(sys.executable).parent / "kubernetes-validate"
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _request(cloud="eks", pricing="spot", gpu="H100-SXM-80GB", num_gpus=2, **kw) -> PodRequest:
    return PodRequest(
        image="registry.example.com/model-catalog-harness:1.0", command=["python", "-m", "h"],
        gpu=gpu, num_gpus=num_gpus, cloud=cloud, pricing=pricing, max_runtime_s=5400,
        labels={"team": "ml platform", "run-id": "4040a9da-b421"}, **kw,
    )  # fmt: skip


def test_every_cloud_and_pricing_renders_a_valid_pod(tmp_path: Path) -> None:
    paths = []
    for cloud in CLOUDS:
        for pricing in PRICINGS:
            path = tmp_path / f"{cloud}-{pricing}.yaml"
            path.write_text(yaml.safe_dump(pod_manifest(_request(cloud, pricing), "b", "mc")))
            paths.append(str(path))
    command = [str(VALIDATOR), "--strict", "--kubernetes-version", KUBERNETES_VERSION, "--quiet"]
    result = subprocess.run([*command, *paths], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_pod_with_the_credentials_secret_is_valid_and_holds_no_key(tmp_path: Path) -> None:
    pod = pod_manifest(_request(credentials_secret="model-catalog-harness"), "b", "mc")
    (container,) = pod["spec"]["containers"]
    assert container["envFrom"] == [{"secretRef": {"name": "model-catalog-harness"}}]
    assert "env" not in container  # PipesK8sClient adds its own; the keys never enter the spec
    path = tmp_path / "pod.yaml"
    path.write_text(yaml.safe_dump(pod))
    command = [str(VALIDATOR), "--strict", "--kubernetes-version", KUBERNETES_VERSION, "--quiet"]
    result = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_a_credentials_secret_the_pod_reads_none() -> None:
    _, spec = pod_template(_request())
    assert "envFrom" not in spec["containers"][0]


def test_the_validator_rejects_a_misspelt_pod_field(tmp_path: Path) -> None:
    """Guards the test above: strict validation must fail an unknown field."""
    pod = pod_manifest(_request(), "b", "mc")
    pod["spec"]["activeDeadlineSecond"] = pod["spec"].pop("activeDeadlineSeconds")
    path = tmp_path / "pod.yaml"
    path.write_text(yaml.safe_dump(pod))
    command = [str(VALIDATOR), "--strict", "--kubernetes-version", KUBERNETES_VERSION, "--quiet"]
    assert subprocess.run([*command, str(path)], capture_output=True, timeout=60).returncode != 0


def test_gpu_count_deadline_and_restart_policy() -> None:
    _, spec = pod_template(_request(num_gpus=4))
    resources = spec["containers"][0]["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == "4"
    assert resources["requests"]["nvidia.com/gpu"] == "4"
    assert resources["requests"]["cpu"] == "32" and resources["limits"]["memory"] == "256Gi"
    assert spec["activeDeadlineSeconds"] == 5400
    assert spec["restartPolicy"] == "Never"


def test_capacity_selection_per_cloud() -> None:
    def selector(cloud, pricing):
        return pod_template(_request(cloud, pricing))[1].get("nodeSelector", {})

    assert selector("eks", "spot")["karpenter.sh/capacity-type"] == "spot"
    assert selector("eks", "on-demand")["karpenter.sh/capacity-type"] == "on-demand"
    assert selector("gke", "spot")["cloud.google.com/gke-spot"] == "true"
    assert selector("aks", "spot")["kubernetes.azure.com/scalesetpriority"] == "spot"
    for cloud, key in (("gke", "cloud.google.com/gke-spot"),
                       ("aks", "kubernetes.azure.com/scalesetpriority")):  # fmt: skip
        _, spec = pod_template(_request(cloud, "on-demand"))
        assert key not in spec.get("nodeSelector", {})
        terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        (expression,) = [e for e in terms["nodeSelectorTerms"][0]["matchExpressions"]
                         if e["key"] == key]  # fmt: skip
        assert expression["operator"] == "NotIn"


def _tolerates(tolerations: list[dict], taint: dict) -> bool:
    """Kubernetes' matching rule (k8s.io/api/core/v1 toleration.go ToleratesTaint)."""
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint["effect"]:
            continue
        if t.get("key") != taint["key"]:
            continue
        if t.get("operator", "Equal") == "Exists" or t.get("value") == taint.get("value"):
            return True
    return False


def _declared_gpu_pools() -> list[dict]:
    pools = REPO_ROOT / "deploy" / "gpu-pools"
    documents = [d for p in sorted(pools.glob("*.yaml")) for d in yaml.safe_load_all(p.read_text())]
    return [d for d in documents if d and d["kind"] == "NodePool" and d["spec"]["template"]
            .get("metadata", {}).get("labels", {}).get(POOL_LABEL)]  # fmt: skip


@pytest.mark.parametrize("pricing", PRICINGS)
def test_the_pod_tolerates_and_selects_the_declared_gpu_pools(pricing: str) -> None:
    pools = _declared_gpu_pools()
    assert pools, "no GPU NodePool in deploy/gpu-pools"
    for pool in pools:
        template = pool["spec"]["template"]
        family = template["metadata"]["labels"][POOL_LABEL]
        gpus = [name for name, labels in GPU_NODE_LABELS.items()
                if labels.pool == family and labels.eks_gpu_name]  # fmt: skip
        assert gpus, f"no canonical GPU maps to the {family} pool"
        requirements = {r["key"]: r["values"] for r in template["spec"]["requirements"]}
        for gpu in gpus:
            _, spec = pod_template(_request("eks", pricing, gpu=gpu))
            for taint in template["spec"]["taints"]:
                assert _tolerates(spec["tolerations"], taint), (gpu, taint)
            for key, value in spec["nodeSelector"].items():
                if key in requirements:  # the pool may launch a node with this label value
                    assert value in requirements[key], (gpu, key)
            assert spec["nodeSelector"][POOL_LABEL] == family


def test_aks_spot_pods_tolerate_the_spot_taint_and_on_demand_ones_do_not() -> None:
    taint = {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot",
             "effect": "NoSchedule"}  # fmt: skip
    assert _tolerates(pod_template(_request("aks", "spot"))[1]["tolerations"], taint)
    assert not _tolerates(pod_template(_request("aks", "on-demand"))[1]["tolerations"], taint)


def test_gpu_product_labels_per_cloud() -> None:
    assert pod_template(_request("gke", gpu="A100-SXM-80GB"))[1]["nodeSelector"][
        "cloud.google.com/gke-accelerator"] == "nvidia-a100-80gb"  # fmt: skip
    eks = pod_template(_request("eks", gpu="A100-SXM-40GB"))[1]["nodeSelector"]
    assert eks["karpenter.k8s.aws/instance-gpu-memory"] == "40960"
    with pytest.raises(UnsupportedGpuError, match="not offered on eks"):
        pod_template(_request("eks", gpu="H100-NVL-94GB"))
    with pytest.raises(UnsupportedGpuError, match="no node labels known"):
        pod_template(_request(gpu="MI300X"))


def test_every_mapped_gpu_is_a_canonical_name() -> None:
    assert set(GPU_NODE_LABELS) <= {spec["name"] for spec in gpu_specs()}


def test_a_cpu_run_asks_for_no_gpu_and_tolerates_no_gpu_taint() -> None:
    _, spec = pod_template(_request(gpu="CPU", num_gpus=0))
    assert "nvidia.com/gpu" not in spec["containers"][0]["resources"]["limits"]
    assert spec["tolerations"] == [] and POOL_LABEL not in spec["nodeSelector"]


def test_cost_labels_are_sanitised_and_originals_kept_as_annotations() -> None:
    request = _request(annotations={"model-catalog/model-id": "meta-llama/Llama 3.1:8B"})
    metadata, _ = pod_template(request)
    assert metadata["labels"]["model-catalog/team"] == "ml-platform"
    assert metadata["labels"]["model-catalog/pricing"] == "spot"
    assert metadata["annotations"]["model-catalog/model-id"] == "meta-llama/Llama 3.1:8B"
    assert all(LABEL_VALUE.match(v) and len(v) <= 63 for v in metadata["labels"].values())


@given(st.text(max_size=200))
def test_label_values_always_match_the_grammar(raw: str) -> None:
    value = label_value(raw)
    assert len(value) <= 63 and LABEL_VALUE.match(value), value


def test_long_label_values_stay_distinct() -> None:
    a, b = "org/" + "x" * 80 + "-a", "org/" + "x" * 80 + "-b"
    assert label_value(a) != label_value(b)
    assert label_value("meta-llama/Llama-3.1-8B") == "meta-llama.Llama-3.1-8B"


def test_a_non_positive_deadline_is_refused() -> None:
    with pytest.raises(ValueError, match="max_runtime_s"):
        pod_template(PodRequest("i", ["c"], "CPU", 0, "eks", "spot", max_runtime_s=0))
