"""The benchmark job: parsed and checked before anything heavy is imported or loaded.

A job is a JSON object (the Pipes extra `"job"`, or `--job job.json`). Every problem with it is a
`JobError` whose message names the field, so the launcher can fail fast with a readable reason.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ENGINES = ("transformers", "openai")
TASKS = ("text-generation",)
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("float32", "bfloat16", "float16")
# Which model sources each engine can run.
_SOURCES = {"transformers": ("config", "pretrained"), "openai": ("server",)}
# Keys of a model source that are credentials: never copied into the stored config.
SECRET_KEYS = frozenset({"api_key", "token", "password", "headers"})


class HarnessError(Exception):
    """A benchmark that cannot produce a result; the message is the one-line reason."""

    exit_code = 1


class JobError(HarnessError):
    """The job itself is wrong (unknown engine, missing field, model directory missing)."""

    exit_code = 2


@dataclass(frozen=True)
class Job:
    model_id: str
    engine: str
    model_source: dict[str, Any]
    revision: str | None = None
    task: str = "text-generation"
    device: str = "auto"
    dtype: str = "float32"
    concurrency: int = 1
    input_len: int = 128
    output_len: int = 64
    num_requests: int = 8
    warmup_requests: int = 1
    seed: int = 0
    gpu: str = "CPU"
    num_gpus: int = 1
    artifacts_uri: str = field(default_factory=lambda: Path("harness-artifacts").resolve().as_uri())
    s3_endpoint_url: str | None = None

    def config(self) -> dict[str, Any]:
        """The job as stored with the result (`benchmark_results.config`): secrets removed."""
        data = asdict(self)
        data["model_source"] = {k: v for k, v in self.model_source.items() if k not in SECRET_KEYS}
        return data


_INTS = {  # field: smallest allowed value
    "concurrency": 1, "input_len": 1, "output_len": 1, "num_requests": 1,
    "warmup_requests": 0, "seed": 0, "num_gpus": 1,
}  # fmt: skip
_CHOICES = {"engine": ENGINES, "task": TASKS, "device": DEVICES, "dtype": DTYPES}
_OPTIONAL_STR = ("revision", "s3_endpoint_url")


def parse_job(raw: Any) -> Job:
    """A `Job` from its JSON form, or a `JobError` naming the first thing wrong with it."""
    if not isinstance(raw, dict):
        raise JobError(f"job must be a JSON object, got {type(raw).__name__}")
    known = set(Job.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise JobError(f"unknown job field(s) {unknown}; known: {sorted(known)}")
    for name in ("model_id", "engine", "model_source"):
        if raw.get(name) in (None, ""):
            raise JobError(f"job field {name!r} is required")
    _require_type(raw, "model_id", str)
    _require_type(raw, "gpu", str)
    for name, allowed in _CHOICES.items():
        if name in raw and raw[name] not in allowed:
            raise JobError(f"{name} must be one of {list(allowed)}, got {raw[name]!r}")
    for name, minimum in _INTS.items():
        if name in raw:
            value = raw[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise JobError(f"{name} must be an integer >= {minimum}, got {value!r}")
    for name in _OPTIONAL_STR:
        if raw.get(name) is not None:
            _require_type(raw, name, str)
    job = Job(**raw)
    _check_source(job)
    _check_artifacts_uri(job.artifacts_uri)
    if job.engine == "transformers" and job.num_requests % job.concurrency:
        # Static batches of `concurrency`: a ragged last batch would run at another concurrency.
        raise JobError(
            f"the transformers engine runs static batches of concurrency={job.concurrency}; "
            f"num_requests={job.num_requests} must be a multiple of it"
        )
    return job


def _require_type(raw: dict[str, Any], name: str, kind: type) -> None:
    if name in raw and not isinstance(raw[name], kind):
        raise JobError(f"{name} must be a {kind.__name__}, got {raw[name]!r}")


def _check_source(job: Job) -> None:
    source = job.model_source
    if not isinstance(source, dict):
        raise JobError(f"model_source must be an object, got {source!r}")
    kind = source.get("kind")
    allowed = _SOURCES[job.engine]
    if kind not in allowed:
        raise JobError(
            f"engine {job.engine!r} needs model_source.kind in {list(allowed)}, got {kind!r}"
        )
    if kind == "config":
        config = source.get("config")
        if not isinstance(config, dict) or not isinstance(config.get("model_type"), str):
            raise JobError("model_source.config must be an HF config object with a 'model_type'")
    elif kind == "pretrained":
        _check_pretrained(source)
    else:
        base_url = source.get("base_url")
        if not isinstance(base_url, str) or urlparse(base_url).scheme not in ("http", "https"):
            raise JobError(f"model_source.base_url must be an http(s) URL, got {base_url!r}")
        if not isinstance(source.get("model"), str) or not source["model"]:
            raise JobError("model_source.model (the served model name) is required")
        vocab = source.get("vocab_size", 1000)
        if isinstance(vocab, bool) or not isinstance(vocab, int) or vocab < 2:
            raise JobError(f"model_source.vocab_size must be an integer >= 2, got {vocab!r}")


def _check_pretrained(source: dict[str, Any]) -> None:
    """A local model directory (`path`), or a Hub repository (`repo_id`, at the job's
    `revision`; HF_HUB_OFFLINE and HF_TOKEN in the pod's environment apply)."""
    path, repo_id = source.get("path"), source.get("repo_id")
    if (path is None) == (repo_id is None):
        raise JobError("model_source of kind pretrained needs one of path (a local model "
                       "directory) or repo_id (a Hub repository)")  # fmt: skip
    if repo_id is not None:
        if not isinstance(repo_id, str) or not repo_id.strip("/") or repo_id != repo_id.strip():
            raise JobError(f"model_source.repo_id must be a Hub repository id, got {repo_id!r}")
        return
    if not isinstance(path, str) or not path:
        raise JobError("model_source.path (a local model directory) must be a non-empty string")
    if not (Path(path) / "config.json").is_file():
        raise JobError(f"model directory {path!r} does not exist or has no config.json")


def _check_artifacts_uri(uri: Any) -> None:
    if not isinstance(uri, str):
        raise JobError(f"artifacts_uri must be a string, got {uri!r}")
    parsed = urlparse(uri)
    if parsed.scheme == "file" and parsed.path.startswith("/"):
        return
    if parsed.scheme == "s3" and parsed.netloc:
        return
    raise JobError(f"artifacts_uri must be file:///abs/dir or s3://bucket/prefix, got {uri!r}")
