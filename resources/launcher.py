"""Benchmark launcher: one resource interface, two real implementations.

`LocalBenchmarkLauncher` runs the harness as a subprocess (embedded mode, CPU, tests);
`K8sBenchmarkLauncher` runs it as a pod on a spot GPU pool (resources/launcher_k8s.py). Both speak
Dagster Pipes to the harness (`python -m modelcat_harness`, job in the Pipes extras under `"job"`)
and share the retry loop here: preempted attempts are retried with backoff and may fall back to
on-demand; a genuine failure raises `BenchmarkFailed` at once. Only the successful attempt's
Pipes results are returned, so a retried run reports exactly one result.

Both take the object store as a nested resource: the harness writes its raw records there with
the store's endpoint and (locally) credentials, and on Kubernetes the Pipes messages travel
through it when pods can reach it. One S3 configuration serves the whole benchmark path.
"""

import math
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import dagster as dg

from assets.benchmarks.preemption import Classification, RetryPolicy, next_step
from resources.object_store import ObjectStoreResource
from resources.settings import Settings

JOB_EXTRAS_KEY = "job"
HARNESS_MODULE = "modelcat_harness"
RESULT_METADATA_KEY = "benchmark_result"
HARNESS_CHECKS = ("harness_requests_succeeded", "harness_metrics_consistent")
PipesResult = dg.MaterializeResult | dg.AssetCheckResult
# Beyond `max_runtime_s`: pod start-up and teardown per attempt, and the run's own work (model
# facts, loading raw records, the write) once.
ATTEMPT_OVERHEAD_S = 60
RUN_OVERHEAD_S = 600


