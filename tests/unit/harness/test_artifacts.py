"""modelcat_harness.artifacts: raw records as JSONL.gz, one object per attempt."""

import gzip
from pathlib import Path

import pytest
from modelcat_harness.artifacts import encode, read_records, records_name, write_records
from modelcat_harness.job import HarnessError

RECORDS = [{"index": 0, "ttft_ms": 1.5, "itl_ms": [0.5, 0.6]}, {"index": 1, "error": "x"}]


def test_file_records_round_trip(tmp_path: Path) -> None:
    name = records_name("org/model", "2025-01-02T03:04:05.678+00:00", "abc123")
    assert name == "org--model/20250102T030405-abc123.jsonl.gz"
    uri = write_records(RECORDS, tmp_path.as_uri(), name)
    assert uri == (tmp_path / name).as_uri()
    assert read_records(uri) == RECORDS
    assert gzip.decompress((tmp_path / name).read_bytes()).decode().count("\n") == 2


def test_encoding_is_deterministic() -> None:
    assert encode(RECORDS) == encode(RECORDS)


def test_an_unwritable_folder_is_a_clear_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(HarnessError, match="cannot write raw records"):
        write_records(RECORDS, blocker.as_uri(), "m/x.jsonl.gz")


def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(HarnessError, match="unsupported"):
        write_records(RECORDS, "gs://bucket/x", "m/x.jsonl.gz")
