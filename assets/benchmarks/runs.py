"""Own benchmark runs: the harness job for a (model, GPU, config), and its result as a row.

Pure functions (no Dagster, no database): the run asset, the plan and the sensors share them so
that a run requested by the plan, by the API queue or by hand has one identity and one row.

Identity (contract §5): source "own", task, model, revision, GPU and GPU count, the comparable
config, engine and harness versions. A retried attempt or a re-executed run of the same identity
gets the same `result_key`; the writer keeps one row per key (the latest measurement).
"""

import gzip
import hashlib
import json
import zlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from assets.benchmarks.mlenergy import result_key
from resources.db.tables import BenchmarkResult

SOURCE = "own"
TASK = "text-generation"
CPU = "CPU"
# GPUs our pools offer (canonical names from assets/costs/gpu_specs.yaml), and the CPU for local
# runs. The run asset's GPU partition dimension: adding a pool is adding its name here.
BENCHMARK_GPUS = ("CPU", "L4", "A100-SXM-80GB", "H100-SXM-80GB", "H200-SXM-141GB", "B200-180GB")

# What makes two runs comparable (same work), in the order shown to people. Seeds, request counts
# and artifact locations are kept in the stored config but do not change what is measured.
COMPARABLE_KEYS = ("engine", "dtype", "concurrency", "input_len", "output_len")
# The default work of a planned or requested run; a request may override any of these.
DEFAULT_CONFIG: dict[str, Any] = {
    "engine": "transformers",
    "dtype": "bfloat16",
    "concurrency": 8,
    "input_len": 512,
    "output_len": 256,
}
DEFAULT_SAMPLING: dict[str, int] = {"num_requests": 64, "warmup_requests": 4, "seed": 0}
# The run tag of a planned run: its plan `work_key` (plan.py), under which the plan counts
# the work's failed and succeeded runs.
PLAN_WORK_TAG = "catalog/benchmark-work"
# Request options of the API (`POST /benchmarks/requests`) and the job keys they set.
REQUEST_OPTIONS = {"batch_size": "concurrency", "max_output_tokens": "output_len"}
_COLUMNS = frozenset(c.name for c in BenchmarkResult.__table__.columns)


class InvalidRunConfig(ValueError):
    """A run configuration the harness cannot run (bad engine, dtype, lengths...)."""


class UnreadableRecords(ValueError):
    """The raw records object is not gzipped JSON lines."""


def comparable_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a config that defines the measured work (missing keys are None)."""
    return {key: config.get(key) for key in COMPARABLE_KEYS}


def config_key(config: Mapping[str, Any]) -> str:
    """Short stable hash of the comparable config (plan rows and regression groups join on it)."""
    return hashlib.sha256(repr(sorted(comparable_config(config).items())).encode()).hexdigest()[:16]


def config_from_request(options: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overridden by an API request's options (`batch_size`, `max_output_tokens`)."""
    config = dict(DEFAULT_CONFIG)
    for name, value in options.items():
        if name not in REQUEST_OPTIONS:
            raise InvalidRunConfig(f"unknown request option {name!r}")
        config[REQUEST_OPTIONS[name]] = value
    return config


def build_job(
    *,
    model_id: str,
    revision: str | None,
    gpu: str,
    num_gpus: int,
    config: Mapping[str, Any],
    model_source: Mapping[str, Any],
    artifacts_uri: str,
    s3_endpoint_url: str | None = None,
) -> dict[str, Any]:
    """The harness job spec (contract §2) for one run."""
    merged = {**DEFAULT_CONFIG, **DEFAULT_SAMPLING, **config}
    _validate(merged, gpu, num_gpus, model_source)
    return {
        "model_id": model_id,
        "revision": revision,
        "task": TASK,
        "engine": merged["engine"],
        "model_source": dict(model_source),
        "device": "cpu" if gpu == CPU else "cuda",
        "dtype": merged["dtype"],
        **{
            key: int(merged[key])
            for key in (
                "concurrency",
                "input_len",
                "output_len",
                "num_requests",
                "warmup_requests",
                "seed",
            )
        },  # fmt: skip
        "gpu": gpu,
        "num_gpus": num_gpus,
        "artifacts_uri": artifacts_uri,
        "s3_endpoint_url": s3_endpoint_url,
    }


def identity(job: Mapping[str, Any], result: Mapping[str, Any]) -> dict[str, Any]:
    """What makes a run the same run (contract §5): the work asked for in `job`, and the engine
    and harness versions that `result` says actually ran it."""
    source = job.get("model_source") or {}
    return {
        "source": SOURCE,
        "task": job["task"],
        "model_id": job["model_id"],
        "revision": job.get("revision"),
        "gpu": job["gpu"],
        "num_gpus": job["num_gpus"],
        "config": comparable_config(job),
        # Random-initialised weights of a config are other work than the published weights.
        "weights": source.get("kind"),
        "random_init_config": source.get("config"),
        "engine_version": result.get("engine_version"),
        "harness_version": result.get("harness_version"),
    }


