"""GPU power, energy and memory through NVML, and the process's own peak memory.

NVML is optional (the `nvml` extra). Where it is missing, or the run is on CPU, every GPU
figure is None and `reason` says why, so a stored NULL is never mistaken for a zero.
"""

import os
import platform
import resource
import threading
from typing import Any

SAMPLE_INTERVAL_S = 0.1


class GpuTelemetry:
    """NVML handles of the GPUs a run uses, an energy window and a sampled memory peak."""

    def __init__(self, handles: list[Any], nvml: Any) -> None:
        self._handles = handles
        self._nvml = nvml
        self._peak_used = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="nvml-sampler", daemon=True)
        self._energy_start: int | None = None
        self.energy_j: float | None = None
        self.reason: str | None = None

    @classmethod
    def open(cls, gpu: str, num_gpus: int) -> "GpuTelemetry":
        """Telemetry for the run's GPUs, or an empty one whose `reason` says why there is none."""
        if gpu.upper() == "CPU":
            return cls.unavailable("the run is on CPU: NVML measures GPUs only")
        try:
            import pynvml  # the `nvml` extra (nvidia-ml-py)

            pynvml.nvmlInit()
            handles = [_handle(pynvml, ref) for ref in _visible(pynvml, num_gpus)]
        except Exception as error:  # noqa: BLE001 - any NVML failure means "no GPU figures"
            return cls.unavailable(f"NVML unavailable: {type(error).__name__}: {error}")
        return cls(handles, pynvml)

    @classmethod
    def unavailable(cls, reason: str) -> "GpuTelemetry":
        telemetry = cls([], None)
        telemetry.reason = reason
        return telemetry

    @property
    def available(self) -> bool:
        return bool(self._handles)

    def start(self) -> None:
        """Start sampling memory and open the energy window (call after warm-up)."""
        if not self.available:
            return
        self._sampler.start()
        try:
            self._energy_start = self._energy_mj()
        except Exception as error:  # noqa: BLE001 - pre-Volta GPUs have no energy counter
            self.reason = f"NVML energy counter unsupported: {error}"

    def stop(self) -> None:
        """Close the energy window and stop sampling."""
        if not self.available:
            return
        if self._energy_start is not None:
            self.energy_j = (self._energy_mj() - self._energy_start) / 1000
        self._stop.set()
        self._sampler.join(timeout=5)
        self._read_memory()

    def peak_used_gb(self) -> float | None:
        return self._peak_used / 1e9 if self.available else None

    def hardware(self) -> list[dict[str, Any]]:
        nvml = self._nvml
        return [
            {
                "name": nvml.nvmlDeviceGetName(h),
                "uuid": nvml.nvmlDeviceGetUUID(h),
                "memory_total_gb": nvml.nvmlDeviceGetMemoryInfo(h).total / 1e9,
                "driver": nvml.nvmlSystemGetDriverVersion(),
            }
            for h in self._handles
        ]

    def _energy_mj(self) -> int:
        return sum(self._nvml.nvmlDeviceGetTotalEnergyConsumption(h) for h in self._handles)

    def _read_memory(self) -> None:
        used = sum(self._nvml.nvmlDeviceGetMemoryInfo(h).used for h in self._handles)
        self._peak_used = max(self._peak_used, used)

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            self._read_memory()


def _visible(pynvml: Any, num_gpus: int) -> list[str | int]:
    """The GPUs this process may use: CUDA_VISIBLE_DEVICES if set (indices or UUIDs), else 0..n-1.

    NVML ignores CUDA_VISIBLE_DEVICES, so without this a shared node would meter its neighbours.
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    refs: list[str | int] = (
        [int(x) if x.strip().isdigit() else x.strip() for x in visible.split(",") if x.strip()]
        if visible
        else list(range(pynvml.nvmlDeviceGetCount()))
    )
    if len(refs) < num_gpus:
        raise RuntimeError(f"{num_gpus} GPU(s) asked, {len(refs)} visible")
    return refs[:num_gpus]


def _handle(pynvml: Any, ref: str | int) -> Any:
    if isinstance(ref, int):
        return pynvml.nvmlDeviceGetHandleByIndex(ref)
    return pynvml.nvmlDeviceGetHandleByUUID(ref)


def process_peak_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def host() -> dict[str, Any]:
    return {
        "hostname": platform.node(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
