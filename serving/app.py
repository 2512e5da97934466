"""The API's app factory: `uvicorn serving.app:create_app --factory`.

The lifespan owns the two clients: a synchronous SQLAlchemy engine (queries run in worker
threads) and a `redis.asyncio` client with short timeouts, wrapped in the cache reader.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from resources.mode import store_urls
from resources.settings import Settings, get_settings
from serving import cache, errors, health
from serving.benchmarks import router as benchmarks
from serving.db import Database, serving_engine
from serving.gpus import router as gpus
from serving.models import router as models
from serving.recommendations import router as recommendations

TAGS = [
    {"name": "models", "description": "ML models from the registries, with popularity"},
    {"name": "benchmarks", "description": "Measured and imported results, with provenance"},
    {"name": "gpus", "description": "GPU specs and prices"},
    {"name": "recommendations", "description": "Rankings, Pareto fronts, ad-hoc queries"},
    {"name": "health", "description": "Store status"},
]


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
        try:
            yield
        finally:
            await reader.stop()
            await client.aclose()
            await run_in_threadpool(engine.dispose)

    app = FastAPI(
        title="Model Catalog API",
        summary="Which model to run on which GPU, at what latency and cost.",
        version="0.1.0",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(health.router)
    # Order matters: `/models/{id:path}/benchmarks` must be tried before `/models/{id:path}`.
    app.include_router(benchmarks.router)
    app.include_router(models.router)
    app.include_router(gpus.router)
    app.include_router(recommendations.router)
    return app
