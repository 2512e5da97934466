"""The harness under a real `dagster.PipesSubprocessClient`, launched from a tiny test asset.

Checks what the launcher and the results asset rely on (contract §3): one materialization with
`benchmark_result`, flat UI metadata, the two named asset checks, and a bad job failing the
step with its reason.
"""

import os
import sys
from pathlib import Path

import dagster as dg
import pytest

HARNESS = Path(__file__).resolve().parents[3] / "harness"
TINY_LLAMA = {
    "model_type": "llama", "vocab_size": 128, "hidden_size": 32, "intermediate_size": 64,
    "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2,
    "max_position_embeddings": 64,
}  # fmt: skip
CHECKS = ["harness_requests_succeeded", "harness_metrics_consistent"]


class JobConfig(dg.Config):
    job: dict


@dg.asset(check_specs=[dg.AssetCheckSpec(name, asset="tiny_benchmark") for name in CHECKS])
def tiny_benchmark(
    context: dg.AssetExecutionContext, config: JobConfig, pipes: dg.PipesSubprocessClient
):
    """Runs the harness as the local launcher does: `python -m modelcat_harness` under Pipes."""
    return pipes.run(
        command=[sys.executable, "-m", "modelcat_harness"],
        context=context,
        extras={"job": config.job},
        env={"PYTHONPATH": os.pathsep.join([str(HARNESS), os.environ.get("PYTHONPATH", "")])},
    ).get_results()


def _materialize(job: dict, instance: dg.DagsterInstance | None = None):
    return dg.materialize(
        [tiny_benchmark],
        instance=instance,
        resources={"pipes": dg.PipesSubprocessClient()},
        run_config=dg.RunConfig({"tiny_benchmark": JobConfig(job=job)}),
        raise_on_error=False,
    )


def _job(tmp_path: Path, **overrides) -> dict:
    return {
        "model_id": "tiny-random/llama",
        "engine": "transformers",
        "device": "cpu",
        "model_source": {"kind": "config", "config": TINY_LLAMA},
        "concurrency": 2, "input_len": 8, "output_len": 4, "num_requests": 2,
        "warmup_requests": 1, "artifacts_uri": tmp_path.as_uri(),
    } | overrides  # fmt: skip


def test_the_harness_reports_one_result_and_both_checks(tmp_path: Path) -> None:
    result = _materialize(_job(tmp_path))
    assert result.success
    [materialization] = result.get_asset_materialization_events()
    metadata = materialization.materialization.metadata
    benchmark = metadata["benchmark_result"].value
    assert benchmark["model_id"] == "tiny-random/llama" and benchmark["engine"] == "transformers"
    assert benchmark["extra"]["requests"]["output_tokens"] == 2 * 4
    assert benchmark["config"]["model_source"]["config"] == TINY_LLAMA
    assert metadata["output_throughput"].value == benchmark["output_throughput"] > 0
    assert metadata["energy_per_output_j"].value is None  # a CPU run: no NVML figure
    assert Path(benchmark["extra"]["raw_records_uri"].removeprefix("file://")).is_file()
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert sorted(evaluations) == sorted(CHECKS)
    assert all(e.passed for e in evaluations.values())
    assert (
        evaluations["harness_requests_succeeded"].metadata["details"].value["requests_succeeded"]
        == 2
    )


@pytest.mark.parametrize(
    ("overrides", "reason", "code"),
    [
        ({"engine": "tensorrt"}, "engine must be one of", 2),
        ({"model_source": {"kind": "pretrained", "path": "/no/such/model"}}, "does not exist", 2),
        ({"model_source": {"kind": "config", "config": {"model_type": "nope"}}}, "cannot load", 1),
    ],
)
def test_a_bad_job_fails_the_step_with_its_reason(tmp_path: Path, overrides, reason, code) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = _materialize(_job(tmp_path, **overrides), instance)
    assert not result.success
    assert result.get_asset_materialization_events() == []
    failure = next(e for e in result.all_events if e.is_step_failure)
    # The subprocess client fails the step on the exit status (2: the job, 1: the run) ...
    assert f"failed with code {code}" in str(failure.step_failure_data.error.cause)
    # ... and the reason arrives through Pipes: the exception of the "closed" message ...
    logs = instance.all_logs(result.run_id)
    closed = [
        entry.dagster_event.engine_event_data.error.message
        for entry in logs
        if entry.dagster_event
        and entry.dagster_event.is_engine_event
        and "pipes closed with exception" in (entry.dagster_event.message or "")
    ]
    assert len(closed) == 1 and reason in closed[0], closed
    # ... and the run log (pipes.log.error), where a person looks first.
    assert any(reason in entry.user_message for entry in logs if not entry.dagster_event)
