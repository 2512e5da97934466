"""The catalog's tables (SQLAlchemy 2.0, PostgreSQL dialect).

Every table has a natural key, and every write is an upsert on it, so re-running an asset never
duplicates a row. Time-series tables carry their time column in the primary key.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _brin(table: str, column: str) -> Index:
    """The time-series tables' BRIN index on their time column (migration 0007, both layouts):
    rows arrive in time order, so each block range's min/max lets a time-window scan skip most
    of a partition or chunk, for a few pages of index."""
    return Index(f"ix_{table}_{column}_brin", column, postgresql_using="brin")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSONB, list[str]: ARRAY(Text)}


class MlModel(Base):
    """One ML model from a registry (the Hub, a private Hub, a manifest)."""

    __tablename__ = "models"

    id: Mapped[str] = mapped_column(String(512), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    author: Mapped[str | None] = mapped_column(String(256))
    pipeline_tag: Mapped[str | None] = mapped_column(String(128))
    library_name: Mapped[str | None] = mapped_column(String(128))
    license: Mapped[str | None] = mapped_column(String(128))
    gated: Mapped[bool] = mapped_column(Boolean, default=False)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    num_parameters: Mapped[int | None] = mapped_column(BigInteger)
    sha: Mapped[str | None] = mapped_column(String(64))
    last_modified: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    downloads: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(default=list)
    base_models: Mapped[list[str]] = mapped_column(default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # The listing's indexes (migration 0003): each sort is a (column, id) index read forwards or
    # backwards; the filters people combine with the default sort lead their own index. Every
    # index costs each upsert that changes `downloads`, so rarer combinations filter on these.
    __table_args__ = (
        Index("ix_models_downloads_id", "downloads", "id"),
        Index("ix_models_likes_id", "likes", "id"),
        Index("ix_models_last_modified_id", "last_modified", "id"),
        Index("ix_models_pipeline_tag_downloads_id", "pipeline_tag", "downloads", "id"),
        Index("ix_models_author_downloads_id", "author", "downloads", "id"),
        Index("ix_models_license_downloads_id", "license", "downloads", "id"),
        Index("ix_models_num_parameters", "num_parameters"),
        # Migration 0005: a model's children (`base_models @> ARRAY[id]`), and the registry
        # filters (gated partial: open models are the common case).
        Index("ix_models_base_models", "base_models", postgresql_using="gin"),
        Index("ix_models_source_downloads_id", "source", "downloads", "id"),
        Index("ix_models_gated_downloads_id", "downloads", "id", postgresql_where=text("gated")),
        # Substring search (`q`). Needs pg_trgm: the migration skips it where the server lacks
        # the extension (the embedded pgserver), and `q` falls back to a scan there.
        Index(
            "ix_models_id_trgm",
            "id",
            postgresql_using="gin",
            postgresql_ops={"id": "gin_trgm_ops"},
            # Read by migrations/env.py: autogenerate leaves it alone where pg_trgm is missing.
            info={"requires_extension": "pg_trgm"},
        ),
    )


class ModelSnapshot(Base):
    """Daily popularity of a model (time series). `downloads` is the Hub's rolling 30-day count."""

    __tablename__ = "model_snapshots"

    model_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    snapshot_date: Mapped[date] = mapped_column(Date, primary_key=True)
    downloads: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(Integer)
    trending_rank: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_model_snapshots_date", "snapshot_date"),
        _brin("model_snapshots", "snapshot_date"),
    )


class RegistrySyncState(Base):
    """Where each registry source stands: its last sync, and a short history of run summaries
    (the quarantine spike check compares a run with the trailing median of `recent`)."""

    __tablename__ = "registry_sync_state"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last listing that went to its end: only such a listing may mark models removed.
    last_complete_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Newest `lastModified` seen by the last successful sync (where an early-stop listing stops).
    watermark: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    # The last successful run's counts: listed, new, changed, removed, quarantined, details.
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recent: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)


class RegistryQuarantine(Base):
    """A registry record that could not become a `models` row, with its reason and payload.

    `record_key` is the model id where the record has a usable one, else a hash of the payload,
    so a record seen on every run stays one row whose `times_seen` grows.
    """

    __tablename__ = "registry_quarantine"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_key: Mapped[str] = mapped_column(String(512), primary_key=True)
    model_id: Mapped[str | None] = mapped_column(String(512))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column()
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    times_seen: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_registry_quarantine_last_seen", "last_seen"),)


