"""Every query on `benchmark_plan` and its `benchmark_plan_budget` (both written by the
`benchmark_plan` asset)."""

from typing import Any

from sqlalchemy import Connection, Row, func, select

from resources.db.tables import BenchmarkPlanBudget, BenchmarkPlanItem

_P = BenchmarkPlanItem.__table__.c
_B = BenchmarkPlanBudget.__table__.c
# The caps as the API names them; all None before the first plan.
_NO_BUDGET = dict.fromkeys(("planned_at", "budget_gpu_hours", "budget_usd",
                            "budget_gpu_hours_per_run", "budget_usd_per_run"))  # fmt: skip


def list_plan(
    conn: Connection, *, status: str | None, gpu: str | None, limit: int
) -> tuple[list[Row], int, dict[str, Any]]:
    """(items in rank order, how many match, planned totals of the match and the budget the
    plan was made against)."""
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
    return list(rows), count or 0, dict(totals._mapping) | plan_budget(conn)


def plan_budget(conn: Connection) -> dict[str, Any]:
    """The current plan's `planned_at` and caps (the replace keeps one row; the latest wins
    all the same)."""
    budget = conn.execute(
        select(
            _B.planned_at,
            _B.max_gpu_hours.label("budget_gpu_hours"),
            _B.max_usd.label("budget_usd"),
            _B.max_gpu_hours_per_run.label("budget_gpu_hours_per_run"),
            _B.max_usd_per_run.label("budget_usd_per_run"),
        )
        .order_by(_B.planned_at.desc())
        .limit(1)
    ).first()
    return dict(budget._mapping) if budget else dict(_NO_BUDGET)
