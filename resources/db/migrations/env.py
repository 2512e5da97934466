"""Alembic environment: runs against the connection handed over by `resources.db.migrate`.

Autogenerate (`alembic revision --autogenerate`, `alembic check`) compares the database with
`resources.db.tables`. Two things in a migrated database are layout, not schema, and stay out of
that comparison (otherwise the next generated migration would drop or add them):

- native partitions (`pg_class.relispartition`): the monthly `*_pYYYY_MM` and `*_default` tables
  of the time series, made by migration 0007 and by the pipeline (`resources.db.timeseries`).
  They are skipped by name before reflection; the partitioned parents are compared as usual.
- a declared index that needs an extension the server lacks (`Index(info={"requires_extension":
  ...})`): migration 0003 skips the trigram index where pg_trgm is missing (the embedded
  pgserver, PGlite), so no migration should add it there.

TimescaleDB keeps chunks, compressed chunks and continuous aggregates' materializations in its own
schemas (`_timescaledb_internal`); only the default schema is compared, so they never show up.
tests/integration/db/test_schema_matches_tables.py runs `alembic check` on both layouts.
"""

from functools import cached_property

from alembic import context
from sqlalchemy import Connection, create_engine, text

from resources.db.tables import Base

config = context.config
target_metadata = Base.metadata

_PARTITIONS = text(
    "SELECT relname FROM pg_class WHERE relispartition "
    "AND relnamespace = to_regnamespace(current_schema())"
)
_EXTENSIONS = text("SELECT extname FROM pg_extension")


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    with create_engine(config.get_main_option("sqlalchemy.url")).connect() as conn:
        _migrate(conn)
        conn.commit()


def _migrate(connection: Connection) -> None:
    catalog = _Catalog(connection)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_name=catalog.include_name,
        include_object=catalog.include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


class _Catalog:
    """The autogenerate filters, with what they read from the catalog. Only autogenerate calls
    them, so the queries run on first use: a plain upgrade never pays for them."""

    def __init__(self, connection: Connection):
        self._connection = connection

    @cached_property
    def partitions(self) -> set[str]:
        return set(self._connection.execute(_PARTITIONS).scalars())

    @cached_property
    def extensions(self) -> set[str]:
        return set(self._connection.execute(_EXTENSIONS).scalars())

    def include_name(self, name: str | None, type_: str, parent_names: dict) -> bool:
        return not (type_ == "table" and name in self.partitions)

    def include_object(
        self, obj, name: str | None, type_: str, reflected: bool, compare_to
    ) -> bool:
        if type_ == "index" and not reflected:
            required = obj.info.get("requires_extension")
            return required is None or required in self.extensions
        return True


run()
