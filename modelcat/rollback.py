"""Roll the served recommendations back to the previous published version."""

from dataclasses import dataclass

from sqlalchemy import Engine, select, update

from resources.cache import VERSIONS_KEY, RedisResource
from resources.db.tables import RecommendationVersion

_VERSIONS = RecommendationVersion.__table__


@dataclass(frozen=True)
class Rollback:
    database: tuple[str, str]  # (from, to) recommendations version
    cache: tuple[str, str] | None  # (from, to) serving-cache version, None when none is older


def rollback(engine: Engine, cache: RedisResource) -> Rollback:
    """Make the newest inactive version active again, in PostgreSQL and in Redis."""
    with engine.begin() as conn:
        versions = conn.execute(
            select(_VERSIONS.c.version, _VERSIONS.c.active).order_by(_VERSIONS.c.created_at.desc())
        ).all()
        current = next((v for v, active in versions if active), None)
        previous = next((v for v, active in versions if not active), None)
        if current is None or previous is None:
            raise LookupError("no previous recommendations version to roll back to")
        conn.execute(update(_VERSIONS).values(active=_VERSIONS.c.version == previous))
    return Rollback(database=(current, previous), cache=_rollback_cache(cache))


def _rollback_cache(cache: RedisResource) -> tuple[str, str] | None:
    current = cache.active_version()
    published = [v.decode() for v in cache.client.zrange(VERSIONS_KEY, 0, -1)]
    if current not in published or published.index(current) == 0:
        return None
    previous = published[published.index(current) - 1]
    cache.activate(previous)
    return current, previous
