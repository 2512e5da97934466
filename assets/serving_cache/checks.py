"""Checks on the serving cache."""

import dagster as dg

from resources.cache import RedisResource, data_key


@dg.asset_check(asset="serving_cache", description="Readers point at a published version whose "
                "index is present.")  # fmt: skip
def serving_cache_is_live(cache: RedisResource) -> dg.AssetCheckResult:
    version = cache.active_version()
    has_index = bool(version) and cache.client.exists(data_key(version, "index")) == 1
    return dg.AssetCheckResult(passed=has_index, metadata={"version": version or ""})
