"""GET /models/{id}/benchmarks: every measured configuration of a model, with provenance and cost.

Included before the models router: its `:path` page route would otherwise swallow this one.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from serving import errors
from serving.benchmarks import repository
from serving.benchmarks.schemas import BenchmarkPublic, BenchmarksPublic, CostPublic, Provenance
from serving.deps import DatabaseDep
from serving.errors import NotFound
from serving.models import repository as models
from serving.schemas import NO_NUL

router = APIRouter(tags=["benchmarks"])

MAX_OFFSET = 1_000_000


def to_public(row) -> BenchmarkPublic:
    result, cost = repository.split_cost(row._mapping)
    return BenchmarkPublic.model_validate(
        {
            **result,
            "provenance": Provenance.model_validate(result),
            "cost": CostPublic.model_validate(cost) if cost is not None else None,
        }
    )


@router.get(
    "/models/{model_id:path}/benchmarks",
    summary="Benchmark results of a model",
    response_model=BenchmarksPublic,
    responses={**errors.NOT_FOUND, **errors.INVALID, **errors.UNAVAILABLE},
)
async def model_benchmarks(
    db: DatabaseDep,
    model_id: Annotated[str, Path(pattern=NO_NUL, description="Registry id; may contain `/`")],
    task: Annotated[
        str | None, Query(pattern=NO_NUL, description="Benchmark task, e.g. lm-arena-chat")
    ] = None,
    gpu: Annotated[
        str | None, Query(pattern=NO_NUL, description="Canonical GPU name, e.g. H100")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    # Bounded: PostgreSQL's OFFSET is a bigint, and no model has anywhere near this many results.
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> BenchmarksPublic:
    rows, count = await db.run(
        repository.list_results, model_id, task=task, gpu=gpu, limit=limit, offset=offset
    )
    if count == 0 and not await db.run(models.is_known, model_id):
        raise NotFound(f"model {model_id!r} is not in the catalog", {"model_id": model_id})
    return BenchmarksPublic(data=[to_public(r) for r in rows], count=count)
