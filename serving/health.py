"""Health: store status (/health), liveness (/health/live) and readiness (/health/ready).

Liveness does no I/O: a store outage must not get a worker restarted, the API degrades instead.
Readiness fails (503) only when neither store works, the one case where taking the instance out
of a load balancer helps. The probes are bounded: the database ping gives up after
`PROBE_TIMEOUT_S` and the Redis client after its own short timeout, so a hung store answers
"down" within about a second, never a hang.
"""

import asyncio
import time
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from serving.cache import CacheReader
from serving.db import Database
from serving.deps import CacheDep, DatabaseDep
from serving.errors import Unavailable
from serving.recommendations import repository

router = APIRouter(tags=["health"])

Store = Literal["database", "redis"]


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    database: bool = Field(description="PostgreSQL answered")
    redis: bool = Field(description="Redis answered")
    version: str | None = Field(
        description="Active serving-cache version in Redis; when Redis has none or is down, "
        "the active recommendations version in PostgreSQL"
    )


class LivePublic(BaseModel):
    status: Literal["ok"]


class ReadyPublic(BaseModel):
    status: Literal["ok", "degraded", "unavailable"] = Field(
        description="ok: both stores answer; degraded: one does; unavailable: neither can answer"
    )
    database: bool = Field(description="PostgreSQL answered within the probe timeout")
    redis: bool = Field(description="Redis answered within its timeout")
    down: list[Store] = Field(description="The stores that did not answer")
    version: str | None = Field(
        description="The data version served: the cache's (the last one known while Redis is "
        "down), else the active recommendations version in PostgreSQL"
    )
    published_at: datetime | None = Field(description="When the cache version was published")
    data_age_s: float | None = Field(description="Seconds since the cache version was published")


class _Probe(NamedTuple):
    database: bool
    redis: bool
    version: str | None
    published_at: float | None  # Unix time; None for a version from PostgreSQL


async def _probe(cache: CacheReader, db: Database) -> _Probe:
    database, redis_ok = await asyncio.gather(db.ping(), cache.ping())
    version = await cache.refresh() if redis_ok else cache.version
    published_at = cache.published_at  # read with the version: no await in between
    if version is None and database:
        try:
            version = await db.run(repository.active_version)
        except Unavailable:
            database = False
    return _Probe(database, redis_ok, version, published_at)


@router.get("/health", summary="Store status and data version", response_model=HealthPublic)
async def health(cache: CacheDep, db: DatabaseDep) -> HealthPublic:
    """Always 200: what each store says now, for people and dashboards."""
    probe = await _probe(cache, db)
    return HealthPublic(
        status="ok" if probe.database and probe.redis else "degraded",
        database=probe.database,
        redis=probe.redis,
        version=probe.version,
    )


@router.get("/health/live", summary="Liveness: the process serves HTTP", response_model=LivePublic)
async def live() -> LivePublic:
    return LivePublic(status="ok")


@router.get(
    "/health/ready",
    summary="Readiness: at least one store can answer",
    response_model=ReadyPublic,
    responses={503: {"model": ReadyPublic, "description": "Neither store can answer"}},
)
async def ready(cache: CacheDep, db: DatabaseDep, response: Response) -> ReadyPublic:
    probe = await _probe(cache, db)
    # Redis alone can answer only when it holds a published version.
    can_answer = probe.database or (probe.redis and probe.version is not None)
    down: list[Store] = [
        store for store, up in (("database", probe.database), ("redis", probe.redis)) if not up
    ]
    if not can_answer:
        response.status_code = 503
    published = probe.published_at
    return ReadyPublic(
        status="unavailable" if not can_answer else "degraded" if down else "ok",
        database=probe.database,
        redis=probe.redis,
        down=down,
        version=probe.version,
        published_at=None if published is None else datetime.fromtimestamp(published, UTC),
        data_age_s=None if published is None else round(max(0.0, time.time() - published), 1),
    )
