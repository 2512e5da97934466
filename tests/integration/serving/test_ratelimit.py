"""RateLimiter against the real Redis: GCRA, leases shared by workers, failing open."""

import asyncio
import socket
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis

from resources.settings import Settings
from serving.cache import connect
from serving.security import ANONYMOUS, Decision, Principal, RateLimited, RateLimiter

pytestmark = pytest.mark.integration

NO_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once
CLIENT = Principal("ci-bot", "client", frozenset())


def limits(**overrides) -> Settings:
    values = {
        "rate_limit_per_s": 1,
        "rate_limit_burst": 5,
        "rate_limit_anonymous_per_s": 1,
        "rate_limit_anonymous_burst": 3,
        "rate_limit_lease": 1,
        "rate_limit_lease_s": 1.0,
        **overrides,
    }
    return Settings(database_url=None, redis_url=None, **values)


class Counted:
    """Counts the limiter's Redis round trips (one script call each)."""

    def __init__(self, limiter: RateLimiter):
        self.calls = 0
        self._script = limiter._script
        limiter._script = self

    async def __call__(self, **kwargs):
        self.calls += 1
        return await self._script(**kwargs)


def run(scenario, url: str, timeout_s: float = 0.5):
    """Run `scenario(client)` on a fresh redis.asyncio client (one event loop per test)."""

    async def main():
        client = connect(url, timeout_s)
        try:
            return await scenario(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


async def checks(limiter: RateLimiter, n: int, principal=CLIENT, ip="10.0.0.1") -> list[Decision]:
    return [await limiter.check(principal, ip) for _ in range(n)]


def test_burst_is_admitted_then_429_with_a_retry_after_near_one_interval(redis_url):
    async def scenario(client: Redis):
        return await checks(RateLimiter(client, limits(rate_limit_per_s=2)), 7)

    decisions = run(scenario, redis_url)
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    denied = decisions[5]
    assert 0 < denied.retry_after_s <= 0.5  # one token comes back every 1/2 s
    assert (denied.limit, denied.per_s, denied.failed_open) == (5, 2.0, False)
    error = RateLimited(denied.retry_after_s, denied.limit, denied.per_s)
    assert (error.status_code, error.code, error.headers) == (
        429,
        "rate_limited",
        {"Retry-After": "1"},
    )
    assert "2 requests/s" in error.message and "bursts of 5" in error.message


def test_tokens_come_back_over_time(redis_url):
    async def scenario(client: Redis):
        limiter = RateLimiter(client, limits(rate_limit_per_s=20, rate_limit_burst=2))
        spent = await checks(limiter, 3)
        await asyncio.sleep(max(spent[-1].retry_after_s, 0.05) + 0.02)
        return spent, await limiter.check(CLIENT, None)

    spent, later = run(scenario, redis_url)
    assert [d.allowed for d in spent] == [True, True, False]
    assert later.allowed


def test_callers_are_limited_separately_anonymous_ones_per_ip(redis_url):
    async def scenario(client: Redis):
        limiter = RateLimiter(client, limits())
        one = await checks(limiter, 4, ANONYMOUS, "10.0.0.1")
        other_ip = await limiter.check(ANONYMOUS, "10.0.0.2")
        client_after = await checks(limiter, 5, CLIENT)
        key = Principal("ci-bot", "api_key", frozenset())  # same name, another kind of credential
        return one, other_ip, client_after, await limiter.check(key, "10.0.0.1")

    one, other_ip, client_after, key = run(scenario, redis_url)
    assert [d.allowed for d in one] == [True, True, True, False]  # anonymous burst: 3
    assert other_ip.allowed and key.allowed
    assert all(d.allowed for d in client_after)  # identified burst: 5, its own bucket


def test_a_lease_serves_many_requests_with_one_redis_round_trip(redis_url):
    async def scenario(client: Redis):
        limiter = RateLimiter(client, limits(rate_limit_burst=100, rate_limit_lease=10))
        counted = Counted(limiter)
        decisions = await asyncio.gather(*(limiter.check(CLIENT, None) for _ in range(40)))
        return decisions, counted.calls

    decisions, calls = run(scenario, redis_url)
    assert all(d.allowed for d in decisions)
    assert calls == 4  # concurrent callers wait for the one in-flight lease instead of piling on


def test_two_workers_sharing_redis_never_admit_more_than_the_burst_plus_two_leases(redis_url):
    burst, lease = 20, 5

    async def scenario(client: Redis):
        settings = limits(rate_limit_per_s=0.5, rate_limit_burst=burst, rate_limit_lease=lease)
        workers = [RateLimiter(client, settings), RateLimiter(client, settings)]
        requests = [workers[i % 2].check(CLIENT, None) for i in range(120)]
        return await asyncio.gather(*requests)

    admitted = sum(d.allowed for d in run(scenario, redis_url))
    # Leases are counted in Redis when taken: tokens stranded in one worker can only make the
    # pair admit less than the burst, never more.
    assert burst - 2 * lease <= admitted <= burst + 2 * lease


def test_a_short_lease_is_granted_when_fewer_tokens_than_a_lease_are_left(redis_url):
    async def scenario(client: Redis):
        settings = limits(rate_limit_burst=12, rate_limit_lease=5)
        first, second = RateLimiter(client, settings), RateLimiter(client, settings)
        await checks(first, 1)  # leases 5 (4 kept in `first`)
        await checks(second, 5)  # leases 5 more: 2 of the 12 are left
        return await checks(RateLimiter(client, settings), 3)  # leases 2, then asks again

    assert [d.allowed for d in run(scenario, redis_url)] == [True, True, False]


def test_a_refusal_is_remembered_without_asking_redis_again(redis_url):
    async def scenario(client: Redis):
        limiter = RateLimiter(client, limits(rate_limit_burst=1))
        counted = Counted(limiter)
        decisions = await checks(limiter, 10)
        return decisions, counted.calls

    decisions, calls = run(scenario, redis_url)
    assert [d.allowed for d in decisions] == [True] + [False] * 9
    assert calls == 2  # the admitted one, and the first refusal (valid for about 1 s)
    assert all(0 < d.retry_after_s <= 1.0 for d in decisions[1:])


def test_unspent_leased_tokens_expire_and_are_not_reused(redis_url):
    async def scenario(client: Redis):
        settings = limits(rate_limit_burst=10, rate_limit_lease=5, rate_limit_lease_s=0.05)
        limiter = RateLimiter(client, settings)
        counted = Counted(limiter)
        await checks(limiter, 1)
        await asyncio.sleep(0.1)
        await checks(limiter, 1)
        return counted.calls, await client.get("ratelimit:client:ci-bot")

    calls, tat = run(scenario, redis_url)
    assert calls == 2 and tat is not None


def test_the_script_is_loaded_again_after_noscript(redis_url):
    async def scenario(client: Redis):
        limiter = RateLimiter(client, limits())
        limiter._script.sha = "0" * 40  # as after SCRIPT FLUSH or a failover: unknown to Redis
        return await limiter.check(CLIENT, None), limiter._script.sha

    decision, sha = run(scenario, redis_url)
    assert decision.allowed and not decision.failed_open
    assert sha != "0" * 40


def test_zero_disables_a_limit(redis_url):
    async def scenario(client: Redis):
        limiter = RateLimiter(client, limits(rate_limit_per_s=0, rate_limit_anonymous_burst=0))
        decisions = await checks(limiter, 50) + await checks(limiter, 50, ANONYMOUS)
        return decisions, await client.keys("ratelimit:*")

    decisions, keys = run(scenario, redis_url)
    assert all(d.allowed and not d.failed_open for d in decisions)
    assert keys == []


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A port that accepts connections and never answers: a hung Redis."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"


@pytest.mark.parametrize("down", ["refused", "hung"])
def test_redis_down_fails_open_flagged_and_is_skipped_for_a_cooldown(down, silent_redis):
    url = NO_REDIS if down == "refused" else silent_redis

    async def scenario(client: Redis):
        limiter = RateLimiter(client, limits(rate_limit_burst=1))
        counted = Counted(limiter)
        # Far more than the burst: a broken Redis must not turn into refusals (or hangs).
        decisions = await asyncio.wait_for(checks(limiter, 5), timeout=10)
        return decisions, limiter.failures, counted.calls

    decisions, failures, calls = run(scenario, url, timeout_s=0.05)
    assert all(d.allowed and d.failed_open for d in decisions)
    assert failures == 1 and calls == 1  # then skipped for the cooldown
