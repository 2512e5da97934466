"""Running repository functions off the event loop, and what a database outage looks like.

The engine is synchronous (psycopg2): each call borrows a connection in a worker thread, runs one
repository function on it (the request owns that read-only transaction) and gives it back. An
outage (cannot connect, connection lost, statement timeout) becomes `Unavailable` (503); any other
database error is a bug and stays a 500.
"""

import logging
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool

from resources.db.engine import make_engine
from serving.errors import Unavailable

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# A serving request must not hang on a dead or overloaded database: fail in seconds, answer 503.
_CONNECT_ARGS = {"connect_timeout": 3, "options": "-c statement_timeout=10000"}


def serving_engine(url: str) -> Engine:
    return make_engine(url, connect_args=_CONNECT_ARGS, pool_size=10, max_overflow=10)


def is_outage(error: Exception) -> bool:
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


class Database:
    def __init__(self, engine: Engine):
        self.engine = engine

    async def run(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        try:
            return await run_in_threadpool(self._call, fn, *args, **kwargs)
        except (DBAPIError, PoolTimeout) as error:
            if not is_outage(error):
                raise
            logger.warning("database unavailable: %s", error.__class__.__name__)
            raise Unavailable(
                "the database is unavailable and this answer is not in the cache; try again shortly"
            ) from error

    async def ping(self) -> bool:
        try:
            await self.run(_select_one)
        except Unavailable:
            return False
        return True

    def _call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        with self.engine.connect() as conn:
            # Readers never write: make that a property of the connection, not a convention.
            conn = conn.execution_options(postgresql_readonly=True)
            return fn(conn, *args, **kwargs)


def _select_one(conn: Connection) -> None:
    conn.execute(text("SELECT 1"))
