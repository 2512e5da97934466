"""`benchmark_run_job`'s run tags against Dagster's own run-retry decision and run monitoring.

The deployment enables run retries (deploy/helm/dagster-values.yaml, maxRetries 2): a run that
never started is worth retrying, a failed benchmark step is not (it would rent the GPU again).
"""

from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.events import RunFailureReason
from dagster._core.execution.retries import auto_reexecution_should_retry_run
from dagster._core.utils import make_new_run_id

from orchestration.jobs import MAX_RUNTIME_TAG, benchmark_run_job, benchmark_run_tags
from resources.launcher import run_time_limit_s
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


def test_a_failed_benchmark_step_is_not_rerun_but_a_run_that_never_started_is(instance):
    run = _failed_run(instance, dict(benchmark_run_job.tags))
    assert not auto_reexecution_should_retry_run(instance, run, RunFailureReason.STEP_FAILURE)
    assert auto_reexecution_should_retry_run(instance, run, RunFailureReason.START_TIMEOUT)
    # What the tag changes: the instance alone would rerun the failed step.
    untagged = _failed_run(instance, {})
    assert auto_reexecution_should_retry_run(instance, untagged, RunFailureReason.STEP_FAILURE)


def test_the_run_time_limit_covers_every_attempt_the_launcher_may_make():
    settings = Settings(database_url=None, redis_url=None, launcher_max_preemptions=3,
                        launcher_pending_timeout_s=900, launcher_max_backoff_s=600)  # fmt: skip
    # 3 spot + 3 on-demand attempts of (1 h + 15 min pending + 1 min), 5 backoffs of at most
    # 600 s x 1.5 (jitter), and 10 min for the run itself.
    assert run_time_limit_s(3600, settings) == 6 * 4560 + 5 * 900 + 600
    assert run_time_limit_s(60, settings) < run_time_limit_s(3600, settings)
    assert int(benchmark_run_tags(60)[MAX_RUNTIME_TAG]) < int(
        benchmark_run_job.tags[MAX_RUNTIME_TAG]
    )
