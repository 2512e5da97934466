"""Engines: each runs a job's requests and returns their timings inside a measured window.

Engines import their inference stack lazily, so the client mode runs without torch installed.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from time import perf_counter
from typing import Any

from modelcat_harness.job import Job
from modelcat_harness.telemetry import GpuTelemetry
from modelcat_harness.timing import RequestTiming


class Window:
    """The measured (steady-state) phase: after warm-up, around the measured requests only.

    Energy and the memory sampler run exactly over it, so J/token divides the energy of the
    same work that produced the tokens.
    """

    def __init__(self, telemetry: GpuTelemetry) -> None:
        self.telemetry = telemetry
        self.start: float | None = None
        self.end: float | None = None
        self.measured_at: str | None = None

    def open(self) -> None:
        self.telemetry.start()
        self.measured_at = datetime.now(UTC).isoformat()
        self.start = perf_counter()

    def close(self) -> None:
        self.end = perf_counter()
        self.telemetry.stop()

    @property
    def duration_s(self) -> float:
        if self.start is None or self.end is None:
            raise RuntimeError("the measured window was never opened and closed")
        return self.end - self.start


@dataclass
class EngineRun:
    timings: list[RequestTiming]
    engine_version: str | None
    device: str
    # Engine facts for `extra`: batching mode, parameter count, allocator peaks, server info.
    extra: dict[str, Any] = field(default_factory=dict)


def run_engine(
    job: Job, window: Window, log: logging.Logger, independent_check: bool = False
) -> EngineRun:
    if job.engine == "transformers":
        from modelcat_harness.engines.hf import run
    else:
        from modelcat_harness.engines.openai_client import run
    return run(job, window, log, independent_check=independent_check)
