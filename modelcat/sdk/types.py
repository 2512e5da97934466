"""What the API returns, as typed models: one class per response schema of `serving/`.

They mirror the server's Pydantic schemas without importing them, so the SDK needs nothing of the
server (a unit test keeps the field names in step). Every class keeps fields it does not know
(`extra="allow"`): a server newer than the SDK must not break it or lose data on `model_dump`.
"""

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- models ---------------------------------------------------------------------------------


class Model(Schema):
    id: str
    source: str
    author: str | None
    pipeline_tag: str | None
    library_name: str | None
    license: str | None
    gated: bool
    private: bool
    num_parameters: int | None
    sha: str | None
    last_modified: dt.datetime | None
    downloads: int | None
    likes: int | None
    tags: list[str]
    base_models: list[str]
    first_seen: dt.datetime
    updated_at: dt.datetime
    removed_at: dt.datetime | None


class ModelsPage(Schema):
    data: list[Model]
    count: int
    count_is_estimate: bool
    next_cursor: str | None


class BenchmarkSummary(Schema):
    task: str
    gpu: str
    output_unit: str
    configurations: int
    best_throughput_per_gpu: float | None
    itl_ms_p95_min: float | None
    itl_ms_p95_max: float | None
    last_measured_at: dt.datetime


class BaseModelLink(Schema):
    id: str
    # adapter | finetune | merge | quantized (plain text: a newer server may add one); None:
    # the registry names the base without saying how.
    relation: str | None
    in_catalog: bool


class ChildModel(Schema):
    id: str
    relation: str | None
    pipeline_tag: str | None
    downloads: int | None


class Lineage(Schema):
    base_models: list[BaseModelLink]
    children: list[ChildModel]  # the most downloaded; `children_count` counts them all
    children_count: int


class ModelDetail(Model):
    """A model's page: its metadata, lineage and a benchmark summary per task and GPU."""

    extra: dict[str, Any]
    lineage: Lineage
    benchmarks_summary: list[BenchmarkSummary]


class PopularityPoint(Schema):
    date: dt.date
    downloads: int | None
    likes: int | None
    trending_rank: int | None


class Popularity(Schema):
    model_id: str
    points: list[PopularityPoint]


# -- benchmarks ------------------------------------------------------------------------------


class Provenance(Schema):
    source: str
    engine: str | None
    engine_version: str | None
    harness_version: str | None
    model_revision: str | None
    measured_at: dt.datetime
    metric_definitions: dict[str, Any]


class Cost(Schema):
    price_window_end: dt.datetime
    on_demand_usd_per_gpu_hour: float
    on_demand_usd_per_gpu_hour_p90: float
    spot_usd_per_gpu_hour: float
    usd_per_million_on_demand: float | None
    usd_per_million_spot: float | None
    spot_saving_pct: float | None
    price_source: str


class Benchmark(Schema):
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
    output_throughput: float | None
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
    cost: Cost | None


class Benchmarks(Schema):
    data: list[Benchmark]
    count: int


class BenchmarkRequest(Schema):
    id: str
    status: str
    model_id: str
    gpu: str
    config: dict[str, Any]
    requested_by: str
    note: str
    queued_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    error: str | None = None
    links: dict[str, str]


class BenchmarkRequestAccepted(BenchmarkRequest):
    deduplicated: bool


# -- GPUs ------------------------------------------------------------------------------------


class GpuPrice(Schema):
    on_demand_usd_per_gpu_hour_p50: float
    observations: int
    window_start: dt.datetime
    window_end: dt.datetime


class Gpu(Schema):
    name: str
    vendor: str
    memory_gb: float
    memory_bandwidth_gbps: float | None
    bf16_dense_tflops: float | None
    fp8_dense_tflops: float | None
    tdp_watts: float | None
    aliases: list[str]
    price: GpuPrice | None


class Gpus(Schema):
    data: list[Gpu]
    count: int


# -- recommendations -------------------------------------------------------------------------


class Candidate(Schema):
    result_key: str
    model_id: str
    gpu: str
    num_gpus: int


class RankingItem(Candidate):
    rank: int
    score: float
    margin_to_next: float | None = None
    values: dict[str, float | None]
    missing: list[str] = []
    contributions: dict[str, float]
    rank_stability: dict[str, Any] | None = None
    provenance: dict[str, Any] | None = None
    config: dict[str, Any] | None = None


class Ranking(Schema):
    task: str
    gpu: str
    profile: str
    output_unit: str | None = None
    weights: dict[str, float] = {}
    items: list[RankingItem]
    criteria: list[dict[str, Any]] = []
    dropped_criteria: list[dict[str, Any]] = []


class Axis(Schema):
    name: str
    unit: str
    direction: str


class ParetoPoint(Candidate):
    x: float
    y: float


class Pareto(Schema):
    task: str
    gpu: str
    output_unit: str | None = None
    x: Axis
    y: Axis
    front: list[ParetoPoint]
    dominated: list[ParetoPoint] = []
    missing: int = 0


class QueryConstraints(BaseModel):
    """Hard limits for `query_recommendations`; None leaves a limit off."""

    model_config = ConfigDict(extra="forbid")

    max_latency_p95_ms: float | None = None
    max_ttft_p95_ms: float | None = None
    max_cost_per_million: float | None = None
    max_memory_gb: float | None = None
    min_quality: float | None = None
    licenses: list[str] | None = None
    pricing: Literal["spot", "on_demand"] = "spot"


class QueryRanking(Schema):
    """An ad-hoc ranking, with how many candidates the limits left and what each removed."""

    task: str
    gpus: list[str]
    weights: dict[str, float]
    items: list[RankingItem]
    criteria: list[dict[str, Any]] = []
    dropped_criteria: list[dict[str, Any]] = []
    feasible: int
    candidates: int
    excluded: list[dict[str, Any]] = []
    stability: dict[str, Any] = {}


# -- analytics -------------------------------------------------------------------------------


class TrendingModel(Schema):
    model_id: str
    task: str | None
    first_date: dt.date
    first_value: int
    last_date: dt.date
    last_value: int
    growth: int
    growth_pct: float | None


class Trending(Schema):
    metric: str
    rank_by: str
    window_start: dt.date | None
    window_end: dt.date | None
    data: list[TrendingModel]


class MetricPoint(Schema):
    measured_at: dt.datetime
    value: float


class Configuration(Schema):
    result_key: str
    model_id: str
    task: str
    gpu: str
    num_gpus: int
    engine: str | None
    config: dict[str, Any]


class ConfigurationTrend(Configuration):
    points: list[MetricPoint]
    change: float
    change_pct: float | None


class MetricTrends(Schema):
    model_id: str
    metric: str
    unit: str
    higher_is_worse: bool
    data: list[ConfigurationTrend]


class Regression(Configuration):
    metric: str
    unit: str
    latest_value: float
    latest_at: dt.datetime
    baseline_value: float
    baseline_runs: int
    previous_at: dt.datetime
    change_pct: float


class Regressions(Schema):
    threshold_pct: float
    baseline: str
    window: int
    data: list[Regression]
    count: int


# -- health and auth -------------------------------------------------------------------------


class Health(Schema):
    status: str
    database: bool
    redis: bool
    version: str | None


class Ready(Schema):
    status: str
    database: bool
    redis: bool
    down: list[str]
    version: str | None
    published_at: dt.datetime | None
    data_age_s: float | None


class Token(Schema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    scope: str
