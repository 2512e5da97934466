"""GET /health: is each store reachable, and which data version is active.

Always 200 (a liveness probe must not restart a worker because a store is down: the API degrades
instead). Readiness, which should fail when neither store answers, is a separate concern.
"""

import asyncio
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from serving.deps import CacheDep, DatabaseDep
from serving.errors import Unavailable
from serving.recommendations import repository

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    database: bool = Field(description="PostgreSQL answered")
    redis: bool = Field(description="Redis answered")
    version: str | None = Field(
        description="Active serving-cache version in Redis; when Redis has none or is down, "
        "the active recommendations version in PostgreSQL"
    )


@router.get("/health", summary="Liveness and store status", response_model=HealthPublic)
async def health(cache: CacheDep, db: DatabaseDep) -> HealthPublic:
    database, redis_ok = await asyncio.gather(db.ping(), cache.ping())
    version = await cache.refresh() if redis_ok else cache.version
    if version is None and database:
        try:
            version = await db.run(repository.active_version)
        except Unavailable:
            database = False
    return HealthPublic(
        status="ok" if database and redis_ok else "degraded",
        database=database,
        redis=redis_ok,
        version=version,
    )
