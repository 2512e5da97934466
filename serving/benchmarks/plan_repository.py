"""Every query on `benchmark_plan` (written by the `benchmark_plan` asset)."""

from sqlalchemy import Connection, Row, func, select

from resources.db.tables import BenchmarkPlanItem

_P = BenchmarkPlanItem.__table__.c


def list_plan(
    conn: Connection, *, status: str | None, gpu: str | None, limit: int
) -> tuple[list[Row], int, dict[str, float]]:
    """(items in rank order, how many match, planned totals)."""
    conditions = []
    if status is not None:
        conditions.append(_P.status == status)
    if gpu is not None:
        conditions.append(_P.gpu == gpu)
    rows = conn.execute(
        select(BenchmarkPlanItem.__table__).where(*conditions).order_by(_P.rank).limit(limit)
    ).all()
    count = conn.scalar(select(func.count()).select_from(BenchmarkPlanItem).where(*conditions))
    totals = conn.execute(
        select(
            func.coalesce(func.sum(_P.est_gpu_hours), 0.0).label("planned_gpu_hours"),
            func.coalesce(func.sum(_P.est_usd_spot), 0.0).label("planned_usd_spot"),
            func.coalesce(func.sum(_P.est_usd_on_demand), 0.0).label("planned_usd_on_demand"),
        ).where(_P.status == "planned", *conditions)
    ).one()
    return list(rows), count or 0, dict(totals._mapping)
