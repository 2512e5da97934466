"""The recommendation payloads, for OpenAPI only.

The pipeline owns these payloads (assets/recommendations): the API serves the stored bytes as
they are and never validates them against these classes (that would cost a parse per request).
`extra="allow"` keeps the documentation honest when the pipeline adds a field.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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