def result_row(
    job: Mapping[str, Any], result: Mapping[str, Any], provenance: Mapping[str, Any]
) -> dict[str, Any]:
    """The harness's `benchmark_result` for `job` as a `benchmark_results` row of source "own".

    `provenance` (Dagster run id, attempts, pricing) is added to `extra`; it is not identity.
    """
    mismatched = [k for k in ("model_id", "gpu") if result.get(k) != job[k]]
    if mismatched:
        raise InvalidRunConfig(f"the harness result is for another run ({', '.join(mismatched)})")
    unknown = sorted(set(result) - _COLUMNS)
    row = {key: value for key, value in result.items() if key in _COLUMNS}
    measured_at = row.get("measured_at")
    if isinstance(measured_at, str):
        row["measured_at"] = datetime.fromisoformat(measured_at.replace("Z", "+00:00"))
    if not isinstance(row.get("measured_at"), datetime) or row["measured_at"].tzinfo is None:
        raise InvalidRunConfig("the harness result has no time-zone aware measured_at")
    row["source"] = SOURCE
    row["task"] = job["task"]
    row["model_revision"] = job.get("revision")
    row["result_key"] = result_key(identity(job, result))
    row["output_unit"] = row.get("output_unit") or "token"
    row["extra"] = {**(row.get("extra") or {}), **provenance}
    if unknown:  # a newer harness may report more; keep it rather than drop it
        row["extra"]["unmapped_fields"] = {key: result[key] for key in unknown}
    return row


def request_rows(
    result_key: str, measured_at: datetime, data: bytes
) -> tuple[list[dict[str, Any]], int]:
    """`benchmark_request_timings` rows from the harness's raw records (gzipped JSON lines, one per
    measured request, harness/modelcat_harness/timing.py `record`), and how many lines were
    skipped as unusable (no index or send time). A request's `sent_at` is the window start
    (`measured_at`) plus its `sent_s`; a failed request keeps its error (or "no output")."""
    try:
        text = gzip.decompress(data).decode()
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
        raise UnreadableRecords(f"raw records are not gzipped text: {error}") from error
    rows: dict[tuple[datetime, int], dict[str, Any]] = {}
    skipped = 0
    for line in filter(str.strip, text.splitlines()):
        row = _request_row(result_key, measured_at, line)
        if row is None:
            skipped += 1
        else:  # a repeated request (same index and time) keeps its last line
            rows[(row["sent_at"], row["request_index"])] = row
    return list(rows.values()), skipped


def _request_row(result_key: str, measured_at: datetime, line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(record, dict):
        return None
    index, sent_s = record.get("index"), record.get("sent_s")
    if not _is_int(index) or not _is_number(sent_s):
        return None
    itl = record.get("itl_ms")
    error = record.get("error")
    if record.get("ok") is False and not error:
        error = "no output"
    return {
        "result_key": result_key,
        "sent_at": measured_at + timedelta(seconds=sent_s),
        "request_index": index,
        "measured_at": measured_at,
        **{k: record[k] if _is_int(record.get(k)) else None
           for k in ("input_tokens", "output_tokens")},
        **{k: float(record[k]) if _is_number(record.get(k)) else None
           for k in ("ttft_ms", "tpot_ms", "e2e_ms")},
        "itl_ms": [float(x) for x in itl]
        if isinstance(itl, list) and all(map(_is_number, itl)) else None,
        "error": str(error) if error else None,
    }  # fmt: skip


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def validate_work(config: Mapping[str, Any]) -> None:
    """InvalidRunConfig unless the harness can run this work (defaults fill missing keys).

    The harness checks the same again; checking here refuses a request or a run before it
    rents a GPU for a job that can only fail.
    """
    config = {**DEFAULT_CONFIG, **DEFAULT_SAMPLING, **config}
    if config["engine"] not in ("transformers", "openai"):
        raise InvalidRunConfig(f"engine must be transformers or openai, got {config['engine']!r}")
    if config["dtype"] not in ("float32", "bfloat16", "float16"):
        raise InvalidRunConfig(f"dtype must be float32, bfloat16 or float16: {config['dtype']!r}")
    for key in ("concurrency", "input_len", "output_len", "num_requests"):
        if not _is_int(config[key]) or config[key] < 1:
            raise InvalidRunConfig(f"{key} must be a positive integer, got {config[key]!r}")
    if config["engine"] == "transformers" and config["num_requests"] % config["concurrency"]:
        # The in-process engine runs static batches: a ragged last batch would be measured at
        # another concurrency (modelcat_harness.job refuses it too).
        raise InvalidRunConfig(
            f"the transformers engine runs static batches of concurrency="
            f"{config['concurrency']}; num_requests={config['num_requests']} must be a multiple"
        )


def _validate(
    config: Mapping[str, Any], gpu: str, num_gpus: int, model_source: Mapping[str, Any]
) -> None:
    validate_work(config)
    if gpu not in BENCHMARK_GPUS:
        raise InvalidRunConfig(f"GPU {gpu!r} has no pool; one of {', '.join(BENCHMARK_GPUS)}")
    if num_gpus < 1 or (gpu == CPU and num_gpus != 1):
        raise InvalidRunConfig(f"num_gpus must be >= 1 (1 on CPU), got {num_gpus}")
    if model_source.get("kind") not in ("config", "pretrained", "server"):
        raise InvalidRunConfig("model_source.kind must be config, pretrained or server")
