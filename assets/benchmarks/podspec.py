"""The benchmark pod, as a pure function of the request: GPU limits, the spot or on-demand pool of
each cloud, the GPU product, a hard deadline and cost-attribution labels.

`pod_template` returns the `metadata` and `spec` that `PipesK8sClient.run` takes as
`base_pod_meta` / `base_pod_spec` (it adds the Pipes env vars and the pod name); `pod_manifest`
wraps them into a whole `v1/Pod` for offline schema validation.
"""

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Cloud = Literal["eks", "gke", "aks"]
Pricing = Literal["spot", "on-demand"]
CLOUDS: tuple[Cloud, ...] = ("eks", "gke", "aks")
PRICINGS: tuple[Pricing, ...] = ("spot", "on-demand")
CONTAINER_NAME = "harness"
CPU = "CPU"

# Our own node label, set on every GPU pool of every cloud (deploy/gpu-pools/README.md).
POOL_LABEL = "model-catalog/gpu-type"
LABEL_PREFIX = "model-catalog/"
# Tolerates both our pools' `nvidia.com/gpu=true` and GKE's automatic `nvidia.com/gpu=present`.
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
AKS_SPOT_KEY = "kubernetes.azure.com/scalesetpriority"
GKE_SPOT_KEY = "cloud.google.com/gke-spot"
EKS_CAPACITY_KEY = "karpenter.sh/capacity-type"


@dataclass(frozen=True)
class GpuNodeLabels:
    """How one canonical GPU (assets/costs/gpu_specs.yaml) is selected on each cloud.

    Only labels the autoscalers know before a node exists (Karpenter's well-known labels, GKE's
    accelerator label, AKS VM sizes): a label set later by NVIDIA's feature discovery would
    never trigger a scale-up from zero.
    """

    pool: str  # our POOL_LABEL value: the GPU family, as in deploy/gpu-pools
    eks_gpu_name: str | None = None  # karpenter.k8s.aws/instance-gpu-name
    eks_gpu_memory_mib: int | None = None  # only where one name covers two memory sizes
    gke_accelerator: str | None = None  # cloud.google.com/gke-accelerator
    aks_vm_sizes: tuple[str, ...] = ()  # node.kubernetes.io/instance-type


GPU_NODE_LABELS: dict[str, GpuNodeLabels] = {
    "T4": GpuNodeLabels("T4", "t4", None, "nvidia-tesla-t4", ("Standard_NC4as_T4_v3", "Standard_NC8as_T4_v3", "Standard_NC16as_T4_v3", "Standard_NC64as_T4_v3")),  # noqa: E501
    "V100-SXM-16GB": GpuNodeLabels("V100", "v100", 16384, "nvidia-tesla-v100"),
    "V100-SXM-32GB": GpuNodeLabels("V100", "v100", 32768),
    "A10G": GpuNodeLabels("A10G", "a10g"),
    "L4": GpuNodeLabels("L4", "l4", None, "nvidia-l4"),
    "L40S": GpuNodeLabels("L40S", "l40s"),
    "A100-SXM-40GB": GpuNodeLabels("A100", "a100", 40960, "nvidia-tesla-a100", ("Standard_ND96asr_v4",)),  # noqa: E501
    "A100-SXM-80GB": GpuNodeLabels("A100", "a100", 81920, "nvidia-a100-80gb", ("Standard_ND96amsr_A100_v4",)),  # noqa: E501
    "A100-PCIE-80GB": GpuNodeLabels("A100", None, None, None, ("Standard_NC24ads_A100_v4", "Standard_NC48ads_A100_v4", "Standard_NC96ads_A100_v4")),  # noqa: E501
    "H100-SXM-80GB": GpuNodeLabels("H100", "h100", None, "nvidia-h100-80gb", ("Standard_ND96isr_H100_v5",)),  # noqa: E501
    "H100-NVL-94GB": GpuNodeLabels("H100", None, None, None, ("Standard_NC40ads_H100_v5", "Standard_NC80adis_H100_v5")),  # noqa: E501
    "H200-SXM-141GB": GpuNodeLabels("H200", "h200", None, "nvidia-h200-141gb", ("Standard_ND96isr_H200_v5",)),  # noqa: E501
    "B200-180GB": GpuNodeLabels("B200", "b200", None, "nvidia-b200"),
}  # fmt: skip


