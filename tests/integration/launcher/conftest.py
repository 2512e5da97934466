"""Runs the launcher inside a real Dagster asset execution (Pipes needs a real step context)."""

import sys
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

from resources.launcher import (
    HARNESS_CHECKS,
    BenchmarkLauncherResource,
    LaunchOutcome,
    LaunchRequest,
)
from resources.object_store import LocalObjectStore
from resources.settings import REPO_ROOT
from tests.support.seaweed import seaweed  # noqa: F401 (the S3 tests' fixture)

FAKE_HARNESS = [sys.executable, str(REPO_ROOT / "tests" / "support" / "pipes_fake_harness.py")]


def job(model_id: str = "tiny-org/tiny-llama", **overrides: object) -> dict:
    """A job spec as the pipeline builds it (contract §2)."""
    return {
        "model_id": model_id, "revision": "0123abc", "task": "text-generation",
        "engine": "transformers",
        "model_source": {"kind": "config", "config": {"model_type": "llama", "hidden_size": 16}},
        "device": "cpu", "dtype": "float32", "concurrency": 2, "input_len": 8, "output_len": 4,
        "num_requests": 4, "warmup_requests": 1, "seed": 0, "gpu": "H100-SXM-80GB",
        "num_gpus": 1, "artifacts_uri": "file:///tmp/modelcat-test-artifacts",
        "s3_endpoint_url": None, **overrides,
    }  # fmt: skip


class Run:
    """One materialization of an asset that launches `request` and yields what it returns."""

    def __init__(self, launcher: BenchmarkLauncherResource, request: LaunchRequest) -> None:
        self.outcome: LaunchOutcome | None = None
        self.error: BaseException | None = None

        @dg.asset(check_specs=[dg.AssetCheckSpec(c, asset="benchmark") for c in HARNESS_CHECKS])
        def benchmark(context: dg.AssetExecutionContext, launcher: BenchmarkLauncherResource):
            try:
                self.outcome = launcher.launch(context, request)
            except Exception as error:
                self.error = error
                raise
            yield from self.outcome.results

        self.result = dg.materialize(
            [benchmark], resources={"launcher": launcher}, raise_on_error=False
        )

    @property
    def materializations(self) -> list:
        return self.result.asset_materializations_for_node("benchmark")


@pytest.fixture
def object_store(tmp_path: Path) -> LocalObjectStore:
    """A folder store: the harness's raw records would land here (the fake one writes none)."""
    return LocalObjectStore(root=str(tmp_path / "objects"))


@pytest.fixture
def run_benchmark() -> Callable[[BenchmarkLauncherResource, LaunchRequest], Run]:
    return Run
