"""Every query on `models` and `model_snapshots`."""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
)

from resources.db.tables import BenchmarkResult, MlModel, ModelSnapshot, ResultCost
from serving.models.filters import (
    LIKE_ESCAPE,
    BenchFilters,
    ModelFilters,
    Pricing,
    contains_pattern,
)

# The listing leaves out `extra` (free-form, possibly large): the model page has it.
_LISTED = [c for c in MlModel.__table__.c if c.name != "extra"]
_SORT_COLUMNS = {
    "downloads": MlModel.downloads,
    "likes": MlModel.likes,
    "last_modified": MlModel.last_modified,
    "id": MlModel.id,
}
# Up to this many matches `count` is exact; beyond, counting would read every match on every
# page, so it becomes the planner's estimate (never below the cap) and says so.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class Listing:
    rows: list[Row]
    count: int
    count_is_estimate: bool
    has_more: bool


def _conditions(f: ModelFilters) -> list[ColumnElement[bool]]:
    conditions = []
    if not f.include_removed:
        conditions.append(MlModel.removed_at.is_(None))
    if f.task is not None:
        conditions.append(MlModel.pipeline_tag == f.task)
    if f.author is not None:
        conditions.append(MlModel.author == f.author)
    if f.license is not None:
        conditions.append(MlModel.license == f.license)
    if f.min_params is not None:
        conditions.append(MlModel.num_parameters >= f.min_params)
    if f.max_params is not None:
        conditions.append(MlModel.num_parameters <= f.max_params)
    if f.q:
        conditions.append(MlModel.id.ilike(contains_pattern(f.q), escape=LIKE_ESCAPE))
    if f.sources:
        conditions.append(MlModel.source.in_(f.sources))
    if f.gated is not None:
        conditions.append(MlModel.gated == f.gated)
    if f.updated_since is not None:
        conditions.append(MlModel.last_modified >= f.updated_since)
    if f.bench is not None and f.bench.active:
        conditions.append(_benchmarked(f.bench))
    return conditions


_R = BenchmarkResult.__table__.c
_COST_COLUMNS = {
    Pricing.spot: ResultCost.usd_per_million_spot,
    Pricing.on_demand: ResultCost.usd_per_million_on_demand,
}


def _p95_ms() -> ColumnElement[float]:
    """The recommendations' latency (assets/recommendations/frames.py): the task's p95 metric."""
    return func.coalesce(_R.tpot_ms_p95, _R.itl_ms_p95, _R.e2e_ms_p95, _R.e2e_ms_p50)


def _latest_runs() -> Any:
    """The latest run of each result (one row per `result_key`), with the columns filtered on.

    One DISTINCT ON pass per statement, not a per-row "no newer run" anti-join: on the
    time-partitioned table (migration 0007) that anti-join probes every monthly partition's
    primary key for each run (no time predicate to prune on) and cost ~3x the whole pass.
    """
    return (
        select(_R.result_key, _R.measured_at, _R.model_id, _R.gpu, _p95_ms().label("p95_ms"))
        .distinct(_R.result_key)
        .order_by(_R.result_key.desc(), _R.measured_at.desc())
        .subquery("latest")
    )


def _benchmarked(b: BenchFilters) -> ColumnElement[bool]:
    """EXISTS a latest measurement of the model meeting every limit of `b`.

    Latest: a re-run replaces the old number (as on the model page), so a configuration whose
    newer run got slower no longer counts as fast. The limits apply to the latest run, never
    inside `_latest_runs`, or an older run within them would stand in for a newer one.
    """
    latest = _latest_runs()
    conditions = [latest.c.model_id == MlModel.id]
    if b.gpu is not None:
        conditions.append(latest.c.gpu == b.gpu)
    if b.max_p95_ms is not None:
        conditions.append(latest.c.p95_ms <= b.max_p95_ms)
    if b.max_cost_per_mtok is not None:
        conditions.append(
            exists().where(
                ResultCost.result_key == latest.c.result_key,
                ResultCost.measured_at == latest.c.measured_at,
                _COST_COLUMNS[b.pricing] <= b.max_cost_per_mtok,
            )
        )
    return exists().where(*conditions)


Run = tuple[list[ColumnElement[bool]], list[ColumnElement[Any]]]