class UnsupportedGpuError(ValueError):
    """The GPU has no known node labels on that cloud: the pod could never be scheduled."""


@dataclass(frozen=True)
class PodRequest:
    """Everything the pod spec depends on."""

    image: str
    command: Sequence[str]
    gpu: str  # canonical name, or "CPU"
    num_gpus: int
    cloud: Cloud
    pricing: Pricing
    max_runtime_s: int
    labels: Mapping[str, str] = field(default_factory=dict)  # cost attribution: team, run id...
    annotations: Mapping[str, str] = field(default_factory=dict)  # unsanitised originals
    cpu_per_gpu: int = 8
    memory_gib_per_gpu: int = 64
    service_account: str | None = None
    # A Secret whose keys become the container's env vars (S3 keys, HF_TOKEN) on clusters
    # without IRSA / Workload Identity: the spec names it, never its values.
    credentials_secret: str | None = None
    image_pull_policy: str = "IfNotPresent"


_LABEL_VALUE_INVALID = re.compile(r"[^A-Za-z0-9_.-]+")


def label_value(raw: str) -> str:
    """`raw` in the label-value grammar (<= 63 of `[A-Za-z0-9_.-]`, alphanumeric at both ends).

    `/` becomes `.` (model ids stay readable); other bad runs become `-`. A value cut to length
    keeps a hash of the whole, so two long model ids never share a label.
    """
    value = _LABEL_VALUE_INVALID.sub("-", raw.replace("/", "."))
    if len(value) > 63:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
        value = f"{value[:54].rstrip('-_.')}-{digest}"
    return value.strip("-_.")


def _capacity(cloud: Cloud, pricing: Pricing) -> tuple[dict, list[dict], list[dict]]:
    """(nodeSelector, node-affinity expressions, tolerations) choosing spot or on-demand nodes."""
    spot = pricing == "spot"
    if cloud == "eks":
        return {EKS_CAPACITY_KEY: pricing}, [], []
    if cloud == "gke":
        if spot:
            # GKE does not taint spot nodes itself; pools created with the optional spot taint
            # (GKE's recommendation for mixed clusters) still take this pod.
            toleration = {"key": GKE_SPOT_KEY, "operator": "Equal", "value": "true",
                          "effect": "NoSchedule"}  # fmt: skip
            return {GKE_SPOT_KEY: "true"}, [], [toleration]
        # On-demand nodes carry no label at all: "not a spot node" is the only way to say it.
        return {}, [{"key": GKE_SPOT_KEY, "operator": "NotIn", "values": ["true"]}], []
    if spot:
        # AKS taints its spot pools `scalesetpriority=spot:NoSchedule` by itself.
        toleration = {"key": AKS_SPOT_KEY, "operator": "Equal", "value": "spot",
                      "effect": "NoSchedule"}  # fmt: skip
        return {AKS_SPOT_KEY: "spot"}, [], [toleration]
    return {}, [{"key": AKS_SPOT_KEY, "operator": "NotIn", "values": ["spot"]}], []


def _gpu_selection(gpu: str, cloud: Cloud) -> tuple[dict, list[dict]]:
    """(nodeSelector, node-affinity expressions) for the GPU product on the cloud."""
    known = GPU_NODE_LABELS.get(gpu)
    if known is None:
        raise UnsupportedGpuError(f"no node labels known for GPU {gpu!r}; known: "
                                  f"{', '.join(sorted(GPU_NODE_LABELS))}")  # fmt: skip
    selector = {POOL_LABEL: known.pool}
    if cloud == "eks" and known.eks_gpu_name:
        selector["karpenter.k8s.aws/instance-gpu-name"] = known.eks_gpu_name
        if known.eks_gpu_memory_mib:
            selector["karpenter.k8s.aws/instance-gpu-memory"] = str(known.eks_gpu_memory_mib)
        return selector, []
    if cloud == "gke" and known.gke_accelerator:
        return {**selector, "cloud.google.com/gke-accelerator": known.gke_accelerator}, []
    if cloud == "aks" and known.aks_vm_sizes:
        sizes = {"key": "node.kubernetes.io/instance-type", "operator": "In",
                 "values": list(known.aks_vm_sizes)}  # fmt: skip
        return selector, [sizes]
    raise UnsupportedGpuError(f"GPU {gpu!r} is not offered on {cloud} (no node labels known)")


