"""Fixtures of the registry integration tests."""

import pytest

from resources.settings import Settings
from tests.integration.registry.hub_records import real_records


@pytest.fixture(scope="session")
def records() -> list[dict]:
    return real_records()


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(database_url=None, redis_url=None)
