"""The API in a real server while its real Redis and PostgreSQL die, hang and come back.

The stores are private throwaway servers (tests/support/throwaway.py), so killing and pausing
them harms no other test. A client thread keeps requesting cached and uncached URLs, labelling
each answer with the phase it was sent in; each test then checks what every phase got. Latency
bounds are generous ceilings that tell "degraded" from "hung" (a hang is 10 s or forever), never
speed measurements.
"""

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import redis
from sqlalchemy import create_engine

from resources.cache import RedisResource, data_key
from resources.cache_keys import VERSIONS_KEY
from resources.db.migrate import upgrade
from resources.settings import Settings
from serving import cache
from serving.app import create_app
from serving.db import QUERY_TIMEOUT_S
from serving.snapshots import hot_payloads
from tests.integration.serving.live import serving
from tests.integration.serving.seed import LLAMA, QWEN, seed
from tests.support.throwaway import (
    Missing,
    ThrowawayPostgres,
    ThrowawayRedis,
    unavailable,
)

pytestmark = pytest.mark.integration

CACHED = ["/gpus", f"/models/{QWEN}"]  # published, and requested before any outage
# Rendered from the live tables: no version, so no in-process layer may keep them either.
UNCACHED = ["/models?q=qwen", f"/models/{QWEN}/benchmarks"]
NOT_YET_READ = f"/models/{LLAMA}"  # published, but requested only once a test wants Redis
# Ceilings, clearly below a hang (10 s, or forever): a degraded answer costs at most one 50 ms
# Redis timeout; a 503 at most the database deadline.
DEGRADED_S = 1.0
FAILED_FAST_S = QUERY_TIMEOUT_S + 3


@dataclass
class Stores:
    postgres: ThrowawayPostgres
    redis: ThrowawayRedis
    entries: dict[tuple[str, ...], bytes]

    def publish(self, version: str) -> None:
        """Publish the hot payloads as `version`, as the pipeline does."""
        resource = RedisResource(url=self.redis.url, keep_versions=5)
        keyed = {data_key(version, *parts): body for parts, body in self.entries.items()}
        resource.publish_version(version, keyed, at=time.time())
        resource.client.close()

    def heal(self) -> None:
        """Both running and answering, Redis holding version cache-1 and nothing else."""
        self.postgres.resume()
        if not self.postgres.running:
            self.postgres.start()
        self.redis.resume()
        if not self.redis.running:
            self.redis.start()
        client = redis.Redis.from_url(self.redis.url, socket_timeout=5)
        client.flushall()
        client.close()
        self.publish("cache-1")


