"""modelcat_harness.pipes_io: the harness writes messages the way the launcher reads them."""

import json
from pathlib import Path

import pytest
from dagster_pipes import (
    DAGSTER_PIPES_CONTEXT_ENV_VAR,
    DAGSTER_PIPES_MESSAGES_ENV_VAR,
    PipesDefaultMessageWriter,
    PipesMappingParamsLoader,
    PipesS3MessageWriter,
    encode_param,
)
from modelcat_harness.pipes_io import message_writer


def _loader(tmp_path: Path, messages: dict, job: dict | None = None) -> PipesMappingParamsLoader:
    context = tmp_path / "context.json"
    context.write_text(json.dumps({"extras": {"job": job} if job is not None else {}}))
    return PipesMappingParamsLoader({
        DAGSTER_PIPES_CONTEXT_ENV_VAR: encode_param({"path": str(context)}),
        DAGSTER_PIPES_MESSAGES_ENV_VAR: encode_param(messages),
    })  # fmt: skip


@pytest.fixture(autouse=True)
def _no_ambient_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_an_s3_reader_gets_the_s3_writer_at_the_jobs_endpoint(tmp_path: Path) -> None:
    job = {"s3_endpoint_url": "http://127.0.0.1:8333"}
    writer = message_writer(_loader(tmp_path, {"bucket": "b", "key_prefix": "pipes/x"}, job))
    assert isinstance(writer, PipesS3MessageWriter)
    assert writer._client.meta.endpoint_url == "http://127.0.0.1:8333"
    assert writer._client.meta.config.s3["addressing_style"] == "path"


def test_without_a_job_endpoint_the_environment_decides(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000")
    writer = message_writer(_loader(tmp_path, {"bucket": "b", "key_prefix": "p"}, {}))
    assert isinstance(writer, PipesS3MessageWriter)
    assert writer._client.meta.endpoint_url == "http://127.0.0.1:9000"


def test_an_unreadable_context_still_gets_a_writer(tmp_path: Path) -> None:
    """The session itself reports a broken context; choosing the writer must not hide it."""
    loader = PipesMappingParamsLoader({
        DAGSTER_PIPES_CONTEXT_ENV_VAR: encode_param({"path": str(tmp_path / "absent.json")}),
        DAGSTER_PIPES_MESSAGES_ENV_VAR: encode_param({"bucket": "b", "key_prefix": "p"}),
    })  # fmt: skip
    assert isinstance(message_writer(loader), PipesS3MessageWriter)


@pytest.mark.parametrize("messages", [{"path": "/tmp/messages.jsonl"}, {"stdio": "stdout"}])
def test_other_readers_get_the_default_writer(tmp_path: Path, messages: dict) -> None:
    assert isinstance(message_writer(_loader(tmp_path, messages, {})), PipesDefaultMessageWriter)
