"""The on-demand benchmark queue: a Redis stream of requests and one status hash per request.

Shared by the API (which enqueues, with the async client) and the Dagster sensor (which claims,
acknowledges and reports, with the sync client), like `cache_keys`; kept free of Dagster.

Enqueueing is one Lua script, so the idempotency key, the status hash and the stream entry are
written together or not at all. The idempotency rule: while a request for the same
(model_id, gpu, config) is queued or running, asking again returns that request's id. The key
`catalog:benchmark-request-active:<hash>` holds the active id; it is deleted when the request
reaches a final status and expires after `ACTIVE_TTL_S` in case a worker dies without reporting.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

import orjson
import redis

STREAM = "catalog:benchmark-requests"
GROUP = "benchmark-sensor"
# Approximate trimming (`MAXLEN ~`) is O(1) amortised; the hashes keep each request's history.
STREAM_MAXLEN = 10_000
ACTIVE_TTL_S = 24 * 3600
STATUS_TTL_S = 30 * 24 * 3600

Status = Literal["queued", "running", "succeeded", "failed"]
STATUSES: tuple[Status, ...] = get_args(Status)
FINAL: frozenset[Status] = frozenset({"succeeded", "failed"})

# KEYS: active key, status hash, stream. ARGV: id, active TTL, maxlen, status TTL, fields...
ENQUEUE_SCRIPT = """
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, 0} end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('HSET', KEYS[2], 'status', 'queued', unpack(fields))
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', unpack(fields))
return {ARGV[1], 1}
"""
# One transition, atomically: only from queued or running (a final status stands), never on
# a hash that expired meanwhile (HSET would recreate it without a TTL), keeping the hash's
# TTL, and releasing the idempotency key only if it still names this request (a newer one may
# own it). KEYS: status hash, active key. ARGV: id, status, now, final ("1"/"0"), status TTL,
# [error]. Returns 1 when it moved, 0 when already final, -1 when the hash is gone.
_SET_STATUS_SCRIPT = """
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return -1 end
if current ~= 'queued' and current ~= 'running' then return 0 end
local fields = {'status', ARGV[2], 'updated_at', ARGV[3]}
if ARGV[2] == 'running' then table.insert(fields, 'started_at'); table.insert(fields, ARGV[3]) end
if ARGV[4] == '1' then table.insert(fields, 'finished_at'); table.insert(fields, ARGV[3]) end
if ARGV[6] then table.insert(fields, 'error'); table.insert(fields, ARGV[6]) end
redis.call('HSET', KEYS[1], unpack(fields))
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
if ARGV[4] == '1' and redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""

# queued -> running only: a request claimed again after its run finished (or started) keeps
# its status. KEYS: status hash. ARGV: now. Returns 1 when it moved, 0 when not queued.
_START_SCRIPT = """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'running', 'updated_at', ARGV[1], 'started_at', ARGV[1])
return 1
"""


def status_key(request_id: str) -> str:
    return f"catalog:benchmark-request:{request_id}"


def active_key(model_id: str, gpu: str, config: dict[str, Any]) -> str:
    identity = orjson.dumps([model_id, gpu, config], option=orjson.OPT_SORT_KEYS)
    return "catalog:benchmark-request-active:" + hashlib.sha256(identity).hexdigest()


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def new_request_id() -> str:
    return uuid.uuid4().hex


def enqueue_command(
    request_id: str, model_id: str, gpu: str, config: dict[str, Any], requested_by: str, note: str
) -> tuple[list[str], list[str]]:
    """KEYS and ARGV for `ENQUEUE_SCRIPT`; run them with either client's `eval`."""
    active = active_key(model_id, gpu, config)
    fields = {
        "id": request_id,
        "model_id": model_id,
        "gpu": gpu,
        "config": orjson.dumps(config, option=orjson.OPT_SORT_KEYS).decode(),
        "requested_by": requested_by,
        "note": note,
        "queued_at": now_iso(),
        "active_key": active,
    }
    flat = [item for pair in fields.items() for item in pair]
    keys = [active, status_key(request_id), STREAM]
    return keys, [request_id, str(ACTIVE_TTL_S), str(STREAM_MAXLEN), str(STATUS_TTL_S), *flat]


