"""deploy/helm/dagster-values.yaml: the key paths the official Dagster chart documents, set the
way our deployment needs them. A misspelt key would be silently ignored by Helm, so each path
we rely on is spelt out here."""

from typing import Any

import pytest
import yaml

from resources.settings import REPO_ROOT

VALUES = yaml.safe_load((REPO_ROOT / "deploy/helm/dagster-values.yaml").read_text())
RUN_LAUNCHER = "runLauncher.config.k8sRunLauncher"
QUEUE = "dagsterDaemon.runCoordinator.config.queuedRunCoordinator"
USER_CODE = "dagster-user-deployments"

EXPECTED: dict[str, Any] = {
    "runLauncher.type": "K8sRunLauncher",
    "generatePostgresqlPasswordSecret": False,
    "global.postgresqlSecretName": "dagster-postgresql",
    "postgresql.enabled": False,
    # SQLAlchemy 2.1 + psycopg3 breaks dagster-postgres storage (DESIGN §9).
    "postgresql.postgresqlScheme": "postgresql+psycopg2",
    "dagsterDaemon.enabled": True,
    "dagsterDaemon.runCoordinator.enabled": True,
    "dagsterDaemon.runCoordinator.type": "QueuedRunCoordinator",
    "dagsterDaemon.runMonitoring.enabled": True,
    "dagsterDaemon.runRetries.enabled": True,
    f"{RUN_LAUNCHER}.runK8sConfig.podSpecConfig.nodeSelector": {
        "karpenter.sh/capacity-type": "on-demand"
    },
    f"{USER_CODE}.enabled": True,
    f"{USER_CODE}.enableSubchart": True,
    "telemetry.enabled": False,
}
PRESENT = [
    "postgresql.postgresqlHost",
    "postgresql.postgresqlUsername",
    "postgresql.postgresqlDatabase",
    "postgresql.service.port",
    f"{RUN_LAUNCHER}.envSecrets",
    f"{QUEUE}.maxConcurrentRuns",
    f"{QUEUE}.tagConcurrencyLimits",
    "dagsterDaemon.runMonitoring.startTimeoutSeconds",
    "dagsterDaemon.runMonitoring.pollIntervalSeconds",
    "dagsterDaemon.runRetries.maxRetries",
    f"{USER_CODE}.deployments",
]


def _get(path: str) -> Any:
    node: Any = VALUES
    for key in path.split("."):
        assert isinstance(node, dict) and key in node, f"missing {path} (at {key})"
        node = node[key]
    return node


@pytest.mark.parametrize(("path", "value"), EXPECTED.items())
def test_expected_value(path: str, value: Any) -> None:
    assert _get(path) == value


@pytest.mark.parametrize("path", PRESENT)
def test_key_present(path: str) -> None:
    assert _get(path) is not None


def test_pending_runs_give_up_well_before_a_day() -> None:
    # PipesK8sClient waits up to 24 h for a Pending pod (DESIGN §9).
    assert 0 < _get("dagsterDaemon.runMonitoring.startTimeoutSeconds") <= 3600
    assert _get("dagsterDaemon.runRetries.maxRetries") >= 1


def test_a_queue_per_gpu_type() -> None:
    limits = _get(f"{QUEUE}.tagConcurrencyLimits")
    assert {(rule["key"], rule["value"]) for rule in limits} == {
        ("gpu-type", "H100"),
        ("gpu-type", "A100"),
    }
    assert all(isinstance(rule["limit"], int) and rule["limit"] > 0 for rule in limits)


def test_user_code_deployment_serves_our_definitions() -> None:
    (deployment,) = _get(f"{USER_CODE}.deployments")
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", "orchestration.definitions"]
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}
    assert deployment["image"]["tag"] not in ("", "latest")
    assert deployment["podSecurityContext"]["runAsNonRoot"] is True
    assert deployment["nodeSelector"] == {"karpenter.sh/capacity-type": "on-demand"}


def test_no_password_in_the_values() -> None:
    assert "postgresqlPassword" not in _get("postgresql")
