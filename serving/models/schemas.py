"""Models: the listing entry, the model page (with its lineage), popularity."""

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from serving.models.lineage import CHILDREN_SHOWN
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


Relation = Literal["adapter", "finetune", "merge", "quantized"]


class BaseModelLink(BaseModel):
    id: str = Field(examples=["Qwen/Qwen3-14B-Base"])
    relation: Relation | None = Field(
        description="How this model derives from it, as the registry tags it; null: not stated"
    )
    in_catalog: bool = Field(description="The catalog has a page for it (it may be removed)")


class ChildModel(BaseModel):
    id: str = Field(examples=["Qwen/Qwen3-14B-AWQ"])
    relation: Relation | None = Field(
        description="How it derives from this model, as the registry tags it; null: not stated"
    )
    pipeline_tag: str | None
    downloads: int | None


class Lineage(BaseModel):
    base_models: list[BaseModelLink] = Field(description="The models this one derives from")
    children: list[ChildModel] = Field(
        description=f"Listed models deriving from this one (fine-tunes, quantizations, adapters, "
        f"merges): the {CHILDREN_SHOWN} most downloaded"
    )
    children_count: int = Field(description="All listed children, shown or not")


class ModelPage(ModelPublic):
    extra: dict[str, Any]
    lineage: Lineage
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
