"""modelcat_harness.reporting: what goes through Pipes, in the types Pipes accepts."""

from modelcat_harness.reporting import materialization_metadata, report_to_pipes
from modelcat_harness.runner import CONSISTENCY_CHECK, REQUESTS_CHECK, Check, Report

RESULT = {
    "engine": "transformers", "engine_version": "5.24.0", "harness_version": "0.1.0",
    "concurrency": 4, "output_throughput": 120.5, "throughput_per_gpu": 120.5,
    "tokens_per_s_per_user": 30.0, "ttft_ms_p50": 12.0, "ttft_ms_p99": 20.0,
    "tpot_ms_p50": 3.0, "tpot_ms_p99": 4.0, "itl_ms_p50": 3.1, "itl_ms_p99": 4.2,
    "e2e_ms_p50": 200.0, "e2e_ms_p99": 250.0, "peak_memory_gb": 1.5,
    "energy_per_output_j": None, "avg_power_watts": None,
    "extra": {"requests": {"requests_succeeded": 8}, "raw_records_uri": "file:///tmp/r.jsonl.gz"},
}  # fmt: skip
REPORT = Report(
    RESULT,
    (Check(REQUESTS_CHECK, True, {"requests_failed": 0}), Check(CONSISTENCY_CHECK, False, {})),
)


def test_the_whole_result_and_flat_scalars_are_reported() -> None:
    metadata = materialization_metadata(REPORT)
    assert metadata["benchmark_result"] == {"raw_value": RESULT, "type": "json"}
    assert metadata["output_throughput"] == {"raw_value": 120.5, "type": "float"}
    assert metadata["energy_per_output_j"] == {"raw_value": None, "type": "null"}
    assert metadata["engine"]["raw_value"] == "transformers 5.24.0"
    assert metadata["raw_records_uri"]["type"] == "url"


class _Recorder:
    """Records the calls `report_to_pipes` makes on a PipesContext."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def report_asset_materialization(self, **kwargs) -> None:
        self.calls.append(("materialization", kwargs))

    def report_asset_check(self, **kwargs) -> None:
        self.calls.append(("check", kwargs))


def test_one_materialization_then_both_checks() -> None:
    pipes = _Recorder()
    report_to_pipes(pipes, REPORT)
    kinds = [(kind, kwargs.get("check_name"), kwargs.get("passed")) for kind, kwargs in pipes.calls]
    assert kinds == [
        ("materialization", None, None),
        ("check", "harness_requests_succeeded", True),
        ("check", "harness_metrics_consistent", False),
    ]