@pytest.fixture(scope="module")
def stores(test_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    try:
        postgres, server = ThrowawayPostgres(), ThrowawayRedis(tmp_path_factory.mktemp("redis"))
    except Missing as error:
        unavailable(error, test_settings)
    with postgres, server:
        upgrade(postgres.url)
        engine = create_engine(postgres.url)
        seed(engine)
        with engine.connect() as conn:
            entries = dict(hot_payloads(conn))
        engine.dispose()
        yield Stores(postgres, server, entries)


def _settings() -> Settings:
    """Open reads, a real-looking secret, and no rate limit (the load is ours)."""
    return Settings(
        database_url=None,
        redis_url=None,
        jwt_secret="x" * 40,
        open_reads=True,
        rate_limit_anonymous_per_s=0,
    )


@pytest.fixture
def api(stores: Stores) -> Iterator[str]:
    """The app in a real uvicorn server (lifespan on) on the throwaway stores; its base URL."""
    stores.heal()
    app = create_app(stores.postgres.url, stores.redis.url, settings=_settings())
    with serving(app) as url:
        try:
            yield url
        finally:
            stores.heal()  # lets requests stuck on a paused store finish, so the server can stop


@dataclass(frozen=True)
class Answer:
    phase: str
    url: str
    status: int  # 0: no HTTP answer at all (timeout, connection error)
    version: str | None
    seconds: float
    body: bytes
    retry_after: str | None


@dataclass
class Traffic:
    """A client thread requesting `urls` in turn, labelling answers with the phase they were sent
    in, until the test ends (at most `limit_s`)."""

    base: str
    urls: list[str]
    limit_s: float = 40.0
    phase: str = "up"
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> "Traffic":
        self._thread = threading.Thread(target=self._run, name="resilience-client", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(20)

    def collect(self, phase: str, count: int, timeout_s: float = 20.0) -> list[Answer]:
        """Switch to `phase` and return its first `count` answers."""
        return self.until(phase, lambda answers: len(answers) >= count, timeout_s)[:count]

    def until(
        self, phase: str, done: Callable[[list[Answer]], object], timeout_s: float = 20.0
    ) -> list[Answer]:
        self.phase = phase
        deadline = time.monotonic() + timeout_s
        while not done(answers := self.of(phase)):
            assert time.monotonic() < deadline, f"phase {phase!r} never got there: {answers}"
            time.sleep(0.02)
        return answers

    def of(self, phase: str) -> list[Answer]:
        return [answer for answer in list(self.answers) if answer.phase == phase]

    def _run(self) -> None:
        ends = time.monotonic() + self.limit_s
        with httpx.Client(base_url=self.base, timeout=15) as client:
            while not self._stop.is_set() and time.monotonic() < ends:
                for url in self.urls:
                    self.answers.append(_request(client, url, self.phase))


def _request(client: httpx.Client, url: str, phase: str) -> Answer:
    started = time.monotonic()
    try:
        response = client.get(url)
    except httpx.HTTPError:
        return Answer(phase, url, 0, None, time.monotonic() - started, b"", None)
    return Answer(
        phase, url, response.status_code, response.headers.get("x-data-version"),
        time.monotonic() - started, response.content, response.headers.get("retry-after"),
    )  # fmt: skip


def _ready(base: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(base + "/health/ready", timeout=15)
    return response, time.monotonic() - started


def _assert_cached_answers_come(answers: list[Answer], version: str = "cache-1") -> None:
    cached = [a for a in answers if a.url in CACHED]
    assert cached, answers
    assert {(a.status, a.version) for a in cached} == {(200, version)}, cached


def _assert_served_by_postgresql(answers: list[Answer]) -> None:
    uncached = [a for a in answers if a.url in UNCACHED]
    assert uncached, answers
    assert {(a.status, a.version) for a in uncached} == {(200, None)}, uncached


def _assert_unavailable_quickly(answers: list[Answer]) -> None:
    uncached = [a for a in answers if a.url in UNCACHED]
    assert uncached, answers
    for answer in uncached:
        assert answer.status == 503, answer
        assert answer.retry_after is not None, answer
        assert b'"code":"unavailable"' in answer.body and b"database" in answer.body, answer
        assert answer.seconds < FAILED_FAST_S, answer
    # Once the outage is known the database is skipped for a while: the rest fail at once.
    slow = [a for a in uncached if a.seconds >= DEGRADED_S]
    assert len(slow) <= 2, slow


def test_redis_killed_then_restarted(stores, api):
    with Traffic(api, CACHED + UNCACHED) as traffic:
        up = traffic.collect("up", 8)
        _assert_cached_answers_come(up)
        _assert_served_by_postgresql(up)

        stores.redis.kill()
        down = traffic.collect("redis killed", 12)
        _assert_cached_answers_come(down)  # from the API's memory
        _assert_served_by_postgresql(down)
        assert max(a.seconds for a in down) < DEGRADED_S, down
        ready, seconds = _ready(api)
        assert seconds < 2 * DEGRADED_S
        assert ready.status_code == 200
        body = ready.json()
        assert (body["database"], body["redis"], body["down"]) == (True, False, ["redis"])
        assert (body["version"], body["status"]) == ("cache-1", "degraded")  # the last one known
        assert body["published_at"] is not None and 0 <= body["data_age_s"] < 60

        stores.redis.start()  # empty: a restarted Redis has lost everything
        stores.publish("cache-2")
        # The version watcher reconnects and resubscribes by itself.
        traffic.until("redis back", lambda answers: any(a.version == "cache-2" for a in answers))
        ready, _ = _ready(api)
        assert ready.json()["redis"] is True and ready.json()["version"] == "cache-2"


def _versioned(answers: list[Answer]) -> list[Answer]:
    return [a for a in answers if a.url == NOT_YET_READ and a.version]


def test_redis_hung_then_resumed(stores, api):
    with Traffic(api, CACHED + UNCACHED) as traffic:
        _assert_cached_answers_come(traffic.collect("up", 8))

        stores.redis.pause()
        hung = traffic.collect("redis hung", 16)
        _assert_cached_answers_come(hung)
        _assert_served_by_postgresql(hung)
        # A hung Redis costs one short timeout now and then, never a hang per request.
        assert max(a.seconds for a in hung) < DEGRADED_S, hung
        ready, seconds = _ready(api)
        assert seconds < 2 * DEGRADED_S
        assert ready.status_code == 200 and ready.json()["down"] == ["redis"]

        stores.redis.resume()
        traffic.urls = [NOT_YET_READ]  # not in the API's memory: only Redis has it with a version
        answer = _versioned(traffic.until("redis resumed", _versioned))[0]
        assert (answer.status, answer.version) == (200, "cache-1")
    assert _ready(api)[0].json()["down"] == []


@pytest.mark.parametrize("outage", ["killed", "hung"])
def test_postgresql_outage_then_back(stores, api, outage):
    with Traffic(api, CACHED + UNCACHED) as traffic:
        up = traffic.collect("up", 8)
        _assert_cached_answers_come(up)
        _assert_served_by_postgresql(up)

        stores.postgres.kill() if outage == "killed" else stores.postgres.pause()
        down = traffic.collect(f"postgresql {outage}", 12)
        _assert_cached_answers_come(down)  # from Redis and memory, with their version
        _assert_unavailable_quickly(down)
        ready, seconds = _ready(api)
        assert seconds < 2 * DEGRADED_S  # the probe itself never waits on a hung database
        assert ready.status_code == 200
        body = ready.json()
        assert (body["database"], body["redis"], body["down"]) == (False, True, ["database"])

        stores.heal()
        back = traffic.until(
            "postgresql back", lambda answers: any(a.url in UNCACHED for a in answers[-4:])
            and all(a.status == 200 for a in answers[-4:])
        )  # fmt: skip
        _assert_served_by_postgresql(back[-4:])
    assert _ready(api)[0].json()["down"] == []


def test_both_down_is_not_ready_but_memory_still_answers(stores, api):
    with Traffic(api, CACHED) as traffic:
        _assert_cached_answers_come(traffic.collect("up", 4))
        stores.redis.kill()
        stores.postgres.kill()
        _assert_cached_answers_come(traffic.collect("both killed", 4))

    ready, seconds = _ready(api)
    assert seconds < 2 * DEGRADED_S
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert (body["database"], body["redis"], body["down"]) == (False, False, ["database", "redis"])
    assert httpx.get(api + "/health/live").status_code == 200
    assert httpx.get(api + "/health").status_code == 200
    uncached = httpx.get(api + UNCACHED[0])
    assert uncached.status_code == 503 and uncached.json()["error"]["code"] == "unavailable"


def test_published_at_follows_the_version_and_outlives_redis(stores):
    stores.heal()
    client = cache.connect(stores.redis.url, timeout_s=0.05)
    reader = cache.CacheReader(client)

    async def scenario() -> None:
        before = time.time()
        assert await reader.refresh() == "cache-1"
        first = reader.published_at
        assert first is not None and before - 60 < first <= time.time()
        stores.publish("cache-2")
        assert await reader.refresh() == "cache-2"
        assert reader.published_at is not None and reader.published_at >= first
        client_side = redis.Redis.from_url(stores.redis.url)
        client_side.zrem(VERSIONS_KEY, "cache-2")  # a version the publisher did not record
        client_side.close()
        await reader.refresh()
        assert reader.published_at is None
        stores.publish("cache-2")
        known = (await reader.refresh(), reader.published_at)
        stores.redis.kill()
        assert (await reader.refresh(), reader.published_at) == known  # kept while Redis is away
        await client.aclose()

    try:
        asyncio.run(scenario())
    finally:
        stores.heal()
