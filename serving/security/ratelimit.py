"""Rate limits shared by all workers: GCRA in Redis, spent locally in small leases.

GCRA (the generic cell rate algorithm) keeps one number per key, its theoretical arrival time
(TAT): each admitted request pushes it `1/rate` later, and a request is refused while the TAT
is more than `burst/rate` ahead of now. One Lua script reads and moves it atomically, on Redis's
clock so that workers on different hosts agree.

A Redis round trip costs 70-150 us of CPU per request in redis-py (DESIGN §8), too much for a
hot path, so a worker takes up to `lease` tokens at once and spends them without Redis for at
most `lease_s`. Leased tokens are already counted in Redis: leases never admit more than the
limit, they only lose what a worker does not spend in time. The script grants fewer tokens than
asked when fewer are left (down to one), so a lease never refuses what a single request would
get. Per key, one coroutine asks Redis while the others wait for its answer; a refusal is
remembered locally until its retry time, so a client hammering the API costs no Redis traffic.

Redis errors fail OPEN: the request is allowed and `Decision.failed_open` says so (the caller
counts it). After an error Redis is skipped for `cooldown_s`, so a dead or hanging Redis costs
one timeout per cooldown, not one per request.
"""

import asyncio
import time
from typing import NamedTuple

from redis.asyncio import Redis
from redis.exceptions import RedisError

from resources.settings import Settings
from serving.security.principal import Principal

_PREFIX = "ratelimit:"
# OSError covers refused connections and (since 3.11) asyncio timeouts that escape redis-py.
_REDIS_ERRORS = (RedisError, OSError)

# KEYS[1]: the key's TAT in microseconds. ARGV: interval (us per token), burst, tokens wanted.
# Returns {granted, remaining, retry_after_us}; granted is 0 when not even one token is left.
# Integer microseconds (< 2^53) stay exact in Lua's doubles; '%d' keeps them out of 1e+15 form.
_GCRA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local available = math.floor((now + burst * interval - tat) / interval)
if available < 1 then
  return {0, 0, tat + interval - burst * interval - now}
end
local granted = math.min(want, available)
local new_tat = tat + granted * interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {granted, available - granted, 0}
"""


class Decision(NamedTuple):
    allowed: bool
    retry_after_s: float  # 0 when allowed
    limit: int  # the burst: requests allowed at once
    remaining: int  # roughly how many more would be allowed right now
    per_s: float = 0.0  # the sustained rate (0: unlimited)
    failed_open: bool = False  # allowed only because Redis did not answer


UNLIMITED = Decision(True, 0.0, 0, 0)


class _Policy(NamedTuple):
    per_s: float
    burst: int
    lease: int
    interval_us: int


class _Bucket:
    """What one worker holds for one key: leased tokens, or a remembered refusal."""

    __slots__ = ("tokens", "expires", "remaining", "denied_until", "pending")

    def __init__(self) -> None:
        self.tokens = 0
        self.expires = 0.0
        self.remaining = 0
        self.denied_until = 0.0
        self.pending: asyncio.Future[None] | None = None


def _allowed(policy: _Policy, remaining: int, failed_open: bool = False) -> Decision:
    return Decision(True, 0.0, policy.burst, remaining, policy.per_s, failed_open)


def _policy(per_s: float, burst: int, lease: int | None) -> _Policy | None:
    if per_s <= 0 or burst <= 0:
        return None  # 0 disables
    size = min(burst, lease if lease is not None else max(1, burst // 10))
    return _Policy(per_s, burst, size, max(1, round(1_000_000 / per_s)))


class RateLimiter:
    def __init__(
        self,
        client: Redis,
        settings: Settings,
        *,
        cooldown_s: float = 1.0,
        max_keys: int = 10_000,
    ):
        self._script = client.register_script(_GCRA)
        self._identified = _policy(
            settings.rate_limit_per_s, settings.rate_limit_burst, settings.rate_limit_lease
        )
        self._anonymous = _policy(
            settings.rate_limit_anonymous_per_s,
            settings.rate_limit_anonymous_burst,
            settings.rate_limit_lease,
        )
        self._lease_s = settings.rate_limit_lease_s
        self._cooldown_s = cooldown_s
        self._max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._skip_until = 0.0
        self.failures = 0  # Redis errors and timeouts so far (each one failed open)

    async def check(self, principal: Principal, client_ip: str | None) -> Decision:
        """Spend one token for this caller: per client or key, or per IP when anonymous."""
        if principal.kind == "anonymous":
            return await self._hit(f"ip:{client_ip or 'unknown'}", self._anonymous)
        return await self._hit(f"{principal.kind}:{principal.subject}", self._identified)

    async def _hit(self, key: str, policy: _Policy | None) -> Decision:
        if policy is None:
            return UNLIMITED
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._sweep()
            bucket = self._buckets[key] = _Bucket()
        while True:
            now = time.monotonic()
            if bucket.tokens > 0 and now < bucket.expires:
                bucket.tokens -= 1
                return _allowed(policy, bucket.remaining + bucket.tokens)
            if now < bucket.denied_until:
                return Decision(False, bucket.denied_until - now, policy.burst, 0, policy.per_s)
            if now < self._skip_until:
                return _allowed(policy, 0, failed_open=True)
            if bucket.pending is None:
                return await self._lease(key, bucket, policy)
            # Someone is asking Redis for this key: wait for its answer (shielded, so that a
            # cancelled waiter does not cancel it for everyone), then look again.
            await asyncio.shield(bucket.pending)

    async def _lease(self, key: str, bucket: _Bucket, policy: _Policy) -> Decision:
        pending = bucket.pending = asyncio.get_running_loop().create_future()
        try:
            granted, remaining, retry_us = await self._script(
                keys=[_PREFIX + key], args=[policy.interval_us, policy.burst, policy.lease]
            )
        except _REDIS_ERRORS:
            self.failures += 1
            self._skip_until = time.monotonic() + self._cooldown_s
            return _allowed(policy, 0, failed_open=True)
        else:
            now = time.monotonic()
            if not granted:
                bucket.denied_until = now + retry_us / 1_000_000
                return Decision(False, retry_us / 1_000_000, policy.burst, 0, policy.per_s)
            bucket.tokens = int(granted) - 1  # this request spends one
            bucket.expires = now + self._lease_s
            bucket.remaining = int(remaining)
            return _allowed(policy, bucket.remaining + bucket.tokens)
        finally:
            # After the bucket is updated (or on any error, cancellation included): wake waiters.
            bucket.pending = None
            pending.set_result(None)

    def _sweep(self) -> None:
        # Forget keys that hold nothing: no live lease, no refusal to remember, nobody asking.
        now = time.monotonic()
        idle = [
            key
            for key, b in self._buckets.items()
            if b.pending is None and b.expires <= now and b.denied_until <= now
        ]
        for key in idle:
            del self._buckets[key]