def parse_enqueue_reply(reply: list) -> tuple[str, bool]:
    """(the request id, whether this call created it) from `ENQUEUE_SCRIPT`'s reply."""
    request_id, created = reply
    return _text(request_id), bool(created)


def parse_status(raw: dict) -> dict[str, Any] | None:
    """A status hash as a dict (config decoded), or None when the request is unknown."""
    if not raw:
        return None
    fields = {_text(k): _text(v) for k, v in raw.items()}
    fields["config"] = orjson.loads(fields.get("config", "{}"))
    return fields


@dataclass(frozen=True)
class QueuedRequest:
    entry_id: str  # the stream entry, for `ack`
    id: str
    model_id: str
    gpu: str
    config: dict[str, Any]
    requested_by: str


def ensure_group(client: redis.Redis, group: str = GROUP) -> None:
    """Create the consumer group (and the stream) once; later calls are no-ops."""
    try:
        client.xgroup_create(STREAM, group, id="0", mkstream=True)
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def claim_batch(
    client: redis.Redis,
    consumer: str,
    count: int = 10,
    *,
    group: str = GROUP,
    stale_after_ms: int = 10 * 60 * 1000,
) -> list[QueuedRequest]:
    """Up to `count` requests for `consumer`: first any another consumer read but never
    acknowledged for `stale_after_ms` (it died), then new ones. Acknowledge each with `ack`."""
    _, entries, _ = client.xautoclaim(STREAM, group, consumer, stale_after_ms, "0-0", count=count)
    if len(entries) < count:
        reply = client.xreadgroup(group, consumer, {STREAM: ">"}, count=count - len(entries))
        for _, new in reply or []:
            entries.extend(new)
    return [_queued(entry_id, fields) for entry_id, fields in entries]


def ack(client: redis.Redis, *entry_ids: str, group: str = GROUP) -> int:
    return client.xack(STREAM, group, *entry_ids)


def set_status(
    client: redis.Redis, request_id: str, status: Status, *, error: str | None = None
) -> bool:
    """Record a transition; a final status frees the (model, gpu, config) for a new request.

    False (and no change) when the request already has a final status: the first outcome
    reported stands (a late or repeated report must not overwrite it). KeyError when the
    request is unknown or expired (never recreated, which would leave a hash without a TTL).
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    key = status_key(request_id)
    # Written once at enqueue and never changed, so reading it first is not a race; it must
    # be passed in KEYS for the script to touch it.
    active = client.hget(key, "active_key")
    if active is None:
        raise KeyError(f"benchmark request {request_id!r} is unknown or expired")
    args = [request_id, status, now_iso(), "1" if status in FINAL else "0", str(STATUS_TTL_S)]
    moved = client.eval(
        _SET_STATUS_SCRIPT, 2, key, _text(active), *args, *([] if error is None else [error])
    )
    if moved < 0:
        raise KeyError(f"benchmark request {request_id!r} is unknown or expired")
    return bool(moved)


def start(client: redis.Redis, request_id: str) -> bool:
    """Move a request from queued to running in one step; False (and no change) when it is
    not queued: already running, finished, expired or unknown."""
    return bool(client.eval(_START_SCRIPT, 1, status_key(request_id), now_iso()))


def _queued(entry_id: bytes | str, raw: dict) -> QueuedRequest:
    fields = {_text(k): _text(v) for k, v in raw.items()}
    return QueuedRequest(
        entry_id=_text(entry_id),
        id=fields["id"],
        model_id=fields["model_id"],
        gpu=fields["gpu"],
        config=orjson.loads(fields["config"]),
        requested_by=fields["requested_by"],
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
