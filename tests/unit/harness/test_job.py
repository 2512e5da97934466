"""modelcat_harness.job: a wrong job is refused with a reason that names the field."""

from pathlib import Path

import pytest
from modelcat_harness.job import JobError, parse_job

CONFIG = {"kind": "config", "config": {"model_type": "llama", "vocab_size": 64}}
SERVER = {"kind": "server", "base_url": "http://127.0.0.1:8000/v1", "model": "m", "api_key": "s3"}


def _job(**overrides):
    return {"model_id": "org/m", "engine": "transformers", "model_source": CONFIG} | overrides


def test_defaults_fill_a_minimal_job() -> None:
    job = parse_job(_job())
    assert (job.task, job.device, job.dtype, job.concurrency, job.gpu) == (
        "text-generation",
        "auto",
        "float32",
        1,
        "CPU",
    )
    assert job.artifacts_uri.startswith("file:///")


def test_config_is_the_whole_job_without_secrets() -> None:
    job = parse_job(_job(engine="openai", model_source=SERVER, concurrency=4))
    config = job.config()
    assert "api_key" not in config["model_source"]
    assert config["model_source"]["base_url"] == SERVER["base_url"]
    assert config["concurrency"] == 4 and config["output_len"] == job.output_len
    assert job.model_source["api_key"] == "s3"  # still usable by the client


def test_a_pretrained_directory_with_a_config_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    job = parse_job(_job(model_source={"kind": "pretrained", "path": str(tmp_path)}))
    assert job.model_source["path"] == str(tmp_path)


def test_a_pretrained_hub_repository_is_accepted_with_its_revision() -> None:
    """Resolved by from_pretrained in the pod (which honours HF_HUB_OFFLINE): not checked here."""
    source = {"kind": "pretrained", "repo_id": "meta-llama/Llama-3.1-8B"}
    job = parse_job(_job(model_source=source, revision="0123abc"))
    assert (job.model_source["repo_id"], job.revision) == ("meta-llama/Llama-3.1-8B", "0123abc")


@pytest.mark.parametrize(
    ("job", "reason"),
    [
        ([], "must be a JSON object"),
        (_job(engine="vllm-native"), "engine must be one of"),
        (_job(concurency=2), "unknown job field(s) ['concurency']"),
        ({"engine": "transformers", "model_source": CONFIG}, "'model_id' is required"),
        (_job(concurrency=0), "concurrency must be an integer >= 1"),
        (_job(output_len=True), "output_len must be an integer"),
        (_job(input_len="128"), "input_len must be an integer"),
        (_job(dtype="int4"), "dtype must be one of"),
        (_job(device="tpu"), "device must be one of"),
        (_job(model_source=SERVER), "needs model_source.kind in ['config', 'pretrained']"),
        (_job(engine="openai"), "needs model_source.kind in ['server']"),
        (_job(model_source={"kind": "config", "config": {}}), "with a 'model_type'"),
        (_job(model_source={"kind": "pretrained", "path": "/nonexistent/m"}), "does not exist"),
        (_job(model_source={"kind": "pretrained"}), "needs one of path"),
        (_job(model_source={"kind": "pretrained", "path": "/m", "repo_id": "o/m"}), "one of"),
        (_job(model_source={"kind": "pretrained", "repo_id": ""}), "repo_id must be"),
        (_job(model_source={"kind": "pretrained", "repo_id": 7}), "repo_id must be"),
        (_job(engine="openai", model_source=SERVER | {"base_url": "ftp://x"}), "http(s) URL"),
        (_job(engine="openai", model_source=SERVER | {"vocab_size": 1}), "vocab_size"),
        (_job(artifacts_uri="relative/dir"), "artifacts_uri must be"),
        (_job(artifacts_uri="s3://"), "artifacts_uri must be"),
        (_job(concurrency=3, num_requests=8), "must be a multiple of it"),
        (_job(revision=3), "revision must be a str"),
    ],
)
def test_bad_jobs_are_refused_with_their_reason(job, reason: str) -> None:
    with pytest.raises(JobError) as caught:
        parse_job(job)
    assert reason in str(caught.value)
    assert caught.value.exit_code == 2


def test_client_mode_allows_any_request_count() -> None:
    """Only static batches need whole batches; a server takes requests one by one."""
    job = parse_job(_job(engine="openai", model_source=SERVER, concurrency=3, num_requests=8))
    assert job.num_requests == 8
