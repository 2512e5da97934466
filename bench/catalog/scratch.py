"""The scratch databases: the catalog at head, and a copy downgraded to 0002 (the baseline)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from resources.db import timeseries
from resources.db.migrate import alembic_config, upgrade
from resources.db.tables import BenchmarkResult, MlModel, ResultCost
from resources.settings import Settings


@contextmanager
def scratch_databases(
    settings: Settings, rows: list[dict], bench: tuple[list[dict], list[dict]]
) -> Iterator[tuple[str, str]]:
    """(new, baseline): the catalog at head, and a copy downgraded to 0002's indexes; `bench`
    (results, costs) goes into the new one only, after the copy."""
    server = make_url(settings.test_database_url)
    new, base = f"bench_catalog_{os.getpid()}", f"bench_catalog_{os.getpid()}_base"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    urls = [server.set(database=n).render_as_string(hide_password=False) for n in (new, base)]
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{new}"'))
        upgrade(urls[0])
        engine = create_engine(urls[0], poolclass=NullPool)
        with engine.begin() as conn:
            for start in range(0, len(rows), 5_000):
                conn.execute(insert(MlModel), rows[start : start + 5_000])
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE models"))
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{base}" TEMPLATE "{new}"'))
        engine = create_engine(urls[1], poolclass=NullPool)
        with engine.begin() as conn:
            config = alembic_config(urls[1])
            config.attributes["connection"] = conn
            command.downgrade(config, "0002")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE models"))
        engine.dispose()
        engine = create_engine(urls[0], poolclass=NullPool)
        with engine.begin() as conn:
            for table, values in zip((BenchmarkResult, ResultCost), bench, strict=True):
                for start in range(0, len(values), 5_000):
                    conn.execute(insert(table), values[start : start + 5_000])
            # What performance_rollups does after every load: the runs move out of the default
            # partition into their months (the layout production has), and the partitioned
            # parents get the statistics autovacuum never gathers for them.
            timeseries.ensure_partitions(conn)
            timeseries.analyze_partitioned(conn)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # Autovacuum's part (visibility maps for index-only scans), done now.
            conn.execute(text("VACUUM benchmark_results, result_costs"))
            conn.execute(text("ANALYZE result_costs"))
        engine.dispose()
        yield urls[0], urls[1]
    finally:
        with admin.connect() as conn:
            for name in (new, base):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