def _resources(request: PodRequest) -> dict[str, Any]:
    gpus = max(request.num_gpus, 0)
    if request.gpu == CPU or gpus == 0:
        requests = {"cpu": "2", "memory": "8Gi"}
        return {"requests": requests, "limits": {"memory": "8Gi"}}
    memory, count = f"{request.memory_gib_per_gpu * gpus}Gi", str(gpus)  # quantities: strings
    requests = {"cpu": str(request.cpu_per_gpu * gpus), "memory": memory, "nvidia.com/gpu": count}
    # A memory limit equal to the request: an over-use is OOMKilled (a genuine failure we can
    # name) instead of starving the node's other pods.
    return {"requests": requests, "limits": {"memory": memory, "nvidia.com/gpu": count}}


def pod_template(request: PodRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metadata, spec) of the benchmark pod."""
    if request.max_runtime_s <= 0:
        raise ValueError(f"max_runtime_s must be positive, got {request.max_runtime_s}")
    selector, affinity, tolerations = _capacity(request.cloud, request.pricing)
    on_gpu = request.gpu != CPU and request.num_gpus > 0
    if on_gpu:
        gpu_selector, gpu_affinity = _gpu_selection(request.gpu, request.cloud)
        selector, affinity = {**selector, **gpu_selector}, [*affinity, *gpu_affinity]
        tolerations = [GPU_TOLERATION, *tolerations]
    labels = {
        "app.kubernetes.io/name": "modelcat-harness",
        "app.kubernetes.io/part-of": "model-catalog",
        f"{LABEL_PREFIX}gpu": label_value(request.gpu),
        f"{LABEL_PREFIX}num-gpus": str(request.num_gpus),
        f"{LABEL_PREFIX}pricing": request.pricing,
        **{f"{LABEL_PREFIX}{label_value(k)}": label_value(v) for k, v in request.labels.items()},
    }
    metadata = {"labels": labels, "annotations": dict(request.annotations)}
    container = {
        "name": CONTAINER_NAME,
        "image": request.image,
        "imagePullPolicy": request.image_pull_policy,
        "command": list(request.command),
        "resources": _resources(request),
        # A crash's last log lines become the container's termination message: the failure
        # reason survives even when the Pipes messages could not say it.
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    if request.credentials_secret:
        # Not `optional`: a missing Secret stops the container at CreateContainerConfigError,
        # a failure with its reason, instead of a benchmark that fails later without S3 access.
        container["envFrom"] = [{"secretRef": {"name": request.credentials_secret}}]
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        # The hard stop for a run that hangs, enforced by the kubelet even if Dagster is gone.
        "activeDeadlineSeconds": request.max_runtime_s,
        "automountServiceAccountToken": False,
        "containers": [container],
        "tolerations": tolerations,
    }
    if selector:
        spec["nodeSelector"] = selector
    if affinity:
        term = {"matchExpressions": affinity}
        spec["affinity"] = {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [term]}}
        }  # fmt: skip
    if request.service_account:
        spec["serviceAccountName"] = request.service_account
    return metadata, spec


def pod_manifest(request: PodRequest, name: str, namespace: str) -> dict[str, Any]:
    """The whole `v1/Pod` (what PipesK8sClient creates, less its Pipes env vars)."""
    metadata, spec = pod_template(request)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, **metadata},
        "spec": spec,
    }
