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
    planned_gpu_hours: float = Field(description="Sum over matching items with status planned")
    planned_usd_spot: float
    planned_usd_on_demand: float
    # The caps stored with the plan when it was made (not today's settings); null before the
    # first plan. They cover the whole plan, whatever the filter.
    planned_at: UtcDatetime | None = Field(description="When the current plan was made")
    budget_gpu_hours: float | None = Field(description="The plan's GPU-hour cap")
    budget_usd: float | None = Field(description="The plan's dollar cap, at spot prices")
    budget_gpu_hours_per_run: float | None = Field(description="The cap on one run's GPU-hours")
    budget_usd_per_run: float | None = Field(description="The cap on one run's spot cost")
