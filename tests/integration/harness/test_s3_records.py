"""Raw records to an S3-compatible store: a real SeaweedFS (tests/support/seaweed.py)."""

import gzip
import json
import logging
from pathlib import Path

import pytest
from modelcat_harness.artifacts import write_records
from modelcat_harness.job import HarnessError, parse_job
from modelcat_harness.runner import run_benchmark

from resources.settings import Settings
from tests.support.seaweed import SeaweedS3, seaweed_s3, weed_or_skip

TINY_GPT2 = {"model_type": "gpt2", "vocab_size": 64, "n_embd": 16, "n_layer": 1, "n_head": 2,
             "n_positions": 32}  # fmt: skip


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory, test_settings: Settings):
    weed_or_skip(test_settings)
    with seaweed_s3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.fixture
def s3_env(s3: SeaweedS3, monkeypatch: pytest.MonkeyPatch) -> SeaweedS3:
    """The pod's credentials: boto3 reads them from the environment, as in the GPU pod."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.secret_access_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3.region)
    return s3


def test_a_run_writes_its_raw_records_to_s3(s3_env: SeaweedS3, tmp_path: Path) -> None:
    job = parse_job({
        "model_id": "tiny-random/gpt2", "engine": "transformers", "device": "cpu",
        "model_source": {"kind": "config", "config": TINY_GPT2},
        "input_len": 4, "output_len": 3, "num_requests": 2, "warmup_requests": 0,
        "artifacts_uri": f"s3://{s3_env.bucket}/harness/runs",
        "s3_endpoint_url": s3_env.endpoint_url,
    })  # fmt: skip
    report = run_benchmark(job, logging.getLogger("test"))
    uri = report.result["extra"]["raw_records_uri"]
    prefix = f"s3://{s3_env.bucket}/harness/runs/tiny-random--gpt2/"
    assert uri.startswith(prefix) and uri.endswith(".jsonl.gz")
    key = uri.removeprefix(f"s3://{s3_env.bucket}/")
    body = s3_env.client().get_object(Bucket=s3_env.bucket, Key=key)["Body"].read()
    records = [json.loads(line) for line in gzip.decompress(body).decode().splitlines()]
    assert [(r["index"], r["ok"], r["output_tokens"]) for r in records] == [
        (0, True, 3),
        (1, True, 3),
    ]


def test_refused_credentials_fail_with_the_object_named(
    s3_env: SeaweedS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    target = f"s3://{s3_env.bucket}/runs"
    with pytest.raises(HarnessError, match=f"cannot write raw records to {target}/m/x.jsonl.gz"):
        write_records([{"index": 0}], target, "m/x.jsonl.gz", s3_env.endpoint_url)
