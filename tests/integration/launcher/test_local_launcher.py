"""The local launcher runs a real subprocess speaking Pipes (the fake harness of tests/support)."""

import sys
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


def _with_child(pid_file: Path) -> list[str]:
    """The fake harness behind a wrapper that first starts a child in the harness's group and
    writes its pid: done before the harness's own (slow) imports, so the pid file exists long
    before any time limit can stop the group."""
    script = (
        "import os, subprocess, sys; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
        f"open({str(pid_file)!r}, 'w').write(str(child.pid)); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    return [sys.executable, "-c", script, *FAKE_HARNESS]


def _child(pid_file: Path) -> int:
    assert pid_file.exists(), "the wrapper never started the harness's child"
    return int(pid_file.read_text())


def test_a_harness_past_max_runtime_is_killed_with_its_children_and_fails(
    run_benchmark, object_store, tmp_path
) -> None:
    # The harness blocks far past the limit: only the limit can end it.
    pid_file = tmp_path / "child.pid"
    run = run_benchmark(
        LocalBenchmarkLauncher(command=_with_child(pid_file), object_store=object_store),
        _request(max_runtime_s=3, fake_sleep_s=600),
    )
    assert not run.result.success
    assert isinstance(run.error, BenchmarkFailed)
    assert "timed out" in run.error.reason and "max_runtime_s=3 s" in run.error.reason
    assert [a.outcome for a in run.error.attempts] == ["failed"]  # never retried
    assert not _running(_child(pid_file)), "the harness's child outlived the time limit"


def test_children_left_by_a_harness_that_exits_by_itself_are_killed(
    run_benchmark, object_store, tmp_path
) -> None:
    pid_file = tmp_path / "child.pid"
    run = run_benchmark(
        LocalBenchmarkLauncher(command=_with_child(pid_file), object_store=object_store),
        _request(),
    )
    assert run.result.success
    assert not _running(_child(pid_file)), "the harness's child outlived the harness"
