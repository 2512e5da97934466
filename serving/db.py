"""Running repository functions off the event loop, and what a database outage looks like.

The engine is synchronous (psycopg2): each call borrows a connection in a worker thread, runs one
repository function on it (the request owns that read-only transaction) and gives it back. An
outage (cannot connect, connection lost, statement timeout, no answer by the deadline) becomes
`Unavailable` (503); any other database error is a bug and stays a 500.

psycopg2 has no client-side timeout once connected: a query on a hung server (SIGSTOP, a stalled
VM) blocks its thread until the server answers or dies. So each call has a deadline, after which
the request gets its 503 and the thread is abandoned. After an outage the database is skipped
for `cooldown_s` (503 at once: no thread, no pool slot), then a single call probes it while the
others keep failing fast, so a hung server strands one thread per cooldown, not one per request.
"""

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Concatenate, ParamSpec, TypeVar

import anyio
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from resources.db.engine import make_engine
from serving import metrics
from serving.errors import Unavailable

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# A serving request must not hang on a dead or overloaded database: fail in seconds, answer 503.
QUERY_TIMEOUT_S = 5.0
PROBE_TIMEOUT_S = 1.0  # health probes answer within a second, whatever the database does
_CONNECT_ARGS = {
    "connect_timeout": 3,
    # The server stops what nobody waits for any more (the client deadline is the same).
    "options": f"-c statement_timeout={int(QUERY_TIMEOUT_S * 1000)}",
}
# The default 30 s would keep a thread waiting for a slot long after its request got its 503.
_POOL_TIMEOUT_S = 2
_MESSAGE = "the database is unavailable and this answer is not in the cache; try again shortly"


def serving_engine(url: str) -> Engine:
    return make_engine(
        url, connect_args=_CONNECT_ARGS, pool_size=10, max_overflow=10, pool_timeout=_POOL_TIMEOUT_S
    )


def is_outage(error: Exception) -> bool:
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


class Database:
    def __init__(
        self, engine: Engine, *, timeout_s: float = QUERY_TIMEOUT_S, cooldown_s: float = 2.0
    ):
        self.engine = engine
        self._timeout_s = timeout_s
        self._cooldown_s = cooldown_s
        self._down = False
        self._down_until = 0.0

    async def run(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await self._guarded(partial(self._call, fn, *args, **kwargs), self._timeout_s)

    async def ping(self, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
        try:
            await self._guarded(partial(self._call, _select_one), timeout_s)
        except Unavailable:
            return False
        return True

    async def _guarded(self, call: Callable[[], T], timeout_s: float) -> T:
        self._admit()
        try:
            with anyio.fail_after(timeout_s):
                # Abandoned on timeout: the thread finishes (or not) on its own.
                result = await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
        except TimeoutError as error:
            self._mark_down(error)
            raise Unavailable(_MESSAGE) from error
        except (DBAPIError, PoolTimeout) as error:
            if not is_outage(error):
                self._mark_up()  # it answered, with an error of ours
                raise
            self._mark_down(error)
            raise Unavailable(_MESSAGE) from error
        self._mark_up()
        return result

    def _admit(self) -> None:
        now = time.monotonic()
        if now < self._down_until:
            raise Unavailable(_MESSAGE)
        if self._down:
            # The cooldown is over and this call probes the database: until it is answered, the
            # others keep failing fast instead of each stranding a thread on a hung server.
            self._down_until = now + self._timeout_s + self._cooldown_s

    def _mark_down(self, error: BaseException) -> None:
        metrics.dependency_error("postgres")
        self._down_until = time.monotonic() + self._cooldown_s
        if not self._down:  # log the transition, not every failed request
            self._down = True
            logger.warning("database unavailable: %r", error)

    def _mark_up(self) -> None:
        if self._down:
            self._down = False
            self._down_until = 0.0
            logger.info("database is back")

    def _call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        with self.engine.connect() as conn:
            # Readers never write: make that a property of the connection, not a convention.
            conn = conn.execution_options(postgresql_readonly=True)
            return fn(conn, *args, **kwargs)


def _select_one(conn: Connection) -> None:
    conn.execute(text("SELECT 1"))
