"""deploy/k8s/: every manifest valid alone against the Kubernetes 1.31 schema (strict: an unknown
field fails), the kustomization listing exactly those files, and the API's wiring (probes,
secrets, scraping, autoscaling metric) matching what the code serves."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from resources.settings import REPO_ROOT

K8S = REPO_ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31.0"
VALIDATOR = Path(sys.executable).parent / "kubernetes-validate"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
API_SECRETS = {
    "CATALOG_JWT_SECRET",
    "CATALOG_API_KEYS",
    "CATALOG_DATABASE_URL",
    "CATALOG_REDIS_URL",
}


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    command = [str(VALIDATOR), "--strict", "--kubernetes-version", KUBERNETES_VERSION, "--quiet"]
    return subprocess.run([*command, *map(str, paths)], capture_output=True, text=True, timeout=60)


def _load(name: str) -> dict:
    return yaml.safe_load((K8S / name).read_text())


def test_every_manifest_is_valid_alone() -> None:
    result = _validate(*MANIFESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_rejects_an_unknown_field(tmp_path: Path) -> None:
    """Guards the test above: strict mode must fail a misspelt field, not pass everything."""
    service = _load("api-service.yaml")
    service["spec"]["selectr"] = service["spec"].pop("selector")
    broken = tmp_path / "service.yaml"
    broken.write_text(yaml.safe_dump(service))
    assert _validate(broken).returncode != 0


def test_one_resource_per_file_in_the_namespace() -> None:
    for path in MANIFESTS:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert len(documents) == 1, path.name
        if documents[0]["kind"] != "Namespace":
            assert documents[0]["metadata"]["namespace"] == "model-catalog", path.name


def test_kustomization_lists_exactly_the_manifests() -> None:
    resources = _load("kustomization.yaml")["resources"]
    assert sorted(resources) == [p.name for p in MANIFESTS]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not installed")
def test_kustomize_build_is_valid(tmp_path: Path) -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(built)
    result = _validate(rendered)
    assert result.returncode == 0, result.stdout + result.stderr
    api = next(d for d in yaml.safe_load_all(built) if d["kind"] == "Deployment")
    assert api["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
        "registry.example.com/model-catalog-api:"
    )


def _api_container() -> dict:
    return _load("api-deployment.yaml")["spec"]["template"]["spec"]["containers"][0]


def test_api_probes_hit_the_health_endpoints() -> None:
    container = _api_container()
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live"


def test_api_secrets_come_from_secret_refs_and_settings_from_the_configmap() -> None:
    container = _api_container()
    from_secrets = {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert from_secrets >= API_SECRETS
    config = _load("api-configmap.yaml")["data"]
    assert not API_SECRETS & config.keys(), "a secret in the ConfigMap"
    assert config["CATALOG_API_HOST"] == "0.0.0.0"  # the default, 127.0.0.1, is unreachable
    assert container["envFrom"] == [{"configMapRef": {"name": "model-catalog-api"}}]
    assert container["ports"][0]["containerPort"] == int(config["CATALOG_API_PORT"])


def test_api_runs_as_non_root_on_a_read_only_root() -> None:
    pod = _load("api-deployment.yaml")["spec"]["template"]["spec"]
    container = _api_container()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert {"mountPath": "/tmp", "name": "tmp"} in container["volumeMounts"]
    assert _load("api-configmap.yaml")["data"]["CATALOG_HOME"].startswith("/tmp/")


def test_api_is_scraped_and_autoscaled_on_its_request_rate() -> None:
    template = _load("api-deployment.yaml")["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    hpa = _load("api-hpa.yaml")
    pods_metrics = [
        m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"
    ]
    assert pods_metrics == ["catalog_http_requests_per_second"]
    adapter = yaml.safe_load((REPO_ROOT / "deploy/helm/prometheus-adapter-values.yaml").read_text())
    rule = adapter["rules"]["custom"][0]
    assert rule["name"]["as"] == "catalog_http_requests_per_second"
    # The series the rule reads must be one the API exports.
    from serving import metrics

    assert rule["seriesQuery"].startswith(metrics.REQUEST_DURATION.describe()[0].name + "_count{")


def test_selectors_match_pod_labels() -> None:
    labels = _load("api-deployment.yaml")["spec"]["template"]["metadata"]["labels"]
    for name in ("api-service.yaml", "api-pdb.yaml", "api-networkpolicy.yaml"):
        spec = _load(name)["spec"]
        selector = spec.get("selector") or spec["podSelector"]
        selector = selector.get("matchLabels", selector)
        assert selector.items() <= labels.items(), name
