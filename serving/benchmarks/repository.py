"""Every query on `benchmark_results` (and the `result_costs` beside it)."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, and_, func, select

from resources.db.tables import BenchmarkResult, ResultCost

_R = BenchmarkResult.__table__.c
_C = ResultCost.__table__.c
# Cost columns are prefixed, and the join keys (repeated from the result) left out.
_COST_PREFIX = "cost_"
_COST_COLUMNS = [
    c.label(_COST_PREFIX + c.name) for c in _C if c.name not in ("result_key", "measured_at", "gpu")
]


def _latest_per_configuration(model_id: str | None):
    """The newest measurement of each result_key: a re-run replaces the old number."""
    query = select(BenchmarkResult).distinct(_R.result_key)
    if model_id is not None:
        query = query.where(_R.model_id == model_id)
    return query.order_by(_R.result_key, _R.measured_at.desc()).subquery()


def summaries(conn: Connection, model_id: str | None = None) -> list[Row]:
    """Per (model, task, GPU): configurations, best throughput per GPU, p95 ITL range."""
    latest = _latest_per_configuration(model_id)
    keys = (latest.c.model_id, latest.c.task, latest.c.gpu, latest.c.output_unit)
    query = (
        select(
            *keys,
            func.count().label("configurations"),
            func.max(latest.c.throughput_per_gpu).label("best_throughput_per_gpu"),
            func.min(latest.c.itl_ms_p95).label("itl_ms_p95_min"),
            func.max(latest.c.itl_ms_p95).label("itl_ms_p95_max"),
            func.max(latest.c.measured_at).label("last_measured_at"),
        )
        .group_by(*keys)
        .order_by(*keys)
    )
    return list(conn.execute(query).all())


def list_results(
    conn: Connection,
    model_id: str,
    *,
    task: str | None,
    gpu: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Row], int]:
    conditions = [_R.model_id == model_id]
    if task is not None:
        conditions.append(_R.task == task)
    if gpu is not None:
        conditions.append(_R.gpu == gpu)
    total = conn.scalar(select(func.count()).select_from(BenchmarkResult).where(*conditions))
    on_cost = and_(_C.result_key == _R.result_key, _C.measured_at == _R.measured_at)
    query = (
        select(BenchmarkResult.__table__, *_COST_COLUMNS)
        .select_from(BenchmarkResult.__table__.outerjoin(ResultCost.__table__, on_cost))
        .where(*conditions)
        .order_by(_R.task, _R.gpu, _R.measured_at.desc(), _R.result_key)
        .limit(limit)
        .offset(offset)
    )
    return list(conn.execute(query).all()), total or 0


def split_cost(row: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(result columns, cost columns or None when the result has no cost yet)."""
    result, cost = {}, {}
    for name, value in row.items():
        if name.startswith(_COST_PREFIX):
            cost[name.removeprefix(_COST_PREFIX)] = value
        else:
            result[name] = value
    return result, cost if cost.get("price_source") is not None else None
