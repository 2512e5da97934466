"""Fixtures for the API tests: the seeded catalog, the app on it, and a cache publisher."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from resources.cache import RedisResource, data_key
from resources.settings import Settings
from serving.app import create_app
from tests.integration.serving.seed import seed


@pytest.fixture
def seeded(clean_db: Engine) -> Engine:
    seed(clean_db)
    return clean_db


# A real (non-placeholder) secret, so the app starts whatever mode the auth checks assume.
TEST_JWT_SECRET = "test-jwt-secret-" + "0123456789abcdef" * 2


def _api_settings(**overrides) -> Settings:
    """Settings for an app under test: open reads, a real JWT secret, no rate limits (tests
    fire requests faster than any quota). The store URLs stay None here (they are create_app's
    arguments), so the settings validate."""
    values = {
        "jwt_secret": TEST_JWT_SECRET,
        "open_reads": True,
        "rate_limit_per_s": 0,
        "rate_limit_anonymous_per_s": 0,
        **overrides,
    }
    return Settings(database_url=None, redis_url=None, **values)


@pytest.fixture
def api_settings() -> Callable[..., Settings]:
    """The test app's settings; keyword arguments override (`api_settings(open_reads=False)`)."""
    return _api_settings


@pytest.fixture
def make_client(database_url: str, redis_url: str) -> Iterator[Callable[..., TestClient]]:
    """Start the app (lifespan on) against the given stores; the test stores by default."""
    clients: list[TestClient] = []

    def make(
        db: str = database_url, cache: str = redis_url, settings: Settings | None = None
    ) -> TestClient:
        app = create_app(db, cache, settings if settings is not None else _api_settings())
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(seeded: Engine, make_client) -> TestClient:
    return make_client()


@pytest.fixture
def publish(redis_url: str) -> Iterator[Callable[[str, dict[tuple[str, ...], bytes]], None]]:
    """Publish a version the way the pipeline does (RedisResource.publish_version)."""
    resource = RedisResource(url=redis_url, keep_versions=5)

    def run(version: str, entries: dict[tuple[str, ...], bytes]) -> None:
        keyed = {data_key(version, *parts): body for parts, body in entries.items()}
        resource.publish_version(version, keyed, at=datetime.now(UTC).timestamp())

    yield run
    resource.client.close()
