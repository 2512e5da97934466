"""On-demand requests: the API's Redis stream in, one run per request, the outcome back.

Real Redis (the test db) and a real Dagster instance; the runs whose status is reported are
real runs of a stand-in asset (running the benchmark itself is tested in test_runs.py).
"""

import json
from collections.abc import Iterator

import dagster as dg
import pytest
import redis

from orchestration.jobs import MAX_RUNTIME_TAG, RETRY_ON_STEP_FAILURE_TAG
from orchestration.sensors import (
    REQUEST_TAG,
    WILL_RETRY_TAG,
    benchmark_request_failed,
    benchmark_request_sensor,
    benchmark_request_succeeded,
)
from resources import benchmark_queue as queue
from resources.cache import RedisResource

pytestmark = pytest.mark.integration


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def _enqueue(client: redis.Redis, model_id: str, gpu: str, **config) -> str:
    keys, args = queue.enqueue_command(queue.new_request_id(), model_id, gpu, config, "tester", "")
    request_id, created = queue.parse_enqueue_reply(
        client.eval(queue.ENQUEUE_SCRIPT, len(keys), *keys, *args)
    )
    assert created
    return request_id


def _status(client: redis.Redis, request_id: str) -> dict:
    return queue.parse_status(client.hgetall(queue.status_key(request_id)))


def _tick(instance, redis_url: str, cursor: str | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"cache": RedisResource(url=redis_url)}
    )
    return benchmark_request_sensor(context)


def test_each_request_becomes_one_run_and_new_models_become_partitions(client, redis_url, instance):
    instance.add_dynamic_partitions("models", ["known/model"])
    first = _enqueue(client, "known/model", "CPU", batch_size=4)
    second = _enqueue(client, "new/model", "H100-SXM-80GB")
    result = _tick(instance, redis_url)
    runs = {r.run_key: r for r in result.run_requests}
    assert set(runs) == {first, second}
    assert runs[first].partition_key == dg.MultiPartitionKey({"model": "known/model", "gpu": "CPU"})
    assert runs[first].tags[REQUEST_TAG] == first
    config = runs[first].run_config["ops"]["benchmark_runs"]["config"]
    assert (config["concurrency"], config["request_id"]) == (4, first)
    assert runs[first].tags[RETRY_ON_STEP_FAILURE_TAG] == "false"
    assert int(runs[first].tags[MAX_RUNTIME_TAG]) > config["max_runtime_s"]
    [add] = result.dynamic_partitions_requests
    assert (add.partitions_def_name, list(add.partition_keys)) == ("models", ["new/model"])
    assert _status(client, first)["status"] == "running"

    # Not acknowledged until the next tick: the cursor holds what the last tick issued.
    assert client.xpending(queue.STREAM, queue.GROUP)["pending"] == 2
    again = _tick(instance, redis_url, result.cursor)
    assert again.run_requests == []
    assert client.xpending(queue.STREAM, queue.GROUP)["pending"] == 0
    assert json.loads(again.cursor) == {"issued": []}


def test_a_request_that_cannot_run_is_failed_with_its_reason_not_crashed(
    client, redis_url, instance
):
    no_pool = _enqueue(client, "m/a", "T4")
    ok = _enqueue(client, "m/b", "CPU")
    result = _tick(instance, redis_url)
    assert [r.run_key for r in result.run_requests] == [ok]
    status = _status(client, no_pool)
    assert status["status"] == "failed" and "no benchmark pool for GPU 'T4'" in status["error"]
    # Failed requests free their (model, gpu, config) for a new request at once.
    assert _enqueue(client, "m/a", "T4")


def test_static_batches_that_do_not_divide_the_requests_are_refused_before_a_run(
    client, redis_url, instance
):
    ragged = _enqueue(client, "m/a", "CPU", batch_size=3)  # 64 requests in batches of 3
    assert _tick(instance, redis_url).run_requests == []
    status = _status(client, ragged)
    assert status["status"] == "failed" and "must be a multiple" in status["error"]


def test_a_request_claimed_again_after_its_run_finished_keeps_its_outcome(
    client, redis_url, instance
):
    request_id = _enqueue(client, "m/a", "CPU")
    [run] = _tick(instance, redis_url).run_requests  # the tick dies before its cursor is kept
    queue.set_status(client, request_id, "succeeded")  # ... and the run finishes
    for pending in client.xpending_range(queue.STREAM, queue.GROUP, "-", "+", 10):
        # Idle long enough for xautoclaim (10 min) without waiting for it.
        client.xclaim(queue.STREAM, queue.GROUP, "dead-consumer", 0, [pending["message_id"]],
                      idle=11 * 60 * 1000)  # fmt: skip
    [again] = _tick(instance, redis_url).run_requests
    assert again.run_key == run.run_key  # Dagster will not run it twice
    assert _status(client, request_id)["status"] == "succeeded"


def _finished_run(instance, request_id: str, fail: bool) -> dg.DagsterRun:
    @dg.asset(name="benchmark_runs")
    def stand_in() -> None:
        if fail:
            raise dg.Failure(description="benchmark of m/a on CPU failed: out of memory")

    result = dg.materialize(
        [stand_in], instance=instance, tags={REQUEST_TAG: request_id}, raise_on_error=False
    )
    return instance.get_run_by_id(result.run_id)


def _status_context(instance, redis_url: str, run: dg.DagsterRun, name: str):
    event_type = (
        dg.DagsterEventType.RUN_SUCCESS if run.is_success else dg.DagsterEventType.RUN_FAILURE
    )
    [record] = instance.get_records_for_run(run.run_id, of_type=event_type).records
    return dg.build_run_status_sensor_context(
        sensor_name=name, dagster_event=record.event_log_entry.dagster_event,
        dagster_instance=instance, dagster_run=run,
        resources={"cache": RedisResource(url=redis_url)},
    )  # fmt: skip


def test_run_outcomes_are_reported_back_to_the_request(client, redis_url, instance):
    succeeded, failed = _enqueue(client, "m/a", "CPU"), _enqueue(client, "m/b", "CPU")

    run = _finished_run(instance, succeeded, fail=False)
    context = _status_context(instance, redis_url, run, "benchmark_request_succeeded")
    assert benchmark_request_succeeded(context) is None
    assert _status(client, succeeded)["status"] == "succeeded"

    run = _finished_run(instance, failed, fail=True)
    context = _status_context(instance, redis_url, run, "benchmark_request_failed")
    benchmark_request_failed(context)
    status = _status(client, failed)
    assert status["status"] == "failed"
    assert status["error"] == "benchmark of m/a on CPU failed: out of memory"  # the step's reason


def test_runs_that_no_request_asked_for_are_skipped(redis_url, instance):
    run = _finished_run(instance, "unused", fail=False).with_tags({})
    context = _status_context(instance, redis_url, run, "benchmark_request_succeeded")
    assert benchmark_request_succeeded(context).skip_message == "not an on-demand request"


def test_a_failed_run_that_dagster_retries_leaves_its_request_running(client, redis_url, instance):
    request_id = _enqueue(client, "m/a", "CPU")
    queue.start(client, request_id)
    run = _finished_run(instance, request_id, fail=True)
    run = run.with_tags({**run.tags, WILL_RETRY_TAG: "true"})
    context = _status_context(instance, redis_url, run, "benchmark_request_failed")
    assert "retries this run" in benchmark_request_failed(context).skip_message
    assert _status(client, request_id)["status"] == "running"
