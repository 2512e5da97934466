"""`benchmark_run_job`'s run tags against Dagster's own run-retry decision and run monitoring.

The deployment enables run retries (deploy/helm/dagster-values.yaml, maxRetries 2) for the
other jobs; a benchmark run is never rerun by Dagster (it would rent the GPU again): the plan
re-plans failed work and the launcher retries preemptions.
"""

from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.events import RunFailureReason
from dagster._core.execution.retries import auto_reexecution_should_retry_run
from dagster._core.utils import make_new_run_id

from assets.benchmarks.preemption import Classification, RetryPolicy
from orchestration.jobs import (
    MAX_RUNTIME_TAG,
    RETRY_ON_STEP_FAILURE_TAG,
    benchmark_run_job,
    benchmark_run_tags,
)
from resources.launcher import (
    ATTEMPT_OVERHEAD_S,
    RUN_OVERHEAD_S,
    AttemptReport,
    BenchmarkLauncherResource,
    BenchmarkPreempted,
    LaunchRequest,
    run_time_limit_s,
    worst_case_attempts,
)
from resources.object_store import LocalObjectStore
from resources.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    overrides = {"run_retries": {"enabled": True, "max_retries": 2}}
    with dg.instance_for_test(overrides=overrides) as instance:
        yield instance


def _failed_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> dg.DagsterRun:
    run = dg.DagsterRun(job_name=benchmark_run_job.name, run_id=make_new_run_id(),
                        status=dg.DagsterRunStatus.FAILURE, tags=tags)  # fmt: skip
    return instance.add_run(run)


@pytest.mark.parametrize(
    "reason",
    [
        RunFailureReason.STEP_FAILURE,
        # How run monitoring fails a run past `dagster/max_runtime`: no step failure, no reason.
        None,
        RunFailureReason.UNKNOWN,
        RunFailureReason.START_TIMEOUT,
        RunFailureReason.RUN_WORKER_RESTART,
    ],
)
def test_dagster_never_reruns_a_failed_benchmark_run(instance, reason):
    run = _failed_run(instance, dict(benchmark_run_job.tags))
    assert not auto_reexecution_should_retry_run(instance, run, reason)
    # What the tags change: the instance alone would rerun it.
    untagged = _failed_run(instance, {})
    assert auto_reexecution_should_retry_run(instance, untagged, reason)


def test_a_run_past_its_time_limit_is_not_rerun_even_with_step_retries_allowed(instance):
    # The step-failure tag alone does not cover a run monitoring stopped; the retry limit does.
    tags = dict(benchmark_run_tags(60)) | {RETRY_ON_STEP_FAILURE_TAG: "true"}
    assert not auto_reexecution_should_retry_run(instance, _failed_run(instance, tags), None)


def _settings(max_preemptions: int) -> Settings:
    return Settings(database_url=None, redis_url=None, launcher_max_preemptions=max_preemptions,
                    launcher_pending_timeout_s=900, launcher_backoff_s=30,
                    launcher_max_backoff_s=600)  # fmt: skip


def test_the_run_time_limit_covers_every_attempt_the_launcher_may_make():
    # 3 spot + 3 on-demand attempts of (1 h + 15 min pending + 1 min), backoffs of 30 and 60 s
    # x 1.5 (jitter) on each pricing (none before the fallback), and 10 min for the run itself.
    assert run_time_limit_s(3600, _settings(3)) == 6 * 4560 + 2 * (45 + 90) + 600
    assert run_time_limit_s(60, _settings(3)) < run_time_limit_s(3600, _settings(3))
    assert int(benchmark_run_tags(60)[MAX_RUNTIME_TAG]) < int(
        benchmark_run_job.tags[MAX_RUNTIME_TAG]
    )


class _AlwaysPreempted(BenchmarkLauncherResource):
    """Every attempt is preempted: the longest the real retry loop can go on."""

    def _run_attempt(self, context, request, pricing) -> AttemptReport:
        return AttemptReport(Classification("preempted", f"{pricing} node reclaimed"))


@pytest.mark.parametrize("max_preemptions", [0, 1, 3])
def test_the_run_time_limit_counts_the_attempts_the_launcher_really_makes(
    tmp_path, max_preemptions
):
    launcher = _AlwaysPreempted(object_store=LocalObjectStore(root=str(tmp_path)),
                                max_preemptions=max_preemptions, backoff_s=0.0)  # fmt: skip
    with pytest.raises(BenchmarkPreempted) as gave_up:
        launcher.launch(dg.build_asset_context(), LaunchRequest(job={}, gpu="H100-SXM-80GB"))
    made = len(gave_up.value.attempts)
    # Even with no preemptions allowed, spot is tried once and on-demand once.
    assert made == max(2, 2 * max_preemptions)
    policy = RetryPolicy(max_preemptions, backoff_s=0.0)
    assert worst_case_attempts(policy)[0] == made
    per_attempt = 3600 + 900 + ATTEMPT_OVERHEAD_S
    settings = _settings(max_preemptions)
    assert run_time_limit_s(3600, settings) >= made * per_attempt + RUN_OVERHEAD_S
