"""The transformers engine, run for real on CPU with tiny random-initialised models.

Invariants only (counts, TPOT vs ITL, ordering, throughput = tokens / window, readable raw
records); never a timing upper bound.
"""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from modelcat_harness.artifacts import read_records
from modelcat_harness.job import HarnessError, parse_job
from modelcat_harness.runner import run_benchmark

HARNESS = Path(__file__).resolve().parents[3] / "harness"
TINY = {
    "llama": {
        "model_type": "llama", "vocab_size": 256, "hidden_size": 32, "intermediate_size": 64,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "max_position_embeddings": 128,
    },
    "gpt2": {"model_type": "gpt2", "vocab_size": 256, "n_embd": 32, "n_layer": 2, "n_head": 2,
             "n_positions": 128},
}  # fmt: skip


def _job(tmp_path: Path, arch: str, **overrides) -> dict:
    return {
        "model_id": f"tiny-random/{arch}",
        "engine": "transformers",
        "device": "cpu",
        "model_source": {"kind": "config", "config": TINY[arch]},
        "concurrency": 2, "input_len": 12, "output_len": 6, "num_requests": 4,
        "warmup_requests": 2, "seed": 7, "artifacts_uri": (tmp_path / "artifacts").as_uri(),
    } | overrides  # fmt: skip


def _cli(tmp_path: Path, job: dict, *flags: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    return subprocess.run(
        [sys.executable, "-m", "modelcat_harness", "--job", str(path), *flags],
        capture_output=True, text=True, timeout=300, env=os.environ | {"PYTHONPATH": str(HARNESS)},
    )  # fmt: skip


@pytest.fixture(scope="module")
def cli_output(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One real run through the command line (a fresh process, as in the pod)."""
    tmp_path = tmp_path_factory.mktemp("cli")
    done = _cli(tmp_path, _job(tmp_path, "llama", warmup_requests=3), "--independent-check")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _in_process(tmp_path: Path, arch: str, **overrides) -> dict:
    job = parse_job(_job(tmp_path, arch, **overrides))
    report = run_benchmark(job, logging.getLogger("test"))
    assert all(check.passed for check in report.checks), report.checks
    return report.result


def test_a_cpu_run_reports_consistent_metrics(cli_output: dict) -> None:
    result = cli_output["benchmark_result"]
    assert {c["name"]: c["passed"] for c in cli_output["checks"]} == {
        "harness_requests_succeeded": True,
        "harness_metrics_consistent": True,
    }
    assert (result["engine"], result["gpu"], result["output_unit"]) == (
        "transformers",
        "CPU",
        "token",
    )
    assert result["concurrency"] == 2 and result["input_len"] == 12 and result["output_len"] == 6
    assert "result_key" not in result and result["measured_at"].endswith("+00:00")
    requests = result["extra"]["requests"]
    assert requests["requests_succeeded"] == 4 and requests["output_tokens"] == 4 * 6
    # Throughput is the measured tokens over the measured window, nothing else.
    assert result["output_throughput"] * requests["duration_s"] == pytest.approx(24)
    for metric in ("ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"):
        values = [result[f"{metric}_p{q}"] for q in (50, 90, 95, 99)]
        assert all(v > 0 for v in values) and values == sorted(values), metric
    assert result["ttft_ms_p50"] < result["e2e_ms_p50"]
    # One token per step: the mean gap is the mean TPOT (over requests of equal length).
    assert requests["itl_ms_mean"] == pytest.approx(
        sum(r["tpot_ms"] for r in read_records(result["extra"]["raw_records_uri"])) / 4
    )
    assert result["energy_per_output_j"] is None and "CPU" in result["extra"]["energy"]["reason"]
    assert result["peak_memory_gb"] > 0
    assert result["metric_definitions"]["tpot"].startswith("time per output token")
    assert result["extra"]["independent_check"]["method"] == "perf_counter"
    assert result["extra"]["independent_check"]["output_tokens"] == 2 * 6


def test_raw_records_hold_every_measured_request_and_no_warmup(cli_output: dict) -> None:
    result = cli_output["benchmark_result"]
    records = read_records(result["extra"]["raw_records_uri"])
    assert [r["index"] for r in records] == [0, 1, 2, 3]
    assert [r["batch"] for r in records] == [0, 0, 1, 1]
    for r in records:
        assert r["ok"] and r["output_tokens"] == 6 and len(r["itl_ms"]) == 5
        assert r["tpot_ms"] == pytest.approx((r["e2e_ms"] - r["ttft_ms"]) / 5)
        assert r["sent_s"] >= 0  # sent inside the window: warm-up requests are not here


def test_another_architecture_at_concurrency_1(tmp_path: Path) -> None:
    result = _in_process(tmp_path, "gpt2", concurrency=1, num_requests=3, warmup_requests=0)
    records = read_records(result["extra"]["raw_records_uri"])
    assert [r["batch"] for r in records] == [0, 1, 2]
    assert result["extra"]["requests"]["output_tokens"] == 3 * 6
    # At concurrency 1 a request's E2E is its share of the window: they cannot add up to more.
    assert sum(r["e2e_ms"] for r in records) <= result["extra"]["requests"]["duration_s"] * 1000


def test_a_config_transformers_cannot_build_is_a_clear_failure(tmp_path: Path) -> None:
    bad = {"kind": "config", "config": {"model_type": "no-such-architecture"}}
    with pytest.raises(HarnessError, match="cannot load model .*no-such-architecture"):
        run_benchmark(parse_job(_job(tmp_path, "llama", model_source=bad)), logging.getLogger())


def test_a_pretrained_directory_is_loaded(tmp_path: Path) -> None:
    """`pretrained` loads a local directory; one saved from the tiny config stands in."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    fields = dict(TINY["gpt2"])
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(
        AutoConfig.for_model(fields.pop("model_type"), **fields)
    )
    model.save_pretrained(tmp_path / "model")
    source = {"kind": "pretrained", "path": str(tmp_path / "model")}
    done = _cli(
        tmp_path, _job(tmp_path, "gpt2", model_source=source, concurrency=1, num_requests=2)
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["benchmark_result"]
    assert result["extra"]["num_parameters"] == sum(p.numel() for p in model.parameters())
    assert result["extra"]["requests"]["output_tokens"] == 2 * 6
