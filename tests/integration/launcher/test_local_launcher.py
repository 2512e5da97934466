"""The local launcher runs a real subprocess speaking Pipes (the fake harness of tests/support)."""

import dagster as dg

from resources.launcher import BenchmarkFailed, LaunchRequest
from resources.launcher_local import LocalBenchmarkLauncher
from tests.integration.launcher.conftest import FAKE_HARNESS, job
from tests.support.pipes_fake_harness import result_for


def _request(**job_overrides: object) -> LaunchRequest:
    return LaunchRequest(job=job(gpu="CPU", num_gpus=0, **job_overrides), gpu="CPU", num_gpus=0)


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
