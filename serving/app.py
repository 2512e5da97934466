"""The API's app factory: `granian --interface asgi --factory serving.app:create_app`.

The lifespan owns the clients: a synchronous SQLAlchemy engine (queries run in worker threads)
and a `redis.asyncio` client with short timeouts, wrapped in the cache reader and the rate
limiter. HTTP requests enter through `serving.edge.Edge` (auth, rate limit, response cache,
metrics) and only then, when they need it, FastAPI.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Security
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from resources.mode import store_urls
from resources.settings import Settings, get_settings
from serving import cache, errors, health, metrics
from serving.analytics import router as analytics
from serving.benchmarks import plan_router
from serving.benchmarks import requests as benchmark_requests
from serving.benchmarks import router as benchmarks
from serving.db import Database, serving_engine
from serving.edge import Edge
from serving.gpus import router as gpus
from serving.models import router as models
from serving.recommendations import router as recommendations
from serving.security import READ, REQUEST_BENCHMARKS, Authenticator, RateLimiter, require
from serving.security import router as auth
from serving.web import choices as web_choices
from serving.web import router as web

TAGS = [
    {"name": "models", "description": "ML models from the registries, with popularity"},
    {"name": "benchmarks", "description": "Measured and imported results, with provenance"},
    {"name": "gpus", "description": "GPU specs and prices"},
    {"name": "recommendations", "description": "Rankings, Pareto fronts, ad-hoc queries"},
    {"name": "analytics", "description": "Popularity and performance over time, regressions"},
    {"name": "auth", "description": "OAuth2 client-credentials tokens"},
    {"name": "health", "description": "Liveness, readiness, store status and metrics"},
]


class CatalogApi(FastAPI):
    """FastAPI, with HTTP requests entering through the edge (see `serving.edge`)."""

    edge: Edge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.edge(scope, receive, send)
        else:  # lifespan
            await super().__call__(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def _urls(database_url: str | None, redis_url: str | None, settings: Settings) -> tuple[str, str]:
    if database_url is not None and redis_url is not None:
        return database_url, redis_url
    # Either missing: the configured stores, or the embedded ones (started on first use).
    default_database, default_redis = store_urls(settings)
    return database_url or default_database, redis_url or default_redis


def create_app(
    database_url: str | None = None,
    redis_url: str | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    settings = settings if settings is not None else get_settings()
    # Built here, not in the lifespan: a placeholder secret outside the embedded mode must stop
    # the server before it binds, with the variable to set in the message.
    authenticator = Authenticator(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db_url, cache_url = _urls(database_url, redis_url, settings)
        engine = serving_engine(db_url)
        client = cache.connect(cache_url, settings.redis_timeout_s)
        reader = cache.CacheReader(client)
        await reader.refresh()  # so the first request already knows the version
        reader.start()
        app.state.settings = settings
        app.state.database = Database(engine)
        app.state.cache = reader
        app.state.redis = client
        app.state.limiter = RateLimiter(client, settings)
        try:
            yield
        finally:
            await reader.stop()
            await client.aclose()
            await run_in_threadpool(engine.dispose)

    app = CatalogApi(
        title="Model Catalog API",
        summary="Which model to run on which GPU, at what latency and cost.",
        version="0.1.0",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.authenticator = authenticator
    app.edge = Edge(
        app.handle,
        app.state,
        max_bytes=settings.response_cache_mb * 2**20,
        max_age_s=settings.cache_max_age_s,
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(auth.router)
    reads = [Security(require(READ))]
    # Order matters: `/models/{id:path}/benchmarks` must be tried before `/models/{id:path}`.
    app.include_router(benchmarks.router, dependencies=reads, responses=errors.PROTECTED)
    app.include_router(plan_router.router, dependencies=reads, responses=errors.PROTECTED)
    app.include_router(
        benchmark_requests.router,
        dependencies=[Security(require(REQUEST_BENCHMARKS))],
        responses=errors.PROTECTED,
    )
    app.include_router(models.router, dependencies=reads, responses=errors.PROTECTED)
    app.include_router(gpus.router, dependencies=reads, responses=errors.PROTECTED)
    app.include_router(recommendations.router, dependencies=reads, responses=errors.PROTECTED)
    app.include_router(analytics.router, dependencies=reads, responses=errors.PROTECTED)
    app.include_router(web_choices.router, dependencies=reads, responses=errors.PROTECTED)
    app.include_router(web.router)  # the pages: static, their data calls are authorised
    return app
