"""GET /recommendations and /pareto: precomputed payloads, served as the stored bytes.

Redis first (the active version's key), then the active version in PostgreSQL. The bytes are
never parsed on the way out; the response models only document them.

POST /recommendations/query ranks on demand, with the caller's weights and limits, over the
candidate matrix held in memory (see `adhoc`).
"""

import logging
from collections.abc import Mapping, Sequence
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from serving import errors, responses
from serving.cache import CacheReader
from serving.db import Database
from serving.deps import CacheDep, DatabaseDep
from serving.errors import BadRequest, NotFound
from serving.recommendations import adhoc, repository
from serving.recommendations.messages import missing_detail, missing_message, usable_index
from serving.recommendations.schemas import (
    ParetoPublic,
    RankingPublic,
    RankingQuery,
    RankingQueryPublic,
)
from serving.schemas import NO_NUL

logger = logging.getLogger(__name__)
router = APIRouter(tags=["recommendations"])

Task = Annotated[
    str, Query(min_length=1, max_length=64, pattern=NO_NUL, description="e.g. lm-arena-chat")
]
GpuName = Annotated[
    str, Query(min_length=1, max_length=64, pattern=NO_NUL, description="e.g. H100")
]
Axis = Annotated[
    str, Query(min_length=1, max_length=32, pattern=NO_NUL, description="A criterion, e.g. cost")
]
_RESPONSES = {**errors.NOT_FOUND, **errors.INVALID, **errors.UNAVAILABLE}


@router.get(
    "/recommendations",
    summary="Ranked models for a task on a GPU under a named profile",
    response_model=RankingPublic,
    responses=_RESPONSES,
)
async def ranking(
    cache: CacheDep,
    db: DatabaseDep,
    task: Task,
    gpu: GpuName,
    profile: Annotated[
        str, Query(min_length=1, max_length=64, pattern=NO_NUL, description="e.g. latency-critical")
    ] = "balanced",
) -> Response:
    requested = {"task": task, "gpu": gpu, "profile": profile}
    return await _serve(cache, db, "ranking", requested, ("rec", task, gpu, profile), profile)


@router.get(
    "/pareto",
    summary="The Pareto front of a task on a GPU over two axes",
    response_model=ParetoPublic,
    responses={**errors.BAD_REQUEST, **_RESPONSES},
)
async def pareto(
    cache: CacheDep, db: DatabaseDep, task: Task, gpu: GpuName, x: Axis, y: Axis
) -> Response:
    if x == y:
        raise BadRequest(f"x and y must be two different axes (both are {x!r})", {"x": x, "y": y})
    requested = {"task": task, "gpu": gpu, "x": x, "y": y}
    return await _serve(cache, db, "pareto", requested, ("pareto", task, gpu, x, y), f"{x}:{y}")


@router.post(
    "/recommendations/query",
    summary="Rank a task's candidates with your own weights and limits",
    response_model=RankingQueryPublic,
    responses={**_RESPONSES, **errors.UNPARSABLE, **errors.NOT_JSON},
)
async def query(request: Request, db: DatabaseDep, body: RankingQuery) -> Response:
    store = getattr(request.app.state, "candidates", None)
    if store is None:  # created on first use: the lifespan does not know about it
        store = request.app.state.candidates = adhoc.CandidateStore()
    matrix = await store.get(db)
    answer = await run_in_threadpool(adhoc.answer, matrix, body)  # TOPSIS draws are CPU work
    # The version the candidates belong to; no ETag, the answer depends on the body too.
    headers = {responses.VERSION_HEADER: matrix.version} if matrix.version else None
    return Response(orjson.dumps(answer), media_type=responses.JSON, headers=headers)


async def _serve(
    cache: CacheReader,
    db: Database,
    kind: str,
    requested: Mapping[str, str],
    parts: Sequence[str],
    key: str,
) -> Response:
    hit = await cache.get(parts)
    if hit is not None:
        return responses.cached(hit)
    stored = await db.run(repository.payload, kind, requested["task"], requested["gpu"], key)
    if stored is not None:
        return responses.versioned(stored.body, stored.version)
    version, choices = await _choices(cache, db)
    raise NotFound(
        missing_message(kind, requested, choices, version),
        missing_detail(requested, choices, version),
    )


async def _choices(cache: CacheReader, db: Database) -> tuple[str | None, dict]:
    """The valid values: the version's published index if cached, else DISTINCT queries."""
    hit = await cache.get(("index",))
    if hit is not None:
        try:
            index = orjson.loads(hit.body)
        except orjson.JSONDecodeError:
            logger.warning("unreadable index payload in version %s", hit.version)
        else:
            if usable_index(index):
                return hit.version, index
            logger.warning("index payload of version %s lacks the value lists", hit.version)
    return await db.run(repository.choices)
