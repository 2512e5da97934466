"""Fixtures for the time-series storage tests: a fresh PostgreSQL database per test (for
migrations up and down) and a real TimescaleDB (PGlite with the extension, see
tests/support/timescale.py), both started here and removed afterwards."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from resources.db.migrate import upgrade
from resources.settings import Settings
from tests.support.throwaway import Missing
from tests.support.timescale import PgliteTimescale

_TIME_SERIES = "benchmark_results, model_snapshots, gpu_prices, benchmark_request_timings"


@pytest.fixture
def fresh_engine(database_url: str) -> Iterator[Engine]:
    """An empty database (no migration run) on the test server; dropped after the test."""
    server = make_url(database_url)
    name = f"{server.database}_ts_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(server.set(database=name), poolclass=NullPool)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _start_timescale(settings: Settings) -> PgliteTimescale:
    try:
        server = PgliteTimescale()
    except Missing as error:
        message = f"{error}; the TimescaleDB tests need it"
        if settings.require_services:
            pytest.fail(message + " (CATALOG_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip("SKIPPED LOUDLY: " + message)
    server.start()
    return server


@pytest.fixture(scope="module")
def timescale(test_settings: Settings) -> Iterator[Engine]:
    """TimescaleDB migrated to head, shared by a module's tests (one backend: NullPool)."""
    server = _start_timescale(test_settings)
    try:
        upgrade(server.url)
        engine = server.engine()
        yield engine
        engine.dispose()
    finally:
        server.stop()


@pytest.fixture
def timescale_db(timescale: Engine) -> Engine:
    """The module's TimescaleDB with its time-series tables emptied."""
    with timescale.begin() as conn:
        conn.execute(text(f"TRUNCATE {_TIME_SERIES}"))
    return timescale


@pytest.fixture
def fresh_timescale(test_settings: Settings) -> Iterator[Engine]:
    """A TimescaleDB of its own, not migrated, for a test that migrates up and down."""
    server = _start_timescale(test_settings)
    try:
        engine = server.engine()
        yield engine
        engine.dispose()
    finally:
        server.stop()
