"""The local launcher runs a real subprocess speaking Pipes (the fake harness of tests/support)."""

from pathlib import Path

import dagster as dg

from resources.launcher import BenchmarkFailed, LaunchRequest
from resources.launcher_local import LocalBenchmarkLauncher
from tests.integration.launcher.conftest import FAKE_HARNESS, job
from tests.support.pipes_fake_harness import result_for


def _request(max_runtime_s: int = 3600, **job_overrides: object) -> LaunchRequest:
    return LaunchRequest(job=job(gpu="CPU", num_gpus=0, **job_overrides), gpu="CPU", num_gpus=0,
                         max_runtime_s=max_runtime_s)  # fmt: skip


def _running(pid: int) -> bool:
    """Whether `pid` still runs (a zombie waiting for a parent that never reaps it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_local_run_returns_the_one_result_and_its_checks(run_benchmark, object_store) -> None:
    run = run_benchmark(
        LocalBenchmarkLauncher(command=FAKE_HARNESS, object_store=object_store), _request()
    )
    assert run.result.success
    outcome = run.outcome
    expected = result_for(_request().job)
    assert {k: v for k, v in outcome.result.items() if k != "measured_at"} == {
        k: v for k, v in expected.items() if k != "measured_at"
    }
    assert [a.outcome for a in outcome.attempts] == ["succeeded"]
    assert len(run.materializations) == 1
    assert run.materializations[0].metadata["output_throughput"] == dg.FloatMetadataValue(100.0)
    checks = run.result.get_asset_check_evaluations()
    assert sorted(c.check_name for c in checks) == [
        "harness_metrics_consistent",
        "harness_requests_succeeded",
    ]


def test_a_harness_failure_fails_with_the_harness_reason(run_benchmark, object_store) -> None:
    run = run_benchmark(
        LocalBenchmarkLauncher(command=FAKE_HARNESS, object_store=object_store),
        _request(model_id="missing/model"),
    )
    assert not run.result.success
    assert isinstance(run.error, BenchmarkFailed)
    assert "LookupError: model 'missing/model' not found" in run.error.reason
    assert [a.outcome for a in run.error.attempts] == ["failed"]
    assert run.materializations == []


def test_a_command_that_cannot_start_is_a_failure_not_a_crash(
    run_benchmark, object_store, tmp_path
) -> None:
    launcher = LocalBenchmarkLauncher(
        command=[str(tmp_path / "no-such-harness")], object_store=object_store
    )
    run = run_benchmark(launcher, _request())
    assert isinstance(run.error, BenchmarkFailed)
    assert "cannot start" in run.error.reason


def test_a_harness_past_max_runtime_is_killed_with_its_children_and_fails(
    run_benchmark, object_store, tmp_path
) -> None:
    # Without a limit the fake harness would finish (and succeed) after 30 s.
    pid_file = tmp_path / "child.pid"
    run = run_benchmark(
        LocalBenchmarkLauncher(command=FAKE_HARNESS, object_store=object_store),
        _request(max_runtime_s=1, fake_sleep_s=30, fake_child_pid_file=str(pid_file)),
    )
    assert not run.result.success
    assert isinstance(run.error, BenchmarkFailed)
    assert "timed out" in run.error.reason and "max_runtime_s=1 s" in run.error.reason
    assert [a.outcome for a in run.error.attempts] == ["failed"]  # never retried
    child = int(pid_file.read_text())
    assert not _running(child), "the harness's child outlived the time limit"
