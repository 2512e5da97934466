"""The cache reader's fail-open logic, against a stand-in client (Redis itself: integration)."""

import asyncio

import pytest
from redis.exceptions import ConnectionError, TimeoutError

from resources.cache_keys import VERSION_KEY, data_key, model_key, pareto_key, ranking_key
from serving import cache
from serving.cache import CacheHit, CacheReader


class FakeRedis:
    def __init__(self, data: dict[str, bytes]):
        self.data = data
        self.calls: list[str] = []
        self.error: Exception | None = None

    async def get(self, key: str) -> bytes | None:
        self.calls.append(key)
        if self.error is not None:
            raise self.error
        return self.data.get(key)

    async def ping(self) -> bool:
        if self.error is not None:
            raise self.error
        return True

    async def zscore(self, key: str, member: str) -> float | None:
        if self.error is not None:
            raise self.error
        return None


def run(coro):
    return asyncio.run(coro)


def test_the_reader_parts_are_the_publisher_key_layout():
    assert data_key("v", "rec", "t", "g", "p") == ranking_key("v", "t", "g", "p")
    assert data_key("v", "pareto", "t", "g", "x", "y") == pareto_key("v", "t", "g", "x", "y")
    assert data_key("v", "model", "a/b") == model_key("v", "a/b")


def test_no_version_means_no_redis_call():
    client = FakeRedis({})
    reader = CacheReader(client)  # type: ignore[arg-type]
    assert run(reader.get(("gpus",))) is None
    assert client.calls == []


def test_reads_the_active_version_and_remembers_hits():
    client = FakeRedis({VERSION_KEY: b"v1", data_key("v1", "gpus"): b"[1]"})
    reader = CacheReader(client)  # type: ignore[arg-type]
    assert run(reader.refresh()) == "v1"
    assert run(reader.get(("gpus",))) == CacheHit("v1", b"[1]")
    assert run(reader.get(("gpus",))) == CacheHit("v1", b"[1]")
    assert client.calls.count(data_key("v1", "gpus")) == 1  # the second came from the LRU
    assert run(reader.get(("model", "x"))) is None


def test_a_version_switch_reads_the_new_keys():
    client = FakeRedis({VERSION_KEY: b"v1", data_key("v1", "gpus"): b"old"})
    reader = CacheReader(client)  # type: ignore[arg-type]
    run(reader.refresh())
    assert run(reader.get(("gpus",))).body == b"old"
    client.data |= {VERSION_KEY: b"v2", data_key("v2", "gpus"): b"new"}
    run(reader.refresh())
    assert run(reader.get(("gpus",))) == CacheHit("v2", b"new")


@pytest.mark.parametrize("error", [ConnectionError("refused"), TimeoutError("slow"), OSError()])
def test_fails_open_and_skips_redis_for_the_cooldown(error):
    client = FakeRedis({VERSION_KEY: b"v1", data_key("v1", "hot"): b"hot"})
    reader = CacheReader(client, cooldown_s=60)  # type: ignore[arg-type]
    run(reader.refresh())
    run(reader.get(("hot",)))
    client.error = error
    calls = len(client.calls)
    assert run(reader.get(("cold",))) is None  # the error is swallowed: fall back
    assert run(reader.get(("cold",))) is None
    assert len(client.calls) == calls + 1  # the second did not wait on Redis again
    assert run(reader.get(("hot",))).body == b"hot"  # still served from memory
    assert run(reader.refresh()) == "v1"  # the known version is kept
    assert run(reader.ping()) is False


def test_redis_is_tried_again_after_the_cooldown():
    client = FakeRedis({VERSION_KEY: b"v1", data_key("v1", "k"): b"k"})
    reader = CacheReader(client, cooldown_s=0)  # type: ignore[arg-type]
    run(reader.refresh())
    client.error = ConnectionError()
    assert run(reader.get(("k",))) is None
    client.error = None
    assert run(reader.get(("k",))).body == b"k"


def test_the_client_does_not_retry():
    # redis-py's default retries with backoff would hold a request for seconds on a dead Redis.
    client = cache.connect("redis://127.0.0.1:1/0", timeout_s=0.05)
    assert client.get_retry().get_retries() == 0
    assert client.connection_pool.connection_kwargs["socket_timeout"] == 0.05
