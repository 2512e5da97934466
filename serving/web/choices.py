"""GET /recommendations/choices: what the recommendation pages can ask for.

The published index of the active version (tasks, GPUs per task, profiles, Pareto axes) from
Redis, else the same lists from PostgreSQL, plus the criteria a weight can be given to. The
recommendation endpoints only say this in a 404; a form needs it before the first request.
"""

import logging

import orjson
from fastapi import APIRouter
from pydantic import BaseModel, Field

from assets.recommendations.criteria import CRITERIA
from serving import errors
from serving.cache import CacheReader
from serving.db import Database
from serving.deps import CacheDep, DatabaseDep
from serving.recommendations import repository
from serving.recommendations.messages import usable_index

logger = logging.getLogger(__name__)
router = APIRouter(tags=["recommendations"])


class CriterionPublic(BaseModel):
    name: str = Field(examples=["latency_p95_ms"])
    label: str
    unit: str
    direction: str = Field(description="benefit (more is better) | cost (less is better)")


class ChoicesPublic(BaseModel):
    version: str | None = Field(description="Active recommendations version; null: none yet")
    tasks: list[str]
    gpus: list[str]
    gpus_by_task: dict[str, list[str]]
    profiles: list[str]
    axes: list[str] = Field(description="Criteria a Pareto front can be asked over")
    criteria: list[CriterionPublic] = Field(description="Criteria a weight can be given to")


@router.get(
    "/recommendations/choices",
    summary="Valid tasks, GPUs, profiles, axes and criteria for recommendations",
    response_model=ChoicesPublic,
    responses=errors.UNAVAILABLE,
)
async def choices(cache: CacheDep, db: DatabaseDep) -> ChoicesPublic:
    version, index = await _index(cache, db)
    return ChoicesPublic(
        version=version,
        tasks=index.get("tasks", []),
        gpus=index.get("gpus", []),
        gpus_by_task=index.get("gpus_by_task") or {},
        profiles=index.get("profiles", []),
        axes=index.get("axes", []),
        criteria=[CriterionPublic(**vars(c)) for c in CRITERIA.values()],
    )


async def _index(cache: CacheReader, db: Database) -> tuple[str | None, dict]:
    hit = await cache.get(("index",))
    if hit is not None:
        try:
            index = orjson.loads(hit.body)
        except orjson.JSONDecodeError:
            index = None
        if usable_index(index):
            return hit.version, index
        logger.warning("index payload of version %s is unusable", hit.version)
    return await db.run(repository.choices)
