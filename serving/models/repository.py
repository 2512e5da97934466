"""Every query on `models` and `model_snapshots`."""

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import Connection, Row, exists, func, or_, select

from resources.db.tables import BenchmarkResult, MlModel, ModelSnapshot
from serving.models.filters import LIKE_ESCAPE, ModelFilters, Sort, contains_pattern

# The listing leaves out `extra` (free-form, possibly large): the model page has it.
_LISTED = [c for c in MlModel.__table__.c if c.name != "extra"]
_SORT_COLUMNS = {
    "downloads": MlModel.downloads,
    "likes": MlModel.likes,
    "last_modified": MlModel.last_modified,
    "id": MlModel.id,
}


def _conditions(f: ModelFilters) -> list:
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
    return conditions


def _order(sort: Sort) -> list:
    column = _SORT_COLUMNS[sort.field]
    primary = column.desc() if sort.descending else column.asc()
    # The id tie-break keeps pages stable when many models share a value (or have none).
    return [primary.nulls_last(), MlModel.id.asc()] if sort.field != "id" else [primary]


def list_models(conn: Connection, f: ModelFilters) -> tuple[list[Row], int]:
    conditions = _conditions(f)
    total = conn.scalar(select(func.count()).select_from(MlModel).where(*conditions))
    rows = conn.execute(
        select(*_LISTED)
        .where(*conditions)
        .order_by(*_order(f.sort))
        .limit(f.limit)
        .offset(f.offset)
    ).all()
    return rows, total or 0


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
