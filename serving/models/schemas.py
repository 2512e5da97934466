"""Models: the listing entry, the model page, popularity."""

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from serving.schemas import UtcDatetime


class ModelPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["Qwen/Qwen3-14B"])
    source: str = Field(description="Registry the model came from")
    author: str | None
    pipeline_tag: str | None = Field(description="Task, as the registry names it")
    library_name: str | None
    license: str | None
    gated: bool
    private: bool
    num_parameters: int | None
    sha: str | None = Field(description="Registry revision")
    last_modified: UtcDatetime | None
    downloads: int | None = Field(description="Rolling 30-day downloads (Hub semantics)")
    likes: int | None
    tags: list[str]
    base_models: list[str]
    first_seen: UtcDatetime
    updated_at: UtcDatetime
    removed_at: UtcDatetime | None = Field(description="When the registry stopped listing it")


class ModelsPublic(BaseModel):
    data: list[ModelPublic]
    count: int = Field(
        description="Matching models, before paging: exact up to 10,000, else an estimate"
    )
    count_is_estimate: bool = Field(
        description="`count` is the planner's estimate (more than 10,000 models match)"
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page, with the same filters and sort; "
        "null on the last page"
    )


class BenchmarkSummary(BaseModel):
    """One task on one GPU, over the latest measurement of each configuration."""

    model_config = ConfigDict(from_attributes=True)

    task: str
    gpu: str
    output_unit: str = Field(description="token | image | video")
    configurations: int = Field(description="Distinct measured configurations")
    best_throughput_per_gpu: float | None = Field(description="Output units/s per GPU")
    itl_ms_p95_min: float | None
    itl_ms_p95_max: float | None
    last_measured_at: UtcDatetime


class ModelPage(ModelPublic):
    extra: dict[str, Any]
    benchmarks_summary: list[BenchmarkSummary]


class PopularityPoint(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    date: dt.date
    downloads: int | None
    likes: int | None
    trending_rank: int | None


class PopularityPublic(BaseModel):
    model_id: str
    points: list[PopularityPoint]
