"""ML.ENERGY leaderboard v3 → `benchmark_results` rows in the canonical metrics (DESIGN §5).

ML.ENERGY publishes, per configuration, inter-token latency percentiles (ITL), system output
throughput at a stated `max_num_seqs`, and GPU energy per output token. It publishes no TTFT,
TPOT or E2E percentiles: those stay NULL rather than being guessed. Diffusion tasks publish one
batch latency and images (or videos) per second.
"""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assets.common.errors import DataFileError
from assets.costs.gpus import normalize_gpu_name

SOURCE = "mlenergy-v3"

# The definitions each stored value follows; saved with the row.
LLM_DEFINITIONS = {
    "itl": "ML.ENERGY: inter-token latency, gaps between streamed tokens pooled over requests (ms)",
    "output_throughput": "output tokens/s of the whole server at max_num_seqs, steady state",
    "throughput_per_gpu": "output_throughput / num_gpus",
    "tokens_per_s_per_user": "1000 / median ITL (ms)",
    "energy_per_output_j": "GPU energy (NVML) per output token over the steady-state window (J)",
    "avg_power_watts": "average GPU power over the steady-state window, all GPUs (W)",
}
DIFFUSION_DEFINITIONS = {
    "e2e_ms_p50": "ML.ENERGY batch latency (a single published value, ms), not a percentile",
    "output_throughput": "generated outputs/s at the stated batch size",
    "throughput_per_gpu": "output_throughput / num_gpus",
    "energy_per_output_j": "GPU energy (NVML) per generated output (J)",
    "avg_power_watts": "average GPU power, all GPUs (W)",
}

_LLM_CONFIG = ("tensor_parallel", "expert_parallel", "data_parallel", "max_num_seqs")
_DIFFUSION_CONFIG = (
    "batch_size", "inference_steps", "image_height", "image_width", "video_height",
    "video_width", "num_frames", "fps", "ulysses_degree", "ring_degree",
)  # fmt: skip
_MODEL_FACTS = (
    "nickname", "architecture", "weight_precision", "total_params_billions",
    "activated_params_billions",
)  # fmt: skip
_LLM_REQUIRED = (
    "model_id", "gpu_model", "num_gpus", "max_num_seqs", "output_throughput_tokens_per_sec",
    "median_itl_ms", "p90_itl_ms", "p95_itl_ms", "p99_itl_ms", "energy_per_token_joules",
)  # fmt: skip


def result_key(identity: dict[str, Any]) -> str:
    """A stable hash of what makes a run the same run (so a re-import is an upsert)."""
    blob = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:40]


def parse_task_file(path: Path, measured_at: datetime) -> list[dict[str, Any]]:
    """All configurations of one task file as `benchmark_results` rows.

    A file that is not valid JSON, or a configuration that lacks a required field, fails the
    whole file with a `DataFileError` naming the file and line.
    """
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
        task = document["task"]
        configurations = document["configurations"]
    except json.JSONDecodeError as error:
        raise DataFileError(path, error.lineno, f"invalid JSON: {error.msg}") from error
    except (KeyError, TypeError) as error:
        raise DataFileError(path, 1, f"missing top-level field {error}") from error
    lines = _config_lines(text, len(configurations))
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, config in enumerate(configurations):
        try:
            row = _parse_configuration(task, config, measured_at)
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
            raise DataFileError(path, lines[index], f"configuration {index}: {error!r}") from error
        # The same configuration measured twice is two results: keep both, numbered.
        repeat = seen.get(row["result_key"], 0)
        seen[row["result_key"]] = repeat + 1
        if repeat:
            row["config"]["repeat"] = repeat
            row["result_key"] = result_key({"key": row["result_key"], "repeat": repeat})
        rows.append(row)
    return rows


def parse_leaderboard(directory: Path) -> list[dict[str, Any]]:
    """Every task file of an ML.ENERGY export (`index.json` + `tasks/*.json`)."""
    index_path = directory / "index.json"
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        measured_at = datetime.fromisoformat(index["last_updated"]).replace(tzinfo=UTC)
    except json.JSONDecodeError as error:
        raise DataFileError(index_path, error.lineno, f"invalid JSON: {error.msg}") from error
    except (KeyError, ValueError) as error:
        raise DataFileError(index_path, 1, f"no usable last_updated: {error!r}") from error
    rows: list[dict[str, Any]] = []
    for path in sorted((directory / "tasks").glob("*.json")):
        rows.extend(parse_task_file(path, measured_at))
    return rows


