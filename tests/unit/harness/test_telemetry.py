"""modelcat_harness.telemetry: GPU figures are None with a reason where there is no NVML."""

import pytest
from modelcat_harness.telemetry import GpuTelemetry, _visible, process_peak_rss_gb


def test_a_cpu_run_has_no_gpu_figures_and_says_why() -> None:
    telemetry = GpuTelemetry.open("CPU", 1)
    telemetry.start()
    telemetry.stop()
    assert not telemetry.available
    assert telemetry.energy_j is None and telemetry.peak_used_gb() is None
    assert "CPU" in telemetry.reason


def test_a_gpu_run_without_a_driver_says_why() -> None:
    """This machine has nvidia-ml-py but no NVIDIA driver: NVML's init fails, with its reason."""
    telemetry = GpuTelemetry.open("H100-SXM5-80GB", 1)
    if telemetry.available:
        pytest.skip("an NVIDIA driver is present here")
    assert telemetry.reason.startswith("NVML unavailable")


class _Nvml:
    @staticmethod
    def nvmlDeviceGetCount() -> int:
        return 8


def test_visible_gpus_follow_cuda_visible_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert _visible(_Nvml, 2) == [0, 1]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,GPU-abc")
    assert _visible(_Nvml, 2) == [3, "GPU-abc"]
    with pytest.raises(RuntimeError, match="3 GPU"):
        _visible(_Nvml, 3)


def test_process_peak_rss_is_positive() -> None:
    assert process_peak_rss_gb() > 0