class Gpu(Base):
    """GPU specs (public spec-sheet facts) under one canonical name."""

    __tablename__ = "gpus"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    vendor: Mapped[str] = mapped_column(String(32))
    memory_gb: Mapped[float] = mapped_column(Float)
    memory_bandwidth_gbps: Mapped[float | None] = mapped_column(Float)  # None: not published
    bf16_dense_tflops: Mapped[float | None] = mapped_column(Float)
    fp8_dense_tflops: Mapped[float | None] = mapped_column(Float)
    tdp_watts: Mapped[float | None] = mapped_column(Float)
    aliases: Mapped[list[str]] = mapped_column(default=list)


class GpuPrice(Base):
    """One observed price in $/GPU-hour (time series)."""

    __tablename__ = "gpu_prices"

    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    gpu: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = mapped_column(String(64), primary_key=True)
    pricing: Mapped[str] = mapped_column(String(16), primary_key=True)  # on-demand | spot
    usd_per_gpu_hour: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_gpu_prices_gpu_time", "gpu", "observed_at"),
        _brin("gpu_prices", "observed_at"),
    )


class BenchmarkResult(Base):
    """One measured configuration (time series) with its provenance.

    `result_key` is a hash of the run's identity (source, task, model, revision, GPU, config,
    engine and harness versions); together with `measured_at` it is the natural key, so an
    imported or re-run result is written once.
    """

    __tablename__ = "benchmark_results"

    result_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))  # own | mlenergy-v3 | optimum-benchmark
    task: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str] = mapped_column(String(512))
    model_revision: Mapped[str | None] = mapped_column(String(64))
    gpu: Mapped[str] = mapped_column(String(64))
    num_gpus: Mapped[int] = mapped_column(Integer)
    engine: Mapped[str | None] = mapped_column(String(64))
    engine_version: Mapped[str | None] = mapped_column(String(64))
    harness_version: Mapped[str | None] = mapped_column(String(64))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    concurrency: Mapped[int | None] = mapped_column(Integer)
    input_len: Mapped[float | None] = mapped_column(Float)
    output_len: Mapped[float | None] = mapped_column(Float)
    output_unit: Mapped[str] = mapped_column(String(16))  # token | image | video
    # Throughput in output units per second: system-wide and per GPU.
    output_throughput: Mapped[float | None] = mapped_column(Float)
    throughput_per_gpu: Mapped[float | None] = mapped_column(Float)
    tokens_per_s_per_user: Mapped[float | None] = mapped_column(Float)
    ttft_ms_p50: Mapped[float | None] = mapped_column(Float)
    ttft_ms_p90: Mapped[float | None] = mapped_column(Float)
    ttft_ms_p95: Mapped[float | None] = mapped_column(Float)
    ttft_ms_p99: Mapped[float | None] = mapped_column(Float)
    tpot_ms_p50: Mapped[float | None] = mapped_column(Float)
    tpot_ms_p90: Mapped[float | None] = mapped_column(Float)
    tpot_ms_p95: Mapped[float | None] = mapped_column(Float)
    tpot_ms_p99: Mapped[float | None] = mapped_column(Float)
    itl_ms_p50: Mapped[float | None] = mapped_column(Float)
    itl_ms_p90: Mapped[float | None] = mapped_column(Float)
    itl_ms_p95: Mapped[float | None] = mapped_column(Float)
    itl_ms_p99: Mapped[float | None] = mapped_column(Float)
    e2e_ms_p50: Mapped[float | None] = mapped_column(Float)
    e2e_ms_p90: Mapped[float | None] = mapped_column(Float)
    e2e_ms_p95: Mapped[float | None] = mapped_column(Float)
    e2e_ms_p99: Mapped[float | None] = mapped_column(Float)
    peak_memory_gb: Mapped[float | None] = mapped_column(Float)
    energy_per_output_j: Mapped[float | None] = mapped_column(Float)
    avg_power_watts: Mapped[float | None] = mapped_column(Float)
    # Which definition each metric follows (DESIGN §5), stored with the value.
    metric_definitions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (
        Index("ix_benchmark_results_model", "model_id", "gpu", "measured_at"),
        Index("ix_benchmark_results_task_gpu", "task", "gpu"),
        _brin("benchmark_results", "measured_at"),
    )


class BenchmarkRequestTiming(Base):
    """The timings of one request of a benchmark run (raw, time series). Only this table has a
    retention policy (90 days; resources/db/timeseries.py): the run's percentiles outlive it.

    Not an on-demand benchmark request (`/benchmarks/requests`, the Redis queue): those are runs
    someone asked for; these are the requests a run sent to the model.
    """

    __tablename__ = "benchmark_request_timings"

    result_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    request_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    ttft_ms: Mapped[float | None] = mapped_column(Float)
    tpot_ms: Mapped[float | None] = mapped_column(Float)
    e2e_ms: Mapped[float | None] = mapped_column(Float)
    itl_ms: Mapped[list[float] | None] = mapped_column(ARRAY(Float))
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (_brin("benchmark_request_timings", "sent_at"),)


