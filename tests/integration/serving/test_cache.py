"""The cache path: Redis first, the same bytes as the fallback, and either store down."""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest
from redis.asyncio.client import PubSub

from resources.cache import RedisResource, data_key
from serving.cache import CacheReader, connect
from serving.snapshots import hot_payloads
from tests.integration.serving.seed import QWEN, RANKING, REMOVED, UNICODE

pytestmark = pytest.mark.integration

NO_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once
NO_DATABASE = "postgresql+psycopg2://postgres@127.0.0.1:1/none"
RANKING_URL = "/recommendations?task=lm-arena-chat&gpu=H100"


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A port that accepts connections and never answers: a hung Redis."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"


@pytest.fixture
def snapshot(seeded) -> dict[tuple[str, ...], bytes]:
    with seeded.connect() as conn:
        return dict(hot_payloads(conn))


def test_hot_payloads_cover_every_model_and_the_gpus(snapshot, seeded):
    with seeded.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM models").scalar()
    assert set(snapshot) == {("gpus",)} | {("model", m) for m in _model_ids(seeded)}
    assert len(snapshot) == count + 1
    assert ("model", REMOVED) in snapshot  # removed models keep their page


def _model_ids(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.exec_driver_sql("SELECT id FROM models").scalars())


def test_cached_bytes_equal_fallback_bytes(snapshot, make_client, publish):
    fallback = make_client()
    for parts, body in snapshot.items():
        url = "/gpus" if parts == ("gpus",) else "/models/" + quote(parts[1])
        response = fallback.get(url)
        assert response.status_code == 200
        assert "x-data-version" not in response.headers  # live rendering, no version
        assert response.content == body, url

    publish("v9", snapshot)
    cached = make_client()
    for parts, body in snapshot.items():
        url = "/gpus" if parts == ("gpus",) else "/models/" + quote(parts[1])
        response = cached.get(url)
        assert response.content == body, url
        assert response.headers["x-data-version"] == "v9"
        assert response.headers["etag"] == 'W/"v9"'


def _url(parts: list[str]) -> str:
    """The API URL that serves the payload cached under these key parts."""
    kind, rest = parts[0], parts[1:]
    if kind == "rec":
        return "/recommendations?" + urlencode(
            dict(zip(["task", "gpu", "profile"], rest, strict=True))
        )
    if kind == "pareto":
        return "/pareto?" + urlencode(dict(zip(["task", "gpu", "x", "y"], rest, strict=True)))
    return "/gpus" if kind == "gpus" else "/models/" + quote(":".join(rest))


def test_what_the_pipeline_publishes_equals_the_fallback(seeded, make_client, redis_url):
    """The real publisher (assets.serving_cache) against the API's PostgreSQL fallback."""
    from assets.serving_cache.entries import cache_entries

    with seeded.connect() as conn:
        version, entries = cache_entries(conn)
    resource = RedisResource(url=redis_url)
    resource.publish_version(version, entries, at=time.time())
    resource.client.close()
    cached, fallback = make_client(), make_client(cache=NO_REDIS)
    prefix = data_key(version) + ":"
    served = 0
    for key, body in entries.items():
        parts = key.removeprefix(prefix).split(":")
        if parts[0] == "index":
            continue
        hit, miss = cached.get(_url(parts)), fallback.get(_url(parts))
        assert hit.status_code == miss.status_code == 200, key
        assert hit.content == body == miss.content, key
        assert hit.headers["x-data-version"] == version
        served += 1
    assert served == len(entries) - 1 >= 9  # rankings, Pareto fronts, model pages, GPUs


def test_redis_wins_for_model_pages_and_gpus(seeded, make_client, publish):
    publish("v3", {("model", UNICODE): b'{"id":"from redis"}', ("gpus",): b'{"data":[]}'})
    client = make_client()
    assert client.get("/models/" + quote(UNICODE)).content == b'{"id":"from redis"}'
    assert client.get("/gpus").content == b'{"data":[]}'
    assert client.get(f"/models/{QWEN}").json()["id"] == QWEN  # not cached: PostgreSQL


