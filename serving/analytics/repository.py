"""Every analytics query: popularity growth and benchmark metrics over time.

Each query ranks or trims inside PostgreSQL with window functions, so the API receives only the
rows it returns (or, for regressions, the few latest runs per configuration).
"""

import datetime as dt
from typing import Literal

from sqlalchemy import Connection, Row, and_, func, literal, or_, select

from resources.db.tables import BenchmarkResult, MlModel, ModelSnapshot
from serving.analytics.trends import Metric

_R = BenchmarkResult.__table__.c
_S = ModelSnapshot.__table__.c
_M = MlModel.__table__.c

# The recommendations' latency (assets/recommendations/frames.py): the task's p95 metric.
METRIC_COLUMNS = {
    Metric.p95_latency: func.coalesce(_R.tpot_ms_p95, _R.itl_ms_p95, _R.e2e_ms_p95, _R.e2e_ms_p50),
    Metric.throughput: _R.throughput_per_gpu,
    Metric.energy: _R.energy_per_output_j,
}
_CONFIGURATION = [_R.result_key, _R.model_id, _R.task, _R.gpu, _R.num_gpus, _R.engine, _R.config]

PopularityMetric = Literal["downloads", "likes"]
RankBy = Literal["absolute", "relative"]
_TRENDING_COLUMNS = ("model_id", "task", "first_date", "first_value", "last_date", "last_value")


def latest_snapshot_date(conn: Connection) -> dt.date | None:
    return conn.scalar(select(func.max(_S.snapshot_date)))


def trending(
    conn: Connection,
    *,
    metric: PopularityMetric,
    start: dt.date,
    end: dt.date,
    task: str | None,
    rank_by: RankBy,
    min_first_value: int,
    limit: int,
) -> list[Row]:
    """Models whose `metric` grew between their first and last snapshot in [start, end]."""
    value = _S[metric]
    whole = {"partition_by": _S.model_id, "order_by": _S.snapshot_date, "rows": (None, None)}
    conditions = [_S.snapshot_date.between(start, end), value.is_not(None), _M.removed_at.is_(None)]
    if task is not None:
        conditions.append(_M.pipeline_tag == task)
    points = (
        select(
            _S.model_id,
            _M.pipeline_tag.label("task"),
            func.first_value(_S.snapshot_date).over(**whole).label("first_date"),
            func.first_value(value).over(**whole).label("first_value"),
            func.last_value(_S.snapshot_date).over(**whole).label("last_date"),
            func.last_value(value).over(**whole).label("last_value"),
            func.row_number().over(partition_by=_S.model_id).label("n"),
        )
        # Outer join: a model known only from snapshots still trends (its task is unknown).
        .select_from(ModelSnapshot.__table__.outerjoin(MlModel.__table__, _M.id == _S.model_id))
        .where(*conditions)
        .subquery()
    )
    growth = (points.c.last_value - points.c.first_value).label("growth")
    growth_pct = (
        (points.c.last_value - points.c.first_value)
        * literal(100.0)
        / func.nullif(points.c.first_value, 0)
    ).label("growth_pct")
    rank = growth if rank_by == "absolute" else growth_pct
    query = (
        select(*(points.c[name] for name in _TRENDING_COLUMNS), growth, growth_pct)
        .where(
            points.c.n == 1,
            points.c.first_date < points.c.last_date,
            points.c.last_value > points.c.first_value,
            points.c.first_value >= min_first_value,
        )
        .order_by(rank.desc().nulls_last(), growth.desc(), points.c.model_id)
        .limit(limit)
    )
    return list(conn.execute(query).all())


def metric_series(
    conn: Connection,
    *,
    model_id: str,
    metric: Metric,
    gpu: str | None,
    task: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    max_points: int,
) -> list[Row]:
    """The newest `max_points` runs of each configuration of a model, oldest first."""
    value = METRIC_COLUMNS[metric]
    conditions = [_R.model_id == model_id, value.is_not(None)]
    for column, wanted in ((_R.gpu, gpu), (_R.task, task)):
        if wanted is not None:
            conditions.append(column == wanted)
    if since is not None:
        conditions.append(_R.measured_at >= since)
    if until is not None:
        conditions.append(_R.measured_at <= until)
    newest_first = func.row_number().over(
        partition_by=_R.result_key, order_by=_R.measured_at.desc()
    )
    runs = (
        select(*_CONFIGURATION, _R.measured_at, value.label("value"), newest_first.label("n"))
        .where(*conditions)
        .subquery()
    )
    query = (
        select(runs)
        .where(runs.c.n <= max_points)
        .order_by(runs.c.task, runs.c.gpu, runs.c.result_key, runs.c.measured_at)
    )
    return list(conn.execute(query).all())


def recent_runs(
    conn: Connection,
    *,
    task: str | None,
    gpu: str | None,
    model_id: str | None,
    since: dt.datetime | None,
    runs_per_configuration: int,
) -> list[Row]:
    """The newest runs of each configuration with every metric, for regression detection.

    With `since`, only configurations whose latest run is at or after it.
    """
    conditions = [or_(*(column.is_not(None) for column in METRIC_COLUMNS.values()))]
    for column, wanted in ((_R.task, task), (_R.gpu, gpu), (_R.model_id, model_id)):
        if wanted is not None:
            conditions.append(column == wanted)
    by_configuration = {"partition_by": _R.result_key}
    runs = (
        select(
            *_CONFIGURATION,
            _R.measured_at,
            *(column.label(metric.value) for metric, column in METRIC_COLUMNS.items()),
            func.row_number().over(**by_configuration, order_by=_R.measured_at.desc()).label("n"),
            func.max(_R.measured_at).over(**by_configuration).label("latest_at"),
        )
        .where(*conditions)
        .subquery()
    )
    keep = [runs.c.n <= runs_per_configuration]
    if since is not None:
        keep.append(runs.c.latest_at >= since)
    query = select(runs).where(and_(*keep)).order_by(runs.c.result_key, runs.c.measured_at)
    return list(conn.execute(query).all())
