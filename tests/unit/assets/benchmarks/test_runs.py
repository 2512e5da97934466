"""The harness job and the identity of an own run."""

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from assets.benchmarks.runs import (
    DEFAULT_CONFIG,
    InvalidRunConfig,
    UnreadableRecords,
    build_job,
    config_from_request,
    config_key,
    request_rows,
    result_row,
)

SOURCE = {"kind": "pretrained", "path": "m/a"}


def _job(**overrides) -> dict:
    arguments = {"model_id": "m/a", "revision": "abc", "gpu": "H100-SXM-80GB", "num_gpus": 1,
                 "config": DEFAULT_CONFIG, "model_source": SOURCE,
                 "artifacts_uri": "file:///tmp/x"} | overrides  # fmt: skip
    return build_job(**arguments)


def _result(job: dict, **overrides) -> dict:
    result = {"task": job["task"], "model_id": job["model_id"], "gpu": job["gpu"], "num_gpus": 1,
              "engine": "transformers", "engine_version": "5.24.0", "harness_version": "0.1.0",
              "config": job, "output_throughput": 10.0,
              "measured_at": "2026-01-01T00:00:00+00:00", "extra": {"hardware": {}}}  # fmt: skip
    return result | overrides


def test_the_job_follows_the_contract():
    job = _job(gpu="CPU")
    assert job["device"] == "cpu" and job["task"] == "text-generation"
    assert job["concurrency"] == 8 and job["num_requests"] == 64
    assert _job()["device"] == "cuda"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"gpu": "TPU"}, "has no pool"),
        ({"config": DEFAULT_CONFIG | {"dtype": "int3"}}, "dtype"),
        ({"config": DEFAULT_CONFIG | {"concurrency": 0}}, "concurrency"),
        ({"gpu": "CPU", "num_gpus": 2}, "num_gpus"),
        ({"model_source": {"kind": "hub"}}, "model_source.kind"),
        # 64 requests in static batches of 3 would leave a ragged last batch of 1.
        ({"config": DEFAULT_CONFIG | {"concurrency": 3}}, "must be a multiple"),
    ],
)
def test_a_job_the_harness_cannot_run_is_refused_with_the_field(overrides, message):
    with pytest.raises(InvalidRunConfig, match=message):
        _job(**overrides)


def test_a_server_engine_has_no_static_batches_to_divide_into():
    job = _job(config=DEFAULT_CONFIG | {"engine": "openai", "concurrency": 3})
    assert (job["concurrency"], job["num_requests"]) == (3, 64)


def test_a_rerun_has_the_same_key_and_other_work_another():
    job = _job()
    first = result_row(job, _result(job), {"dagster_run_id": "r1"})
    again = result_row(job, _result(job, measured_at="2026-02-01T00:00:00Z", output_throughput=9.0),
                       {"dagster_run_id": "r2"})  # fmt: skip
    assert first["result_key"] == again["result_key"]
    assert again["measured_at"] == datetime(2026, 2, 1, tzinfo=UTC)
    assert (first["source"], first["model_revision"]) == ("own", "abc")
    assert first["extra"] == {"hardware": {}, "dagster_run_id": "r1"}
    newer_engine = result_row(job, _result(job, engine_version="5.25.0"), {})
    new_revision = result_row(_job(revision="def"), _result(_job(revision="def")), {})
    random_init = _job(model_source={"kind": "config", "config": {"model_type": "llama"}})
    keys = {first["result_key"], newer_engine["result_key"], new_revision["result_key"],
            result_row(random_init, _result(random_init), {})["result_key"]}  # fmt: skip
    assert len(keys) == 4


def test_a_result_for_another_run_or_without_a_time_is_refused():
    job = _job()
    with pytest.raises(InvalidRunConfig, match="another run"):
        result_row(job, _result(job, gpu="L4"), {})
    with pytest.raises(InvalidRunConfig, match="measured_at"):
        result_row(job, _result(job, measured_at="2026-01-01T00:00:00"), {})


def test_unknown_result_fields_are_kept_not_dropped():
    job = _job()
    row = result_row(job, _result(job, new_metric=1.5), {})
    assert row["extra"]["unmapped_fields"] == {"new_metric": 1.5}
    assert "new_metric" not in row


def test_request_options_map_onto_the_config():
    config = config_from_request({"batch_size": 32, "max_output_tokens": 128})
    assert (config["concurrency"], config["output_len"]) == (32, 128)
    assert config_key(config) != config_key(DEFAULT_CONFIG)
    assert config_key(DEFAULT_CONFIG | {"seed": 5}) == config_key(DEFAULT_CONFIG)
    with pytest.raises(InvalidRunConfig, match="unknown request option"):
        config_from_request({"temperature": 0.1})


MEASURED = datetime(2026, 1, 1, tzinfo=UTC)


def _records(*lines: object) -> bytes:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    return gzip.compress(text.encode())


def test_request_rows_map_the_harness_records_and_skip_unusable_lines():
    ok = {"index": 0, "sent_s": 0.5, "input_tokens": 64, "output_tokens": 8, "ok": True,
          "ttft_ms": 12.0, "tpot_ms": 3.0, "e2e_ms": 33.0, "itl_ms": [3, 3.0]}  # fmt: skip
    failed = {"index": 1, "sent_s": 0.6, "ok": False, "error": None}
    rows, skipped = request_rows("k", MEASURED, _records(ok, failed, "not json", {"index": "x"}))
    assert skipped == 2
    first, second = sorted(rows, key=lambda r: r["request_index"])
    assert first["sent_at"] == MEASURED + timedelta(seconds=0.5)
    assert (first["ttft_ms"], first["itl_ms"], first["error"]) == (12.0, [3.0, 3.0], None)
    assert second["error"] == "no output" and second["ttft_ms"] is None


def test_a_repeated_request_keeps_one_row():
    line = {"index": 0, "sent_s": 0.0, "ok": True, "ttft_ms": 1.0}
    rows, _ = request_rows("k", MEASURED, _records(line, line | {"ttft_ms": 2.0}))
    assert [r["ttft_ms"] for r in rows] == [2.0]


def test_records_that_are_not_gzipped_text_are_refused_with_a_reason():
    with pytest.raises(UnreadableRecords, match="not gzipped"):
        request_rows("k", MEASURED, b"plain bytes")