class ResultCost(Base):
    """Cost of one benchmark result at the prices of a window (spot and on-demand)."""

    __tablename__ = "result_costs"

    result_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    gpu: Mapped[str] = mapped_column(String(64))
    price_window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    on_demand_usd_per_gpu_hour: Mapped[float] = mapped_column(Float)
    on_demand_usd_per_gpu_hour_p90: Mapped[float] = mapped_column(Float)
    spot_usd_per_gpu_hour: Mapped[float] = mapped_column(Float)
    usd_per_million_on_demand: Mapped[float | None] = mapped_column(Float)
    usd_per_million_spot: Mapped[float | None] = mapped_column(Float)
    spot_saving_pct: Mapped[float | None] = mapped_column(Float)
    price_source: Mapped[str] = mapped_column(String(128))


class RecommendationVersion(Base):
    """One published set of recommendations; readers follow the `active` one."""

    __tablename__ = "recommendation_versions"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Recommendation(Base):
    """A precomputed answer (a ranking per profile, or a Pareto front per axis pair) as JSON."""

    __tablename__ = "recommendations"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # ranking | pareto
    task: Mapped[str] = mapped_column(String(64), primary_key=True)
    gpu: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # profile, or "x:y"
    payload: Mapped[dict[str, Any]] = mapped_column()


class ModelQuality(Base):
    """Quality scores of a model from a leaderboard snapshot (0-100)."""

    __tablename__ = "model_quality"

    model_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    snapshot_date: Mapped[date] = mapped_column(Date, primary_key=True)
    average: Mapped[float | None] = mapped_column(Float)
    arc: Mapped[float | None] = mapped_column(Float)
    hellaswag: Mapped[float | None] = mapped_column(Float)
    mmlu: Mapped[float | None] = mapped_column(Float)
    truthfulqa: Mapped[float | None] = mapped_column(Float)


class GpuInstance(Base):
    """A cloud instance type and the GPUs it carries (canonical GPU name, or None if unknown)."""

    __tablename__ = "gpu_instances"

    vendor: Mapped[str] = mapped_column(String(32), primary_key=True)
    instance_type: Mapped[str] = mapped_column(String(128), primary_key=True)
    gpu: Mapped[str | None] = mapped_column(String(64))
    gpu_count: Mapped[int] = mapped_column(Integer)
    gpu_memory_gb: Mapped[float | None] = mapped_column(Float)
    vcpus: Mapped[int | None] = mapped_column(Integer)
    memory_gb: Mapped[float | None] = mapped_column(Float)


class BenchmarkPlanBudget(Base):
    """The caps the current benchmark plan was made against (one row per plan, `planned_at`).

    Stored with the plan, not read from today's settings: a changed budget must not make an
    older plan look over or under it. Replaced with the plan; its items reference it.
    """

    __tablename__ = "benchmark_plan_budget"

    planned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    max_gpu_hours: Mapped[float] = mapped_column(Float)
    max_usd: Mapped[float] = mapped_column(Float)  # at spot prices
    max_gpu_hours_per_run: Mapped[float] = mapped_column(Float)
    max_usd_per_run: Mapped[float] = mapped_column(Float)


class BenchmarkPlanItem(Base):
    """One (model, GPU, config) the benchmark planner wants measured, with its cost estimate.

    The whole table is the current plan: each planning run replaces it in one transaction.
    `status` is planned (within budget), over_budget (deferred) or unplannable (`note` says why).
    The plan's budget is its `benchmark_plan_budget` row.
    """

    __tablename__ = "benchmark_plan"

    model_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    gpu: Mapped[str] = mapped_column(String(64), primary_key=True)
    config_key: Mapped[str] = mapped_column(String(16), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    revision: Mapped[str | None] = mapped_column(String(64))
    num_gpus: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    downloads: Mapped[int | None] = mapped_column(BigInteger)
    estimate_basis: Mapped[str] = mapped_column(String(64), default="")
    est_gpu_hours: Mapped[float | None] = mapped_column(Float)
    est_usd_spot: Mapped[float | None] = mapped_column(Float)
    est_usd_on_demand: Mapped[float | None] = mapped_column(Float)
    planned_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        ForeignKey("benchmark_plan_budget.planned_at", ondelete="CASCADE"),
    )

    __table_args__ = (Index("ix_benchmark_plan_rank", "rank"),)
