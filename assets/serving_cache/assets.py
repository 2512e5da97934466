"""The serving cache: the active recommendations and hot catalog views, in Redis."""

import time

import dagster as dg

from assets.serving_cache.entries import cache_entries
from resources.cache import RedisResource
from resources.database import DatabaseResource


@dg.asset(
    group_name="serving", kinds={"python", "redis"}, deps=["recommendations", "model_snapshots"]
)
def serving_cache(database: DatabaseResource, cache: RedisResource) -> dg.MaterializeResult:
    """Publishes pre-serialised JSON (rankings, Pareto fronts, model pages, GPU list, an index)
    to Redis under a new version prefix, then switches readers to it in one atomic step; the
    previous version stays for rollback."""
    with database.begin() as conn:
        version, entries = cache_entries(conn)
    dropped = cache.publish_version(version, entries, at=time.time())
    return dg.MaterializeResult(
        metadata={
            "version": version,
            "keys": len(entries),
            "bytes": sum(len(v) for v in entries.values()),
            "versions_dropped": dg.MetadataValue.json(dropped),
        }
    )