def parse_models(directory: Path) -> list[dict[str, Any]]:
    """The benchmarked models as `models` rows (for models no registry source knows yet)."""
    index_path = directory / "index.json"
    try:
        models = json.loads(index_path.read_text(encoding="utf-8"))["models"]
    except (json.JSONDecodeError, KeyError) as error:
        raise DataFileError(index_path, getattr(error, "lineno", 1), repr(error)) from error
    rows = []
    for model_id, facts in sorted(models.items()):
        params = facts.get("total_params_billions")
        rows.append({
            "id": model_id,
            "source": SOURCE,
            "author": model_id.split("/")[0] if "/" in model_id else None,
            "num_parameters": round(float(params) * 1e9) if params else None,
            "extra": {k: facts[k] for k in _MODEL_FACTS if k in facts},
        })  # fmt: skip
    return rows


def _parse_configuration(task: str, c: dict[str, Any], measured_at: datetime) -> dict[str, Any]:
    is_llm = "output_throughput_tokens_per_sec" in c
    if is_llm:
        missing = [f for f in _LLM_REQUIRED if c.get(f) is None]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
    gpu = normalize_gpu_name(str(c["gpu_model"]))
    num_gpus = int(c["num_gpus"])
    if num_gpus < 1:
        raise ValueError(f"num_gpus must be >= 1, got {num_gpus}")
    config = {k: c[k] for k in (_LLM_CONFIG if is_llm else _DIFFUSION_CONFIG) if k in c}
    if "weight_precision" in c:
        config["weight_precision"] = c["weight_precision"]
    engine = "vllm" if is_llm else "diffusers"
    identity = {"source": SOURCE, "task": task, "model_id": c["model_id"], "gpu": gpu,
                "num_gpus": num_gpus, "config": config, "engine": engine}  # fmt: skip
    row: dict[str, Any] = {
        "result_key": result_key(identity),
        "measured_at": measured_at,
        "source": SOURCE,
        "task": task,
        "model_id": str(c["model_id"]),
        "model_revision": None,
        "gpu": gpu,
        "num_gpus": num_gpus,
        "engine": engine,
        "engine_version": None,
        "harness_version": "ml.energy-benchmark-v3",
        "config": config,
        "avg_power_watts": _float(c.get("avg_power_watts")),
        "extra": {k: c[k] for k in _MODEL_FACTS if k in c},
    }
    if is_llm:
        row.update(_llm_metrics(c, num_gpus))
    else:
        row.update(_diffusion_metrics(c, num_gpus))
    return row


def _llm_metrics(c: dict[str, Any], num_gpus: int) -> dict[str, Any]:
    throughput = _float(c["output_throughput_tokens_per_sec"])
    median_itl = _float(c["median_itl_ms"])
    return {
        "output_unit": "token",
        "concurrency": int(c["max_num_seqs"]),
        "output_len": _float(c.get("avg_output_len")),
        "output_throughput": throughput,
        "throughput_per_gpu": throughput / num_gpus,
        "tokens_per_s_per_user": 1000.0 / median_itl if median_itl else None,
        "itl_ms_p50": median_itl,
        "itl_ms_p90": _float(c["p90_itl_ms"]),
        "itl_ms_p95": _float(c["p95_itl_ms"]),
        "itl_ms_p99": _float(c["p99_itl_ms"]),
        "energy_per_output_j": _float(c["energy_per_token_joules"]),
        "metric_definitions": LLM_DEFINITIONS,
    }


def _diffusion_metrics(c: dict[str, Any], num_gpus: int) -> dict[str, Any]:
    unit = "image" if "throughput_images_per_sec" in c else "video"
    throughput = _float(c[f"throughput_{unit}s_per_sec"])
    return {
        "output_unit": unit,
        "concurrency": int(c["batch_size"]),
        "output_throughput": throughput,
        "throughput_per_gpu": throughput / num_gpus,
        "e2e_ms_p50": _float(c["batch_latency_s"]) * 1000.0,
        "energy_per_output_j": _float(c[f"energy_per_{unit}_joules"]),
        "metric_definitions": DIFFUSION_DEFINITIONS,
    }


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")) or number < 0:
        raise ValueError(f"not a finite non-negative number: {value!r}")
    return number


def _config_lines(text: str, count: int) -> list[int]:
    """1-based line where each configuration object starts, for error messages."""
    lines: list[int] = []
    depth, line, in_string, escaped = 0, 1, False, False
    for char in text:
        if char == "\n":
            line += 1
        elif in_string:
            escaped, in_string = (False, in_string) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            # Top-level object is depth 1, the configurations array depth 2, its items depth 3.
            if char == "{" and depth == 3:
                lines.append(line)
        elif char in "}]":
            depth -= 1
    return lines + [1] * (count - len(lines))