def test_a_new_version_is_picked_up_without_a_restart(seeded, make_client, publish):
    publish("v1", {("gpus",): b'{"v":1}'})
    client = make_client()
    assert client.get("/gpus").content == b'{"v":1}'
    publish("v2", {("gpus",): b'{"v":2}'})
    deadline = time.monotonic() + 5
    while client.get("/gpus").content != b'{"v":2}':
        assert time.monotonic() < deadline, "the app never switched to v2"
        time.sleep(0.05)
    assert client.get("/gpus").headers["x-data-version"] == "v2"


@pytest.mark.parametrize("redis", ["refused", "silent"])
def test_redis_down_answers_from_postgresql_quickly(seeded, make_client, silent_redis, redis):
    client = make_client(cache=NO_REDIS if redis == "refused" else silent_redis)
    started = time.monotonic()
    for url in [f"/models/{QWEN}", "/gpus", RANKING_URL, "/models?q=qwen"] * 5:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
    # 20 requests; a retrying client would spend seconds per request on a dead Redis.
    assert time.monotonic() - started < 3
    assert client.get(RANKING_URL).json() == RANKING
    health = client.get("/health").json()
    assert health == {"status": "degraded", "database": True, "redis": False, "version": "v1"}


def test_database_down_serves_what_redis_has(snapshot, make_client, publish):
    publish("v4", snapshot | {("rec", "lm-arena-chat", "H100", "balanced"): b'{"items":[]}'})
    client = make_client(db=NO_DATABASE)
    page = client.get(f"/models/{QWEN}")
    assert page.status_code == 200
    assert page.content == snapshot["model", QWEN]
    assert client.get("/gpus").status_code == 200
    assert client.get(RANKING_URL).content == b'{"items":[]}'
    health = client.get("/health").json()
    assert health == {"status": "degraded", "database": False, "redis": True, "version": "v4"}


@pytest.mark.parametrize(
    "url", ["/models/nobody/nothing", "/models", f"/models/{QWEN}/benchmarks", RANKING_URL + "x"]
)
def test_database_down_and_not_cached_is_503(snapshot, make_client, publish, url):
    publish("v4", snapshot)
    response = make_client(db=NO_DATABASE).get(url)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    assert "database is unavailable" in error["message"]


def test_both_down_is_503_not_500(make_client):
    client = make_client(db=NO_DATABASE, cache=NO_REDIS)
    assert client.get(f"/models/{QWEN}").status_code == 503
    assert client.get("/health").json() == {
        "status": "degraded",
        "database": False,
        "redis": False,
        "version": None,
    }


def test_the_watcher_stops_even_when_redis_swallows_the_cancellation(redis_url, monkeypatch):
    # A cancellation that lands as the pub/sub read's timeout fires comes out of redis-py as "no
    # message": the watcher must still end, or the event loop waits for it at shutdown.
    original = PubSub.get_message

    async def swallowing(self, *args, **kwargs):
        try:
            return await original(self, *args, **kwargs)
        except asyncio.CancelledError:
            return None

    monkeypatch.setattr(PubSub, "get_message", swallowing)

    async def scenario() -> asyncio.Task:
        client = connect(redis_url, 0.5)
        reader = CacheReader(client, poll_s=0.2)
        reader.start()
        watcher = reader._watcher
        await asyncio.sleep(0.3)  # subscribed, waiting in get_message
        await asyncio.wait_for(reader.stop(), timeout=5)
        await client.aclose()
        return watcher

    # In a thread: without the fix the event loop's own shutdown waits for the watcher for ever.
    result: list[asyncio.Task] = []
    runner = threading.Thread(target=lambda: result.append(asyncio.run(scenario())), daemon=True)
    runner.start()
    runner.join(timeout=15)
    assert not runner.is_alive(), "the watcher kept running after stop()"
    assert result and result[0].done()
