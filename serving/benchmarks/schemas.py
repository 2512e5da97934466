"""Benchmark results as the API shows them: metrics, provenance and cost."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from serving.schemas import UtcDatetime


class Provenance(BaseModel):
    """Where a number came from and which definition it follows (DESIGN §5)."""

    model_config = ConfigDict(from_attributes=True)

    source: str = Field(description="own | mlenergy-v3 | optimum-benchmark | ...")
    engine: str | None
    engine_version: str | None
    harness_version: str | None
    model_revision: str | None
    measured_at: UtcDatetime
    metric_definitions: dict[str, Any]


class CostPublic(BaseModel):
    """Cost of the result at the prices of a window, on-demand and spot."""

    model_config = ConfigDict(from_attributes=True)

    price_window_end: UtcDatetime
    on_demand_usd_per_gpu_hour: float
    on_demand_usd_per_gpu_hour_p90: float
    spot_usd_per_gpu_hour: float
    usd_per_million_on_demand: float | None
    usd_per_million_spot: float | None
    spot_saving_pct: float | None
    price_source: str


class BenchmarkPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    result_key: str
    task: str
    model_id: str
    gpu: str
    num_gpus: int
    config: dict[str, Any]
    concurrency: int | None
    input_len: float | None
    output_len: float | None
    output_unit: str
    output_throughput: float | None = Field(description="Output units/s, whole system")
    throughput_per_gpu: float | None
    tokens_per_s_per_user: float | None
    ttft_ms_p50: float | None
    ttft_ms_p90: float | None
    ttft_ms_p95: float | None
    ttft_ms_p99: float | None
    tpot_ms_p50: float | None
    tpot_ms_p90: float | None
    tpot_ms_p95: float | None
    tpot_ms_p99: float | None
    itl_ms_p50: float | None
    itl_ms_p90: float | None
    itl_ms_p95: float | None
    itl_ms_p99: float | None
    e2e_ms_p50: float | None
    e2e_ms_p90: float | None
    e2e_ms_p95: float | None
    e2e_ms_p99: float | None
    peak_memory_gb: float | None
    energy_per_output_j: float | None
    avg_power_watts: float | None
    extra: dict[str, Any]
    provenance: Provenance
    cost: CostPublic | None = Field(description="Absent until the cost model has priced it")


class BenchmarksPublic(BaseModel):
    data: list[BenchmarkPublic]
    count: int = Field(description="Total matching results, before limit/offset")
