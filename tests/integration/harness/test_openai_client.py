"""Client mode against a real OpenAI-compatible streaming server on 127.0.0.1.

The server (tests/support/openai_server.py) decodes a tiny random Llama token by token and
sleeps a fixed delay before each token, so the measured latencies have known lower bounds.
Lower bounds only: a busy machine makes everything slower, never faster.
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

from tests.support.openai_server import OpenAIServer, TinyLM

HARNESS = Path(__file__).resolve().parents[3] / "harness"
DELAY_S = 0.02  # well above the client's scheduling lag, so chunks do not bunch up
LOG = logging.getLogger("test")


@pytest.fixture(scope="module")
def lm() -> TinyLM:
    return TinyLM()


def _job(tmp_path: Path, base_url: str, **overrides) -> dict:
    source = {"kind": "server", "base_url": base_url, "model": "tiny-llama", "vocab_size": 512}
    return {
        "model_id": "tiny-random/llama-served", "engine": "openai", "model_source": source,
        "concurrency": 3, "input_len": 10, "output_len": 5, "num_requests": 7,
        "warmup_requests": 2, "artifacts_uri": tmp_path.as_uri(),
    } | overrides  # fmt: skip


def test_streamed_latencies_have_the_servers_delay_as_lower_bound(tmp_path, lm) -> None:
    with OpenAIServer(token_delay_s=DELAY_S, lm=lm) as server:
        report = run_benchmark(parse_job(_job(tmp_path, server.base_url)), LOG)
    result = report.result
    assert [c.passed for c in report.checks] == [True, True]
    assert (
        server.completions == 2 + 7
    )  # warm-up requests went to the server, and are not counted below
    requests = result["extra"]["requests"]
    assert (requests["requests_succeeded"], requests["output_tokens"]) == (7, 7 * 5)
    assert result["engine_version"] == "modelcat-test-server 0.1"
    assert result["extra"]["server"]["models"] == ["tiny-llama"]
    delay_ms = DELAY_S * 1000
    assert result["ttft_ms_p50"] >= delay_ms
    assert result["tpot_ms_p50"] >= delay_ms and result["itl_ms_p50"] >= delay_ms
    assert result["e2e_ms_p50"] >= 5 * delay_ms
    assert result["tokens_per_s_per_user"] <= 1000 / delay_ms
    # With at most 3 in flight, no more than 3 tokens can arrive per delay period.
    assert result["output_throughput"] <= 3 * 1000 / delay_ms
    assert result["peak_memory_gb"] is None  # the model's memory is the server's, unseen here
    records = read_records(result["extra"]["raw_records_uri"])
    assert sorted(r["index"] for r in records) == list(range(7))
    assert all(r["ok"] and r["chunks"] == 5 and len(r["itl_ms"]) == 4 for r in records)


def test_failed_requests_fail_the_check_not_the_run(tmp_path, lm) -> None:
    with OpenAIServer(fail_every=4, lm=lm) as server:
        # warm-up is requests 1-2; of the measured 3..9, numbers 4 and 8 fail.
        report = run_benchmark(parse_job(_job(tmp_path, server.base_url)), LOG)
    succeeded, consistent = report.checks
    assert succeeded.name == "harness_requests_succeeded" and not succeeded.passed
    assert succeeded.metadata["requests_failed"] == 2
    assert "HTTP 500" in succeeded.metadata["first_errors"][0]
    assert consistent.passed  # metrics of the 5 that succeeded are still sound
    assert report.result["extra"]["requests"]["output_tokens"] == 5 * 5


def test_a_wrong_model_name_fails_the_run(tmp_path, lm) -> None:
    with OpenAIServer(lm=lm) as server:
        job = _job(tmp_path, server.base_url, warmup_requests=0)
        job["model_source"]["model"] = "not-served"
        with pytest.raises(HarnessError, match="all 7 requests failed; first: HTTP 404"):
            run_benchmark(parse_job(job), LOG)


def test_client_mode_runs_without_torch(tmp_path, lm) -> None:
    """The client image need not ship torch: the harness process here cannot import it."""
    path = tmp_path / "job.json"
    blocker = (
        "import sys; sys.modules['torch'] = sys.modules['transformers'] = None; "
        "from modelcat_harness.__main__ import main; sys.exit(main(['--job', sys.argv[1]]))"
    )
    with OpenAIServer(lm=lm) as server:
        path.write_text(json.dumps(_job(tmp_path, server.base_url, num_requests=2)))
        done = subprocess.run(
            [sys.executable, "-c", blocker, str(path)],
            capture_output=True, text=True, timeout=120,
            env=os.environ | {"PYTHONPATH": str(HARNESS)},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert output["benchmark_result"]["extra"]["requests"]["requests_succeeded"] == 2
    assert "torch_version" not in output["benchmark_result"]["extra"]
