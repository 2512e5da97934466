"""The recommendation payloads, for OpenAPI only.

The pipeline owns these payloads (assets/recommendations): the API serves the stored bytes as
they are and never validates them against these classes (that would cost a parse per request).
`extra="allow"` keeps the documentation honest when the pipeline adds a field. The ad-hoc query's
body (`RankingQuery`) is the one input here, and it is validated strictly.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assets.recommendations.criteria import CRITERIA
from serving.schemas import Text

_OPEN = ConfigDict(extra="allow")


class Candidate(BaseModel):
    """One measured configuration: a model on a number of GPUs."""

    model_config = _OPEN

    result_key: str = Field(description="The benchmark result it comes from")
    model_id: str
    gpu: str
    num_gpus: int


class RankingItem(Candidate):
    rank: int
    score: float = Field(description="TOPSIS closeness, 0..1")
    margin_to_next: float | None = None
    values: dict[str, float | None] = Field(description="Every criterion's value")
    missing: list[str] = Field([], description="Used criteria it has no value for")
    contributions: dict[str, float] = Field(description="Each used criterion's share")
    rank_stability: dict[str, Any] | None = Field(None, description="Ranks under perturbation")
    provenance: dict[str, Any] | None = Field(None, description="Measured or imported, how")
    config: dict[str, Any] | None = None


class RankingPublic(BaseModel):
    """A precomputed ranking for one task, GPU (or `any`) and profile."""

    model_config = _OPEN

    task: str
    gpu: str
    profile: str
    output_unit: str | None = None
    weights: dict[str, float] = {}
    items: list[RankingItem]
    criteria: list[dict[str, Any]] = []
    dropped_criteria: list[dict[str, Any]] = []


class Axis(BaseModel):
    model_config = _OPEN

    name: str
    unit: str
    direction: str = Field(description="benefit | cost")


class ParetoPoint(Candidate):
    x: float
    y: float


class ParetoPublic(BaseModel):
    """A precomputed Pareto front for one task and GPU (or `any`) over two axes."""

    model_config = _OPEN

    task: str
    gpu: str
    output_unit: str | None = None
    x: Axis
    y: Axis
    front: list[ParetoPoint]
    dominated: list[ParetoPoint] = []
    missing: int = Field(0, description="Candidates without a value on x or y")


class QueryConstraints(BaseModel):
    """Hard limits for an ad-hoc ranking; a candidate missing a limited value is excluded."""

    model_config = ConfigDict(extra="forbid")

    max_latency_p95_ms: float | None = Field(None, gt=0, allow_inf_nan=False)
    max_ttft_p95_ms: float | None = Field(None, gt=0, allow_inf_nan=False)
    max_cost_per_million: float | None = Field(None, gt=0, allow_inf_nan=False)
    max_memory_gb: float | None = Field(None, gt=0, allow_inf_nan=False)
    min_quality: float | None = Field(None, gt=0, allow_inf_nan=False)
    licenses: list[Annotated[Text, Field(min_length=1, max_length=64)]] | None = Field(
        None, max_length=100
    )
    pricing: Literal["spot", "on_demand"] = "spot"


class RankingQuery(BaseModel):
    """An ad-hoc ranking: your own weights and limits over the active version's candidates."""

    model_config = ConfigDict(extra="forbid")

    task: Text = Field(min_length=1, max_length=64, examples=["lm-arena-chat"])
    gpus: list[Annotated[Text, Field(min_length=1, max_length=64)]] | None = Field(
        None, min_length=1, max_length=50, description="None: every GPU of the task"
    )
    weights: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        examples=[{"throughput_per_gpu": 1.0, "latency_p95_ms": 1.0}],
        description=f"Criterion -> weight (>= 0, one at least > 0); criteria: {sorted(CRITERIA)}",
        # What `_known_and_positive` checks, in the OpenAPI document too: known criteria only,
        # one of them weighted above 0 (as `anyOf`, which generators can satisfy directly).
        json_schema_extra={
            "propertyNames": {"enum": sorted(CRITERIA)},
            "anyOf": [
                {"required": [name], "properties": {name: {"exclusiveMinimum": 0}}}
                for name in sorted(CRITERIA)
            ],
        },
    )
    constraints: QueryConstraints = QueryConstraints()
    top_k: int = Field(20, ge=1, le=200)
    stability_draws: int = Field(100, ge=0, le=500)

    @field_validator("weights")
    @classmethod
    def _known_and_positive(cls, weights: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(weights) - set(CRITERIA))
        if unknown:
            raise ValueError(f"unknown criteria {unknown}; known: {sorted(CRITERIA)}")
        if not any(w > 0 for w in weights.values()):
            raise ValueError("at least one weight must be greater than 0")
        return weights


class RankingQueryPublic(BaseModel):
    """An ad-hoc ranking, shaped like a precomputed one, with what the limits excluded."""

    model_config = _OPEN

    task: str
    gpus: list[str] = Field(description="The GPUs ranked over")
    weights: dict[str, float]
    items: list[RankingItem]
    criteria: list[dict[str, Any]] = []
    dropped_criteria: list[dict[str, Any]] = []
    feasible: int = Field(description="Candidates that meet every limit")
    candidates: int = Field(description="Candidates of the task on those GPUs")
    excluded: list[dict[str, Any]] = Field([], description="What each limit removed")
    stability: dict[str, Any] = {}
