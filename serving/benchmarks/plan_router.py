"""GET /benchmarks/plan: the runs the planner wants next, read-only, with cost estimates and the
budget the plan was made against."""

from typing import Annotated

from fastapi import APIRouter, Query

from serving import errors
from serving.benchmarks import plan_repository
from serving.benchmarks.plan_schemas import PlanItemPublic, PlanPublic, PlanStatus
from serving.deps import DatabaseDep
from serving.schemas import NO_NUL

router = APIRouter(tags=["benchmarks"])


@router.get(
    "/benchmarks/plan",
    summary="The benchmark plan: which model runs on which GPU next, its estimated cost and budget",
    response_model=PlanPublic,
    responses={**errors.INVALID, **errors.UNAVAILABLE},
)
async def benchmark_plan(
    db: DatabaseDep,
    status: Annotated[
        PlanStatus | None,
        Query(description="Only items with this status"),
    ] = None,
    gpu: Annotated[str | None, Query(pattern=NO_NUL, description="Canonical GPU name")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> PlanPublic:
    rows, count, summary = await db.run(
        plan_repository.list_plan, status=status, gpu=gpu, limit=limit
    )
    return PlanPublic(
        data=[PlanItemPublic.model_validate(row) for row in rows], count=count, **summary
    )