class BenchmarkFailed(Exception):
    """The benchmark itself failed (bad model, OOM, harness error): retrying would not help."""

    def __init__(self, reason: str, attempts: tuple["Attempt", ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts


class BenchmarkPreempted(BenchmarkFailed):
    """Every attempt allowed was preempted or found no capacity."""


@dataclass(frozen=True)
class LaunchRequest:
    job: dict[str, Any]
    gpu: str
    num_gpus: int = 1
    pricing: Literal["spot", "on-demand"] = "spot"
    allow_on_demand_fallback: bool = True
    max_runtime_s: int = 3600
    labels: Mapping[str, str] = field(default_factory=dict)  # cost attribution (team, ...)


@dataclass(frozen=True)
class Attempt:
    pricing: str
    outcome: Literal["succeeded", "preempted", "failed"]
    reason: str
    pod: str | None


@dataclass(frozen=True)
class LaunchOutcome:
    result: dict[str, Any]  # the harness's "benchmark_result"
    results: tuple[PipesResult, ...]  # from the successful attempt only
    attempts: tuple[Attempt, ...]
    pricing: str


@dataclass(frozen=True)
class AttemptReport:
    """What one attempt ended with: the verdict, and the Pipes results when it succeeded."""

    classification: Classification
    results: tuple[PipesResult, ...] = ()
    pod: str | None = None


class BenchmarkLauncherResource(dg.ConfigurableResource, ABC):
    """Runs one benchmark job to completion and returns its single result."""

    object_store: ObjectStoreResource
    max_preemptions: int = 3
    backoff_s: float = 30.0
    max_backoff_s: float = 600.0

    @abstractmethod
    def _run_attempt(
        self, context: dg.AssetExecutionContext, request: LaunchRequest, pricing: str
    ) -> AttemptReport:
        """One try of the job at `pricing`; never raises for a preemption or a failure."""

    def launch(self, context: dg.AssetExecutionContext, request: LaunchRequest) -> LaunchOutcome:
        policy = RetryPolicy(self.max_preemptions, self.backoff_s, self.max_backoff_s)
        pricing: str = request.pricing
        attempts: list[Attempt] = []
        history: list = []
        while True:
            report = self._run_attempt(context, request, pricing)
            verdict = report.classification.verdict
            outcome = "preempted" if verdict in {"preempted", "capacity"} else verdict
            attempts.append(Attempt(pricing, outcome, report.classification.reason, report.pod))
            context.log.info(f"benchmark attempt {len(attempts)} ({pricing}): {outcome}, "
                             f"{report.classification.reason}")  # fmt: skip
            if verdict == "succeeded":
                result = benchmark_result(report.results)
                return LaunchOutcome(result, report.results, tuple(attempts), pricing)
            if verdict == "failed":
                raise BenchmarkFailed(report.classification.reason, tuple(attempts))
            history.append((pricing, verdict))
            step = next_step(history, policy, request.allow_on_demand_fallback, random.random)
            if step.pricing is None:
                raise BenchmarkPreempted(f"gave up: {step.reason}", tuple(attempts))
            context.log.warning(f"{step.reason}; next attempt in {step.delay_s:.1f} s")
            time.sleep(step.delay_s)
            pricing = step.pricing


def benchmark_result(results: tuple[PipesResult, ...]) -> dict[str, Any]:
    """The one `benchmark_result` the harness reported; BenchmarkFailed when the contract is not
    met (a run that cannot be stored must not look like a success)."""
    found = [
        r.metadata[RESULT_METADATA_KEY]
        for r in results
        if isinstance(r, dg.MaterializeResult) and RESULT_METADATA_KEY in (r.metadata or {})
    ]
    if len(found) != 1:
        raise BenchmarkFailed(f"the harness reported {len(found)} benchmark_result, expected 1")
    checks = {r.check_name for r in results if isinstance(r, dg.AssetCheckResult)}
    missing = sorted(set(HARNESS_CHECKS) - checks)
    if missing:
        raise BenchmarkFailed(f"the harness did not report the checks {', '.join(missing)}")
    value = found[0]
    value = value.value if isinstance(value, dg.MetadataValue) else value
    if not isinstance(value, dict):
        raise BenchmarkFailed(f"benchmark_result is not a JSON object: {type(value).__name__}")
    return value


def worst_case_attempts(policy: RetryPolicy) -> tuple[int, float]:
    """The most attempts `launch` can make under `policy`, and the longest the backoffs between
    them can add up to: `next_step` replayed on its worst history (every attempt preempted on
    spot, then on-demand), with the jitter at its top. Derived rather than restated, so the run
    time limit follows the retry rules (even `max_preemptions=0` makes a spot and an on-demand
    attempt)."""
    history: list = [("spot", "preempted")]
    delays = 0.0
    while (step := next_step(history, policy, True, lambda: 1.0)).pricing is not None:
        delays += step.delay_s
        history.append((step.pricing, "preempted"))
    return len(history), delays


def run_time_limit_s(max_runtime_s: int, settings: Settings) -> int:
    """The bound of a whole benchmark run (the `dagster/max_runtime` tag, enforced by run
    monitoring): every attempt the retry loop may make (`worst_case_attempts`), each pending up
    to the pending timeout and running up to `max_runtime_s`, the backoffs between them, and
    `RUN_OVERHEAD_S` for the run's own loading and writing. A run past it is stuck, not slow."""
    policy = RetryPolicy(
        settings.launcher_max_preemptions, settings.launcher_backoff_s,
        settings.launcher_max_backoff_s,
    )  # fmt: skip
    attempts, backoffs = worst_case_attempts(policy)
    per_attempt = max_runtime_s + settings.launcher_pending_timeout_s + ATTEMPT_OVERHEAD_S
    return math.ceil(attempts * per_attempt + backoffs + RUN_OVERHEAD_S)


def build_launcher(
    settings: Settings, object_store: ObjectStoreResource
) -> BenchmarkLauncherResource:
    """The launcher the settings ask for, on the deployment's object store (imported lazily:
    the K8s one pulls in its clients)."""
    common = {
        "object_store": object_store,
        "max_preemptions": settings.launcher_max_preemptions,
        "backoff_s": settings.launcher_backoff_s,
        "max_backoff_s": settings.launcher_max_backoff_s,
    }
    if settings.launcher_kind == "local":
        from resources.launcher_local import LocalBenchmarkLauncher

        return LocalBenchmarkLauncher(**common)
    from resources.launcher_k8s import K8sBenchmarkLauncher

    return K8sBenchmarkLauncher(
        **common,
        image=settings.launcher_image,
        namespace=settings.launcher_namespace,
        cloud=settings.launcher_cloud,
        kubeconfig_file=settings.launcher_kubeconfig,
        kube_context=settings.launcher_kube_context,
        pending_timeout_s=settings.launcher_pending_timeout_s,
        service_account=settings.launcher_service_account,
        credentials_secret=settings.launcher_credentials_secret,
    )
