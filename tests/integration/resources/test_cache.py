import pytest

from resources.cache import VERSION_KEY, RedisResource, data_key


def _publish(cache: RedisResource, version: str, at: float) -> list[str]:
    return cache.publish_version(version, {data_key(version, "index"): version.encode()}, at=at)


def test_publish_switches_readers_and_keeps_the_previous_version(redis_url):
    cache = RedisResource(url=redis_url, keep_versions=2)
    pubsub = cache.client.pubsub()
    pubsub.subscribe("catalog:version-changed")
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    assert _publish(cache, "v1", 1.0) == []
    assert _publish(cache, "v2", 2.0) == []
    assert cache.active_version() == "v2"
    assert cache.client.get(data_key("v1", "index")) == b"v1"  # kept for rollback
    assert pubsub.get_message(timeout=1)["data"] == b"v1"
    # A third version drops the oldest, keys and all.
    assert _publish(cache, "v3", 3.0) == ["v1"]
    assert cache.client.get(data_key("v1", "index")) is None
    assert cache.client.get(VERSION_KEY) == b"v3"


def test_activate_refuses_an_unknown_version(redis_url):
    cache = RedisResource(url=redis_url)
    _publish(cache, "v1", 1.0)
    with pytest.raises(KeyError):
        cache.activate("never-published")
    cache.activate("v1")
    assert cache.active_version() == "v1"
