"""deploy/gpu-pools/: the Karpenter objects against our schema of the documented v1 API
(kubernetes-validate has no CRDs), and the properties the benchmarks rely on."""

import jsonschema
import pytest
import yaml

from resources.settings import REPO_ROOT

POOLS = REPO_ROOT / "deploy" / "gpu-pools"
SCHEMA = yaml.safe_load((POOLS / "schema" / "karpenter-v1.yaml").read_text())
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}


def _objects() -> list[tuple[str, dict]]:
    return [
        (path.name, document)
        for path in sorted(POOLS.glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document is not None
    ]


def _validate(document: dict) -> None:
    schema = {**SCHEMA, "$ref": f"#/$defs/{document['kind']}"}
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    ("name", "document"), _objects(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_matches_the_karpenter_v1_schema(name: str, document: dict) -> None:
    assert document["kind"] in SCHEMA["$defs"], name
    _validate(document)


def test_the_schema_rejects_a_misspelt_field() -> None:
    """Guards the test above: the schema must not accept anything."""
    pool = yaml.safe_load((POOLS / "nodepool-h100.yaml").read_text())
    pool["spec"]["template"]["spec"]["taint"] = pool["spec"]["template"]["spec"].pop("taints")
    with pytest.raises(jsonschema.ValidationError):
        _validate(pool)


def _gpu_pools() -> dict[str, dict]:
    return {
        doc["spec"]["template"]["metadata"]["labels"]["model-catalog/gpu-type"]: doc
        for _, doc in _objects()
        if doc["kind"] == "NodePool" and doc["metadata"]["name"].startswith("gpu-")
    }


def test_a_tainted_spot_first_pool_per_gpu_type() -> None:
    pools = _gpu_pools()
    assert sorted(pools) == ["A100", "H100"]
    for gpu, pool in pools.items():
        spec = pool["spec"]["template"]["spec"]
        assert spec["taints"] == [GPU_TAINT], gpu
        requirements = {r["key"]: r for r in spec["requirements"]}
        assert requirements["karpenter.sh/capacity-type"]["values"] == ["spot", "on-demand"]
        assert requirements["karpenter.k8s.aws/instance-gpu-name"]["values"] == [gpu.lower()]
        # Consolidation must never evict a running benchmark.
        assert pool["spec"]["disruption"]["consolidationPolicy"] == "WhenEmpty"


def test_node_classes_referenced_exist() -> None:
    classes = {d["metadata"]["name"] for _, d in _objects() if d["kind"] == "EC2NodeClass"}
    for name, document in _objects():
        if document["kind"] == "NodePool":
            assert document["spec"]["template"]["spec"]["nodeClassRef"]["name"] in classes, name


def test_each_gpu_type_has_a_dagster_queue() -> None:
    values = yaml.safe_load((REPO_ROOT / "deploy/helm/dagster-values.yaml").read_text())
    queue = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    limited = {rule["value"] for rule in queue["tagConcurrencyLimits"] if rule["key"] == "gpu-type"}
    assert limited == set(_gpu_pools())


def test_readme_documents_gke_and_aks_spot_labels() -> None:
    readme = (POOLS / "README.md").read_text()
    for needle in ("cloud.google.com/gke-spot", "kubernetes.azure.com/scalesetpriority: spot"):
        assert needle in readme
