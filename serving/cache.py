"""The serving cache reader: which version is active, and its pre-serialised payloads.

The active version (`catalog:version`) is remembered in-process and refreshed by a background
task that subscribes to the publisher's channel and also re-reads the key every `poll_s` (a
subscriber misses messages while disconnected). Reads fail open: a Redis error or timeout is
logged and answered with None, so the caller falls back to PostgreSQL. After an error Redis is
skipped for `cooldown_s`, so a dead or hanging Redis costs one timeout per cooldown, not one per
request. An in-process LRU in front of Redis keeps answering hot keys even then.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import NamedTuple

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from resources.cache_keys import CHANNEL, VERSION_KEY, VERSIONS_KEY, data_key
from serving import metrics
from serving.lru import BytesLRU

logger = logging.getLogger(__name__)

# OSError covers refused connections and (since 3.11) asyncio timeouts that escape redis-py.
_REDIS_ERRORS = (RedisError, OSError)


def connect(url: str, timeout_s: float) -> Redis:
    """A client that gives up fast: a slow cache is worse than the PostgreSQL fallback."""
    return Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        # redis-py retries 10 times with backoff by default: seconds per request when Redis is
        # down. Fail once and let the caller fall back instead.
        retry=Retry(NoBackoff(), 0),
    )


class CacheHit(NamedTuple):
    version: str  # the version the bytes belong to (it may switch while a request runs)
    body: bytes


class CacheReader:
    def __init__(
        self,
        client: Redis,
        *,
        lru: BytesLRU | None = None,
        poll_s: float = 2.0,
        cooldown_s: float = 1.0,
    ):
        self._client = client
        self._lru = lru if lru is not None else BytesLRU()
        self._poll_s = poll_s
        self._cooldown_s = cooldown_s
        self._version: str | None = None
        self._published_at: float | None = None
        self._down_until = 0.0
        self._down = False
        self._watcher: asyncio.Task | None = None
        self._stopping = False

    @property
    def version(self) -> str | None:
        return self._version

    @property
    def published_at(self) -> float | None:
        """When `version` was published (Unix time), from `catalog:versions`; None if unknown."""
        return self._published_at

    async def get(self, parts: Sequence[str]) -> CacheHit | None:
        """The bytes under `data_key(version, *parts)` of the active version, or None."""
        version = self._version
        if version is None:
            return None
        key = data_key(version, *parts)
        body = self._lru.get((version, key))
        metrics.cache("memory", body is not None)
        if body is not None:
            return CacheHit(version, body)
        if time.monotonic() < self._down_until:
            return None
        try:
            body = await self._client.get(key)
        except _REDIS_ERRORS as error:
            self._mark_down(error)
            return None
        self._mark_up()
        metrics.cache("redis", body is not None)
        if body is None:
            return None
        self._lru.put((version, key), body)
        return CacheHit(version, body)

    async def refresh(self) -> str | None:
        """Re-read the active version; on error keep the one we know (fail open)."""
        with contextlib.suppress(*_REDIS_ERRORS):
            await self._read_version()
        return self._version

    async def ping(self) -> bool:
        try:
            await self._client.ping()
        except _REDIS_ERRORS as error:
            self._mark_down(error)
            return False
        self._mark_up()
        return True

    def start(self) -> None:
        self._watcher = asyncio.create_task(self._watch(), name="cache-version-watcher")

    async def stop(self) -> None:
        """End the watcher. A cancellation alone is not enough: when it lands as the pub/sub
        read's own timeout fires, redis-py turns it into a TimeoutError and the loop goes on (an
        event loop would then wait for the task for ever at shutdown). The flag ends the loop at
        its next turn, within `poll_s`."""
        if self._watcher is None:
            return
        self._stopping = True
        for _ in range(3):
            self._watcher.cancel()
            done, _ = await asyncio.wait({self._watcher}, timeout=self._poll_s + 1.0)
            if done:
                break
        else:
            logger.warning("the cache version watcher did not stop")
        self._watcher = None

    async def _read_version(self) -> None:
        try:
            raw = await self._client.get(VERSION_KEY)
            version = raw.decode() if raw else None
            # Read every time, not only on a switch: publishing a version again moves its time.
            published_at = await self._client.zscore(VERSIONS_KEY, version) if version else None
        except _REDIS_ERRORS as error:
            self._mark_down(error)
            raise
        self._mark_up()
        if version != self._version:
            logger.info("serving cache version %s -> %s", self._version, version)
            self._version = version
            self._lru.clear()  # the old version's entries are dead weight now
        metrics.set_data_version(version, published_at)
        self._published_at = published_at

    async def _watch(self) -> None:
        while not self._stopping:
            try:
                async with self._client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    while not self._stopping:
                        # Re-read after subscribing (no switch is missed in between), after
                        # each announcement, and every poll_s in case messages were lost.
                        await self._read_version()
                        await pubsub.get_message(timeout=self._poll_s)
            except _REDIS_ERRORS as error:
                self._mark_down(error)
                await asyncio.sleep(self._poll_s)

    def _mark_down(self, error: BaseException) -> None:
        metrics.dependency_error("redis")
        self._down_until = time.monotonic() + self._cooldown_s
        if not self._down:  # log the transition, not every failed request
            self._down = True
            logger.warning("Redis unavailable, serving from PostgreSQL: %r", error)

    def _mark_up(self) -> None:
        if self._down:
            self._down = False
            self._down_until = 0.0
            logger.info("Redis is back")
