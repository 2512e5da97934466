"""The benchmark queue against a real Redis: enqueue, claim, acknowledge, report, re-request."""

import time
from collections.abc import Iterator

import pytest
import redis

from resources import benchmark_queue as queue

pytestmark = pytest.mark.integration


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    yield client
    client.close()


def _enqueue(client: redis.Redis, model: str = "m/a", config: dict | None = None) -> tuple:
    keys, args = queue.enqueue_command(
        queue.new_request_id(), model, "H100", config or {"batch_size": 8}, "tester", "hi"
    )
    return queue.parse_enqueue_reply(client.eval(queue.ENQUEUE_SCRIPT, len(keys), *keys, *args))


def _status(client: redis.Redis, request_id: str) -> dict:
    return queue.parse_status(client.hgetall(queue.status_key(request_id)))


def test_round_trip_through_the_consumer_group(client):
    queue.ensure_group(client)
    queue.ensure_group(client)  # a second sensor tick: no error
    request_id, created = _enqueue(client)
    assert created
    status = _status(client, request_id)
    assert status["status"] == "queued"
    assert status["config"] == {"batch_size": 8}
    assert status["requested_by"] == "tester"

    [claimed] = queue.claim_batch(client, "sensor-1")
    assert (claimed.id, claimed.model_id, claimed.gpu) == (request_id, "m/a", "H100")
    assert claimed.config == {"batch_size": 8}
    assert queue.claim_batch(client, "sensor-1") == []  # delivered once

    queue.set_status(client, request_id, "running")
    assert queue.ack(client, claimed.entry_id) == 1
    queue.set_status(client, request_id, "failed", error="OOM at batch 8")
    status = _status(client, request_id)
    assert status["status"] == "failed"
    assert status["error"] == "OOM at batch 8"
    assert status["started_at"] <= status["finished_at"]
    assert client.ttl(queue.status_key(request_id)) > 0  # the history expires eventually


def test_same_request_while_active_returns_the_same_id(client):
    first, _ = _enqueue(client)
    again, created = _enqueue(client)
    assert (again, created) == (first, False)
    assert client.xlen(queue.STREAM) == 1  # queued once
    # Another configuration is another request.
    other, created = _enqueue(client, config={"batch_size": 16})
    assert created and other != first

    queue.set_status(client, first, "running")
    assert _enqueue(client)[0] == first  # still active while running
    queue.set_status(client, first, "succeeded")
    fresh, created = _enqueue(client)  # done: a new request runs again
    assert created and fresh != first


def test_a_final_status_of_an_old_request_keeps_the_newer_ones_key(client):
    old, _ = _enqueue(client)
    queue.set_status(client, old, "failed")
    new, _ = _enqueue(client)
    # Reported twice, e.g. a retried sensor tick: the second is refused and frees nothing.
    assert queue.set_status(client, old, "failed") is False
    assert _enqueue(client)[0] == new


def test_unacknowledged_requests_are_reclaimed_from_a_dead_consumer(client):
    queue.ensure_group(client)
    request_id, _ = _enqueue(client)
    [dead] = queue.claim_batch(client, "sensor-dead")
    time.sleep(0.02)
    [taken] = queue.claim_batch(client, "sensor-2", stale_after_ms=10)
    assert (taken.id, taken.entry_id) == (request_id, dead.entry_id)
    assert queue.ack(client, taken.entry_id) == 1
    assert queue.claim_batch(client, "sensor-3", stale_after_ms=0) == []


def test_status_errors(client):
    with pytest.raises(KeyError):
        queue.set_status(client, "0" * 32, "running")
    request_id, _ = _enqueue(client)
    with pytest.raises(ValueError, match="unknown status"):
        queue.set_status(client, request_id, "exploded")  # type: ignore[arg-type]
    assert _status(client, "f" * 32) is None


def test_start_moves_only_a_queued_request_to_running(client):
    request_id, _ = _enqueue(client)
    assert queue.start(client, request_id) is True
    assert _status(client, request_id)["status"] == "running"
    assert queue.start(client, request_id) is False  # claimed twice: no second start
    queue.set_status(client, request_id, "succeeded")
    # Re-claimed after its run finished: the outcome stands.
    assert queue.start(client, request_id) is False
    status = _status(client, request_id)
    assert status["status"] == "succeeded" and status["finished_at"] >= status["started_at"]
    assert queue.start(client, "0" * 32) is False  # unknown or expired
    assert _status(client, "0" * 32) is None  # and not created by the attempt


def test_a_final_status_stands(client):
    request_id, _ = _enqueue(client)
    assert queue.set_status(client, request_id, "running") is True
    assert queue.set_status(client, request_id, "failed", error="OOM") is True
    # A late report (a stale sensor tick, a manual rerun's success) does not rewrite history.
    assert queue.set_status(client, request_id, "succeeded") is False
    assert queue.set_status(client, request_id, "running") is False
    status = _status(client, request_id)
    assert (status["status"], status["error"]) == ("failed", "OOM")


def test_a_transition_keeps_the_status_ttl_and_never_recreates_an_expired_request(client):
    request_id, _ = _enqueue(client)
    key = queue.status_key(request_id)
    client.expire(key, 1000)
    queue.set_status(client, request_id, "succeeded")
    assert 0 < client.ttl(key) <= 1000
    # A hash that lost its TTL (written by an older version) gets the status TTL back.
    other, _ = _enqueue(client, model="m/b")
    client.persist(queue.status_key(other))
    queue.set_status(client, other, "failed")
    assert 0 < client.ttl(queue.status_key(other)) <= queue.STATUS_TTL_S
    # Expired between the read of its active key and the transition: nothing is recreated.
    gone, _ = _enqueue(client, model="m/c")
    active = client.hget(queue.status_key(gone), "active_key")
    client.delete(queue.status_key(gone))
    client.hset(queue.status_key(gone), "active_key", active)  # only what set_status reads
    with pytest.raises(KeyError):
        queue.set_status(client, gone, "succeeded")
    assert client.hgetall(queue.status_key(gone)) == {b"active_key": active}
