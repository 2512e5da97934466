"""Shared fixtures: a real PostgreSQL database and a real Redis for integration tests.

Each test session gets its own database (created from `test_database_url`'s server, migrated
to head, dropped at the end) and a Redis database that is flushed before each test. Where a
service is missing the tests skip loudly, unless CATALOG_REQUIRE_SERVICES=1 (CI), where they fail.
"""

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from resources.db.migrate import upgrade
from resources.db.tables import Base
from resources.settings import Settings

# Timing is not what property tests check: on a shared 2-core machine a first draw that loads
# Hypothesis's unicode tables, or a busy neighbour, must not fail a run.
hypothesis_settings.register_profile(
    "catalog", suppress_health_check=[HealthCheck.too_slow], deadline=None
)
hypothesis_settings.load_profile("catalog")


@pytest.fixture(scope="session")
def test_settings() -> Settings:
    return Settings(database_url=None, redis_url=None)


def _unavailable(what: str, error: Exception, settings: Settings):
    message = f"{what} is not reachable ({error}); integration tests need it"
    if settings.require_services:
        pytest.fail(message + " (CATALOG_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip("SKIPPED LOUDLY: " + message)


@pytest.fixture(scope="session")
def database_url(test_settings: Settings) -> Iterator[str]:
    server = make_url(test_settings.test_database_url)
    name = f"mc_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure to reach the server means "missing"
        admin.dispose()
        _unavailable(f"PostgreSQL at {server.render_as_string()}", error, test_settings)
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(engine: Engine) -> Engine:
    """The session database, emptied before the test."""
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names}"))
    return engine


@pytest.fixture
def redis_url(test_settings: Settings) -> str:
    client = redis.Redis.from_url(test_settings.test_redis_url, socket_timeout=2)
    try:
        client.flushdb()
    except redis.exceptions.RedisError as error:
        _unavailable(f"Redis at {test_settings.test_redis_url}", error, test_settings)
    finally:
        client.close()
    return test_settings.test_redis_url
