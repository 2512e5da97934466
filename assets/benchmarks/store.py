"""The SQL of own benchmark runs and the plan: what the assets, checks and sensors read and write.

Reads return plain values for the pure modules (plan, regression, roofline); writes are one
transaction each, on the caller's connection.
"""

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects.postgresql import insert

from assets.benchmarks.plan import Budget, Candidate, GpuOffer, LastRun, PlanItem
from assets.benchmarks.runs import SOURCE, config_key
from assets.costs.cost import price_window, spot_effective_price, spot_price_from_on_demand
from assets.costs.pricing import SpotPolicy
from resources.db.tables import (
    BenchmarkPlanBudget,
    BenchmarkPlanItem,
    BenchmarkRequestTiming,
    BenchmarkResult,
    Gpu,
    GpuPrice,
    MlModel,
    ResultCost,
)

_R = BenchmarkResult.__table__.c
_PLAN = BenchmarkPlanItem.__table__
_PLAN_BUDGET = BenchmarkPlanBudget.__table__
PLAN_TASK = "text-generation"


def plan_candidates(conn: Connection, limit: int) -> list[Candidate]:
    """The `limit` most downloaded text-generation models still listed by their registry."""
    query = (
        select(MlModel.id, MlModel.sha, MlModel.downloads, MlModel.num_parameters)
        .where(MlModel.pipeline_tag == PLAN_TASK, MlModel.removed_at.is_(None))
        .order_by(MlModel.downloads.desc().nulls_last(), MlModel.id)
        .limit(limit)
    )
    return [Candidate(*row) for row in conn.execute(query)]


def last_own_runs(conn: Connection) -> dict[tuple[str, str, str], LastRun]:
    """The latest own result per (model, GPU, config_key)."""
    query = select(
        _R.model_id, _R.gpu, _R.config, _R.model_revision, _R.engine_version,
        _R.output_throughput,
    ).where(_R.source == SOURCE).order_by(_R.measured_at)  # fmt: skip
    latest: dict[tuple[str, str, str], LastRun] = {}
    for model_id, gpu, config, revision, engine_version, throughput in conn.execute(query):
        latest[(model_id, gpu, config_key(config))] = LastRun(revision, engine_version, throughput)
    return latest


def gpu_offers(
    conn: Connection, gpus: Sequence[str], policy: SpotPolicy, window_days: float
) -> list[GpuOffer]:
    """Specs and p50 prices (on-demand; spot from a feed or estimated, interruption-adjusted)
    of `gpus`, in that order; a GPU missing from the catalog is left out."""
    specs = {
        g["name"]: g
        for g in conn.execute(select(Gpu.__table__).where(Gpu.name.in_(gpus))).mappings()
    }
    prices = pd.DataFrame(
        conn.execute(select(GpuPrice.__table__).where(GpuPrice.gpu.in_(gpus))).mappings().all()
    )
    windows = (
        price_window(prices, end=prices["observed_at"].max(), days=window_days)
        if len(prices)
        else pd.DataFrame(columns=["gpu", "pricing", "p50"])
    )
    p50 = {(w["gpu"], w["pricing"]): w["p50"] for w in windows.to_dict("records")}
    offers = []
    for name in gpus:
        if name not in specs:
            continue
        on_demand = p50.get((name, "on-demand"))
        spot = p50.get((name, "spot"))
        if spot is None and on_demand is not None:
            spot = spot_price_from_on_demand(on_demand, policy.discount)
        if spot is not None:
            spot = spot_effective_price(
                spot, policy.interruptions_per_hour, policy.restart_overhead_minutes
            )
        spec = specs[name]
        offers.append(GpuOffer(name, spec.memory_gb, spec.memory_bandwidth_gbps, spot, on_demand))
    return offers


def replace_plan(
    conn: Connection, items: Sequence[PlanItem], planned_at: datetime, budget: Budget
) -> None:
    """The plan is the table: the old one goes in the same transaction the new one comes in,
    with the budget it was made against (its items go with it: ON DELETE CASCADE)."""
    conn.execute(delete(_PLAN_BUDGET))
    conn.execute(_PLAN_BUDGET.insert(), [asdict(budget) | {"planned_at": planned_at}])
    if items:
        conn.execute(_PLAN.insert(), [item.as_row() | {"planned_at": planned_at} for item in items])


