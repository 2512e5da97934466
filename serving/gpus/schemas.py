"""GPUs: spec-sheet facts and the recent on-demand price."""

from pydantic import BaseModel, ConfigDict, Field

from serving.schemas import UtcDatetime


class GpuPricePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    on_demand_usd_per_gpu_hour_p50: float = Field(description="Median over the window")
    observations: int
    window_start: UtcDatetime
    window_end: UtcDatetime = Field(description="Newest price observation of any GPU")


class GpuPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str = Field(examples=["H100"])
    vendor: str
    memory_gb: float
    memory_bandwidth_gbps: float | None = Field(description="GB/s; absent where not published")
    bf16_dense_tflops: float | None
    fp8_dense_tflops: float | None
    tdp_watts: float | None
    aliases: list[str]
    price: GpuPricePublic | None = Field(description="Absent when no recent on-demand price")


class GpusPublic(BaseModel):
    data: list[GpuPublic]
    count: int