def _runs(f: ModelFilters) -> list[Run]:
    """The listing as runs that each read one (column, id) index in order, from the cursor on.

    `column DESC NULLS LAST, id DESC` is no index's order, but rows with a value are a backward
    scan of (column, id) and rows without one a forward scan of its NULL end: two index reads
    in sequence, each starting exactly at the cursor through a row comparison.
    """
    after, desc = f.after, f.sort.descending
    if f.sort.field == "id":
        seek = [] if after is None else [MlModel.id < after.id if desc else MlModel.id > after.id]
        return [(seek, [MlModel.id.desc() if desc else MlModel.id.asc()])]
    column = _SORT_COLUMNS[f.sort.field]
    missing: Run = ([column.is_(None)], [MlModel.id.asc()])
    if after is not None and after.value is None:
        return [([column.is_(None), MlModel.id > after.id], missing[1])]
    present: list[ColumnElement[bool]] = [column.is_not(None)]
    if after is not None:
        key, bound = tuple_(column, MlModel.id), tuple_(literal(after.value, column.type), after.id)
        present.append(key < bound if desc else key > bound)
    order = [column.desc(), MlModel.id.desc()] if desc else [column.asc(), MlModel.id.asc()]
    return [(present, order), missing]


def _count_upto(conn: Connection, conditions: list, cap: int) -> int:
    matching = select(literal(1)).select_from(MlModel).where(*conditions).limit(cap).subquery()
    return conn.scalar(select(func.count()).select_from(matching)) or 0


def _estimate(conn: Connection, conditions: list) -> int:
    """The planner's row estimate for the filters (from the statistics ANALYZE keeps)."""
    # render_postcompile: an IN list (`source`) is otherwise a placeholder only SQLAlchemy expands.
    compiled = (
        select(MlModel.id)
        .where(*conditions)
        .compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    )
    plan = conn.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params
    ).scalar_one()
    return int(plan[0]["Plan"]["Plan Rows"])


def list_models(conn: Connection, f: ModelFilters, count_cap: int = COUNT_CAP) -> Listing:
    """One page of the catalog, read in index order from the cursor (or a bounded offset).

    `count` is exact when at most `count_cap` models match, which costs at most `count_cap`
    index entries; beyond that it is the planner's estimate, at least `count_cap + 1`, and
    `count_is_estimate` is true: an exact COUNT(*) over 100k rows on every page is the slowest
    part of a listing and no client needs the exact figure past the first pages.
    """
    conditions = _conditions(f)
    rows: list[Row] = []
    skip, want = f.offset, f.limit + 1  # one more than the page: is there a next one?
    for extra, order in _runs(f):
        query = select(*_LISTED).where(*conditions, *extra).order_by(*order)
        part = conn.execute(query.offset(skip or None).limit(want)).all()
        if skip and not part:  # the whole run lies before the offset
            skip -= _count_upto(conn, [*conditions, *extra], skip)
        else:
            skip = 0
        rows.extend(part)
        want -= len(part)
        if want == 0:
            break
    count = _count_upto(conn, conditions, count_cap + 1)
    estimated = count > count_cap
    if estimated:
        count = max(count, _estimate(conn, conditions))
    return Listing(rows[: f.limit], count, estimated, has_more=len(rows) > f.limit)


def get_model(conn: Connection, model_id: str) -> Row | None:
    return conn.execute(select(MlModel.__table__).where(MlModel.id == model_id)).first()


def iter_models(conn: Connection) -> Iterator[Row]:
    # Streamed: the snapshot of every model page should not hold every row at once.
    result = conn.execution_options(stream_results=True, yield_per=500).execute(
        select(MlModel.__table__).order_by(MlModel.id)
    )
    yield from result


def is_known(conn: Connection, model_id: str) -> bool:
    """Whether the catalog has heard of the model: registry, benchmarks or snapshots."""
    return bool(
        conn.scalar(
            select(
                or_(
                    exists().where(MlModel.id == model_id),
                    exists().where(BenchmarkResult.model_id == model_id),
                    exists().where(ModelSnapshot.model_id == model_id),
                )
            )
        )
    )


def popularity(
    conn: Connection, model_id: str, start: dt.date | None, end: dt.date | None
) -> list[Row]:
    query = select(
        ModelSnapshot.snapshot_date.label("date"),
        ModelSnapshot.downloads,
        ModelSnapshot.likes,
        ModelSnapshot.trending_rank,
    ).where(ModelSnapshot.model_id == model_id)
    if start is not None:
        query = query.where(ModelSnapshot.snapshot_date >= start)
    if end is not None:
        query = query.where(ModelSnapshot.snapshot_date <= end)
    return list(conn.execute(query.order_by(ModelSnapshot.snapshot_date)).all())
