"""`python -m modelcat_harness`: a bad job exits non-zero with a one-line reason on stderr.

The CLI is called in-process: these jobs fail before any model is loaded.
"""

import json
from pathlib import Path

import pytest
from modelcat_harness.__main__ import main


def _run(tmp_path: Path, job: object, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    code = main(["--job", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_unknown_engine_exits_2_with_its_reason(tmp_path, capsys) -> None:
    job = {"model_id": "m", "engine": "tensorrt", "model_source": {"kind": "config"}}
    code, out, err = _run(tmp_path, job, capsys)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "modelcat-harness: invalid job: engine must be one of ['transformers', 'openai'], "
        "got 'tensorrt'"
    ]


def test_a_missing_model_directory_exits_2(tmp_path, capsys) -> None:
    source = {"kind": "pretrained", "path": str(tmp_path / "absent")}
    code, _, err = _run(
        tmp_path, {"model_id": "m", "engine": "transformers", "model_source": source}, capsys
    )
    assert code == 2 and "does not exist or has no config.json" in err


def test_an_unreadable_job_file_exits_2(tmp_path, capsys) -> None:
    (tmp_path / "job.json").write_text("{not json")
    code = main(["--job", str(tmp_path / "job.json")])
    assert code == 2 and "cannot read job file" in capsys.readouterr().err


def test_no_job_outside_pipes_exits_2(monkeypatch, capsys) -> None:
    monkeypatch.delenv("DAGSTER_PIPES_CONTEXT", raising=False)
    monkeypatch.delenv("DAGSTER_PIPES_MESSAGES", raising=False)
    assert main([]) == 2
    assert "no job: pass --job" in capsys.readouterr().err


def test_an_unreachable_server_fails_the_run_with_exit_1(tmp_path, capsys) -> None:
    """Nothing listens on port 9 of 127.0.0.1: the warm-up request fails, so does the run."""
    source = {"kind": "server", "base_url": "http://127.0.0.1:9/v1", "model": "m"}
    job = {"model_id": "m", "engine": "openai", "model_source": source}
    code, out, err = _run(tmp_path, job | {"artifacts_uri": tmp_path.as_uri()}, capsys)
    assert code == 1 and out == ""
    assert "benchmark failed: warm-up request failed: ConnectError" in err
