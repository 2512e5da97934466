"""Cold and warm timings, through the repository and through the HTTP API, and query plans."""

import statistics
import time
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from sqlalchemy import Connection, create_engine, func, select
from sqlalchemy.pool import NullPool

from resources.db.tables import MlModel
from serving import errors
from serving.db import Database
from serving.models import repository, router
from serving.models.filters import ModelFilters

COLD_RUNS, WARM_RUNS = 5, 10


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def time_sql(url: str, run: Callable[[Connection], object]) -> tuple[list[float], list[float]]:
    """(cold, warm) milliseconds of `run`; cold on fresh connections, connecting untimed."""
    engine = create_engine(url, poolclass=NullPool)
    cold = []
    for _ in range(COLD_RUNS):
        with engine.connect() as conn:
            cold.append(timed(lambda conn=conn: run(conn)))
    with engine.connect() as conn:
        run(conn)
        warm = [timed(lambda: run(conn)) for _ in range(WARM_RUNS)]
    engine.dispose()
    return cold, warm


async def time_api(url: str, params: dict) -> tuple[list[float], list[float]]:
    app = FastAPI()
    errors.install(app)
    app.include_router(router.router)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    app.state.database = Database(engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def get() -> float:
            start = time.perf_counter()
            response = await client.get("/models", params=params)
            assert response.status_code == 200, response.text
            return (time.perf_counter() - start) * 1000

        cold = []
        for _ in range(COLD_RUNS):
            engine.dispose()  # the next request opens a new connection
            cold.append(await get())
        await get()
        warm = [await get() for _ in range(WARM_RUNS)]
    engine.dispose()
    return cold, warm


def pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def explain(url: str, f: ModelFilters) -> str:
    """The plans of the statements the new code runs for `f` (page runs and the count)."""
    engine = create_engine(url, poolclass=NullPool)
    statements = []
    conditions = repository._conditions(f)
    for extra, order in repository._runs(f):
        query = select(*repository._LISTED).where(*conditions, *extra).order_by(*order)
        statements.append(query.limit(f.limit + 1).offset(f.offset or None))
    matching = select(1).select_from(MlModel).where(*conditions).limit(repository.COUNT_CAP + 1)
    statements.append(select(func.count()).select_from(matching.subquery()))
    out = []
    with engine.connect() as conn:
        for statement in statements:
            # render_postcompile: `source` is an IN list, a placeholder only SQLAlchemy expands.
            compiled = statement.compile(
                dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
            )
            plan = conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + compiled.string, compiled.params
            ).scalars()
            out.append("\n".join(plan))
    engine.dispose()
    return "\n---\n".join(out)
