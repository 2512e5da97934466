import pytest
from sqlalchemy import insert, select

from modelcat.rollback import rollback
from resources.cache import RedisResource, data_key
from resources.db.tables import RecommendationVersion

T = RecommendationVersion.__table__


def test_rollback_reactivates_the_previous_version_everywhere(clean_db, redis_url):
    with clean_db.begin() as conn:
        conn.execute(insert(T), [
            {"version": "old", "active": False, "summary": {}, "created_at": "2026-01-01T00:00Z"},
            {"version": "new", "active": True, "summary": {}, "created_at": "2026-01-02T00:00Z"},
        ])  # fmt: skip
    cache = RedisResource(url=redis_url)
    cache.publish_version("c-old", {data_key("c-old", "index"): b"{}"}, at=1.0)
    cache.publish_version("c-new", {data_key("c-new", "index"): b"{}"}, at=2.0)

    done = rollback(clean_db, cache)

    assert done.database == ("new", "old")
    assert done.cache == ("c-new", "c-old")
    assert cache.active_version() == "c-old"
    with clean_db.connect() as conn:
        assert conn.execute(select(T.c.version).where(T.c.active)).scalars().all() == ["old"]


def test_rollback_without_a_previous_version_says_so(clean_db, redis_url):
    with clean_db.begin() as conn:
        conn.execute(insert(T), [{"version": "only", "active": True, "summary": {}}])
    with pytest.raises(LookupError, match="no previous"):
        rollback(clean_db, RedisResource(url=redis_url))
