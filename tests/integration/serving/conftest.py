"""Fixtures for the API tests: the seeded catalog, the app on it, and a cache publisher."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from resources.cache import RedisResource, data_key
from serving.app import create_app
from tests.integration.serving.seed import seed


@pytest.fixture
def seeded(clean_db: Engine) -> Engine:
    seed(clean_db)
    return clean_db


@pytest.fixture
def make_client(database_url: str, redis_url: str) -> Iterator[Callable[..., TestClient]]:
    """Start the app (lifespan on) against the given stores; the test stores by default."""
    clients: list[TestClient] = []

    def make(db: str = database_url, cache: str = redis_url) -> TestClient:
        client = TestClient(create_app(db, cache), raise_server_exceptions=False)
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