def plan_budget(conn: Connection) -> dict[str, Any] | None:
    """The current plan's caps and `planned_at`; None before the first plan."""
    query = select(_PLAN_BUDGET).order_by(_PLAN_BUDGET.c.planned_at.desc()).limit(1)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def plan_item(conn: Connection, model_id: str, gpu: str, key: str) -> dict[str, Any] | None:
    query = select(_PLAN).where(
        _PLAN.c.model_id == model_id, _PLAN.c.gpu == gpu, _PLAN.c.config_key == key
    )
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def planned_items(conn: Connection) -> list[dict[str, Any]]:
    query = select(_PLAN).where(_PLAN.c.status == "planned").order_by(_PLAN.c.rank)
    return [dict(row) for row in conn.execute(query).mappings()]


def model_facts(conn: Connection, model_id: str) -> dict[str, Any] | None:
    """The catalog's revision and size of a model, or None when it is not in the catalog."""
    query = select(MlModel.sha, MlModel.num_parameters).where(MlModel.id == model_id)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def write_own_result(conn: Connection, row: dict[str, Any]) -> int:
    """Store one own result as the only row of its `result_key`; returns rows it replaced.

    The key is the run's identity without its time, so a retried or re-executed run of the
    same identity replaces the earlier measurement instead of adding a second row. Its cost
    rows (keyed by the old time) go with it; the cost asset prices the new one.
    """
    key = row["result_key"]
    # Two runs of one identity at once serialise here (a row lock cannot cover a key that has
    # no row yet); the lock ends with the transaction.
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
    conn.execute(delete(ResultCost).where(ResultCost.result_key == key))
    replaced = conn.execute(delete(BenchmarkResult).where(_R.result_key == key)).rowcount
    conn.execute(BenchmarkResult.__table__.insert(), [row])
    return replaced


def write_request_timings(conn: Connection, result_key: str, rows: Sequence[dict[str, Any]]) -> int:
    """Make `rows` the request timings of `result_key`: upserted on (result_key, sent_at,
    request_index), and those of an earlier measurement of the key (the result row it
    replaced) deleted, so a retried or re-executed run never leaves two sets. Call it in the
    transaction of `write_own_result`, which holds the key's lock. Returns rows written."""
    table = BenchmarkRequestTiming.__table__
    times = sorted({row["measured_at"] for row in rows})
    stale = delete(table).where(table.c.result_key == result_key)
    conn.execute(stale.where(table.c.measured_at.not_in(times)) if times else stale)
    if not rows:
        return 0
    statement = insert(table)
    keys = {c.name for c in table.primary_key.columns}
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    conn.execute(
        statement.on_conflict_do_update(index_elements=sorted(keys), set_=updates), list(rows)
    )
    return len(rows)


def same_work_history(conn: Connection, row: dict[str, Any]) -> list[dict[str, Any]]:
    """Every result (any source) of the row's task, model, GPU and GPU count."""
    query = select(BenchmarkResult.__table__).where(
        _R.task == row["task"],
        _R.model_id == row["model_id"],
        _R.gpu == row["gpu"],
        _R.num_gpus == row["num_gpus"],
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def bandwidths(conn: Connection) -> dict[str, float | None]:
    return dict(conn.execute(select(Gpu.name, Gpu.memory_bandwidth_gbps)).all())


def catalog_params(conn: Connection) -> dict[str, int | None]:
    query = select(MlModel.id, MlModel.num_parameters).where(MlModel.num_parameters.is_not(None))
    return dict(conn.execute(query).all())


def token_results(conn: Connection) -> list[dict[str, Any]]:
    """The columns the roofline needs, for every token-producing result."""
    query = select(
        _R.result_key, _R.source, _R.model_id, _R.gpu, _R.num_gpus, _R.output_unit, _R.config,
        _R.extra, _R.tokens_per_s_per_user, _R.itl_ms_p50, _R.tpot_ms_p50,
    ).where(_R.output_unit == "token")  # fmt: skip
    return [dict(r) for r in conn.execute(query).mappings()]
