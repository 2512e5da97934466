"""PostgreSQL: the one resource for the catalog database."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy import Connection, Engine, text

from resources.db.engine import make_engine

_MIGRATED: set[str] = set()


def _migrate_once(url: str) -> None:
    if url not in _MIGRATED:
        from resources.db.migrate import upgrade

        upgrade(url)
        _MIGRATED.add(url)


class DatabaseResource(dg.ConfigurableResource):
    """The catalog's PostgreSQL database (embedded pgserver or a real server)."""

    url: str
    _engine: Engine | None = PrivateAttr(default=None)

    def setup_for_execution(self, context) -> None:
        # Every run brings the schema to head first (cheap when it already is; locked).
        _migrate_once(self.url)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: everything inside commits together or not at all."""
        with self.engine.begin() as conn:
            yield conn

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def teardown_after_execution(self, context) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
