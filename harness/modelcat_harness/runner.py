"""One benchmark run: engine, telemetry, metrics, raw records, and the result to report."""

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from modelcat_harness import __version__
from modelcat_harness.artifacts import records_name, write_records
from modelcat_harness.engines import EngineRun, Window, run_engine
from modelcat_harness.job import Job
from modelcat_harness.metrics import DEFINITIONS, aggregate, consistency_problems, counts
from modelcat_harness.telemetry import GpuTelemetry, host, process_peak_rss_gb
from modelcat_harness.timing import record

REQUESTS_CHECK = "harness_requests_succeeded"
CONSISTENCY_CHECK = "harness_metrics_consistent"


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Report:
    result: dict[str, Any]  # the `benchmark_result`: `benchmark_results` column names
    checks: tuple[Check, ...]


def run_benchmark(job: Job, log: logging.Logger, independent_check: bool = False) -> Report:
    telemetry = GpuTelemetry.open(job.gpu, job.num_gpus)
    if telemetry.reason:
        log.info(f"no GPU telemetry: {telemetry.reason}")
    window = Window(telemetry)
    run = run_engine(job, window, log, independent_check=independent_check)
    duration = window.duration_s
    columns = aggregate(run.timings, duration, job.num_gpus)
    tally = counts(run.timings, duration)
    name = records_name(job.model_id, window.measured_at or "", uuid.uuid4().hex[:8])
    raw_uri = write_records(
        (record(t, window.start or 0.0) for t in run.timings),
        job.artifacts_uri,
        name,
        job.s3_endpoint_url,
    )
    log.info(f"raw records: {raw_uri}")
    memory = _memory(run, telemetry)
    energy = _energy(telemetry, tally["output_tokens"], duration)
    result = {
        "task": job.task,
        "model_id": job.model_id,
        "model_revision": job.revision,
        "gpu": job.gpu,
        "num_gpus": job.num_gpus,
        "engine": job.engine,
        "engine_version": run.engine_version,
        "harness_version": __version__,
        "config": job.config(),
        "concurrency": job.concurrency,
        "input_len": job.input_len,
        "output_len": job.output_len,
        "output_unit": "token",
        **columns,
        "peak_memory_gb": memory["peak_memory_gb"],
        "energy_per_output_j": energy["energy_per_output_j"],
        "avg_power_watts": energy["avg_power_watts"],
        "metric_definitions": DEFINITIONS
        | {"peak_memory_gb": memory["definition"], "energy": energy["definition"]},
        "extra": {
            "hardware": {"host": host(), "gpus": telemetry.hardware(), "device": run.device},
            "memory": memory,
            "energy": energy,
            "requests": tally,
            "raw_records_uri": raw_uri,
            **run.extra,
        },
        "measured_at": window.measured_at,
    }
    problems = consistency_problems(run.timings, columns, duration, job.output_len)
    checks = (
        Check(
            REQUESTS_CHECK,
            passed=tally["requests_failed"] == 0 and tally["requests_total"] == job.num_requests,
            metadata={
                k: tally[k] for k in ("requests_total", "requests_succeeded", "requests_failed")
            }
            | {"requests_expected": job.num_requests, "first_errors": tally["first_errors"]},
        ),
        Check(CONSISTENCY_CHECK, passed=not problems, metadata={"problems": problems}),
    )
    return Report(result, checks)


def _memory(run: EngineRun, telemetry: GpuTelemetry) -> dict[str, Any]:
    """All memory figures, and which one `peak_memory_gb` holds (device first, else process)."""
    figures: dict[str, Any] = {
        "process_peak_rss_gb": process_peak_rss_gb(),
        "device_peak_used_gb": telemetry.peak_used_gb(),
        "torch_cuda_max_allocated_gb": run.extra.pop("torch_cuda_max_allocated_gb", None),
        "torch_cuda_max_reserved_gb": run.extra.pop("torch_cuda_max_reserved_gb", None),
    }
    if figures["device_peak_used_gb"] is not None:
        figures["peak_memory_gb"] = figures["device_peak_used_gb"]
        figures["definition"] = (
            "device memory used (NVML, all GPUs of the run summed, sampled every 0.1 s over the "
            "measured window, includes the CUDA context and any other process on the GPUs) (GB)"
        )
    elif figures["torch_cuda_max_reserved_gb"] is not None:
        figures["peak_memory_gb"] = figures["torch_cuda_max_reserved_gb"]
        figures["definition"] = "torch CUDA allocator peak reserved memory (no NVML) (GB)"
    elif run.device == "client":
        # The model lives in the server process: the client's own memory says nothing about it.
        figures["peak_memory_gb"] = None
        figures["definition"] = "not measured: client mode without NVML sees no server memory"
    else:
        figures["peak_memory_gb"] = figures["process_peak_rss_gb"]
        figures["definition"] = "peak resident memory of the harness process (no GPU) (GB)"
    return figures


def _energy(telemetry: GpuTelemetry, output_tokens: int, duration_s: float) -> dict[str, Any]:
    joules = telemetry.energy_j
    if joules is None:
        reason = telemetry.reason or "no energy reading"
        return {
            "energy_per_output_j": None,
            "avg_power_watts": None,
            "energy_j": None,
            "reason": reason,
            "definition": f"not measured: {reason}",
        }
    return {
        "energy_per_output_j": joules / output_tokens if output_tokens else None,
        "avg_power_watts": joules / duration_s if duration_s > 0 else None,
        "energy_j": joules,
        "window_s": duration_s,
        "definition": "NVML total-energy counter difference over the measured window, all GPUs "
        "of the run: J per output token, and average W = J / window seconds",
    }
