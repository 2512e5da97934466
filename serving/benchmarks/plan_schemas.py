"""The benchmark plan as the API shows it: what runs next, why, and what it should cost."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assets.benchmarks.plan import Status as PlanStatus
from serving.schemas import UtcDatetime


class PlanItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rank: int = Field(description="1 = run first (most downloaded)")
    model_id: str
    revision: str | None = Field(description="Hub revision (sha) the run will measure")
    gpu: str = Field(description="Canonical GPU name")
    num_gpus: int
    config: dict[str, Any]
    config_key: str
    reason: str = Field(examples=["never measured", "new revision 1a2b3c -> 4d5e6f"])
    status: PlanStatus
    note: str = Field(description="Why an item is deferred, unplannable or given up")
    downloads: int | None
    estimate_basis: str = Field(examples=["past run", "roofline heuristic"])
    est_gpu_hours: float | None
    est_usd_spot: float | None = Field(description="At the spot price: what is launched")
    est_usd_on_demand: float | None = Field(description="If the run falls back to on-demand")
    planned_at: UtcDatetime


class PlanPublic(BaseModel):
    data: list[PlanItemPublic]
    count: int = Field(description="Items matching the filter, before limit")
    planned_gpu_hours: float = Field(description="Sum over items with status planned")
    planned_usd_spot: float
    planned_usd_on_demand: float
