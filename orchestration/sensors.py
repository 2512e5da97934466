"""Sensors: planned and on-demand benchmark runs in, their outcome back, regression alerts.

The request queue is a Redis stream with a consumer group (`resources.benchmark_queue`). The
sensor acknowledges an entry only one tick after it asked for the run: Dagster stores a tick's
cursor together with its run requests, so the ids in the cursor are exactly the entries whose run
requests were stored. If a tick dies before that, its entries stay pending, are claimed again
later, and the run key (the request id) keeps Dagster from running one request twice.
"""

import contextlib
import json

import dagster as dg

from assets.benchmarks import store
from assets.benchmarks.plan import work_key
from assets.benchmarks.run_assets import BenchmarkRunConfig, engine_version
from assets.benchmarks.runs import (
    BENCHMARK_GPUS,
    PLAN_WORK_TAG,
    InvalidRunConfig,
    config_from_request,
    validate_work,
)
from assets.common.partitions import models_partitions
from orchestration.jobs import benchmark_run_job, benchmark_run_tags
from resources import benchmark_queue as queue
from resources.cache import RedisResource
from resources.database import DatabaseResource
from resources.settings import get_settings

REQUEST_TAG = "catalog/benchmark-request"
PLAN_TAG = "catalog/benchmark-plan-reason"
CONSUMER = "dagster-benchmark-sensor"
BATCH = 20
# A run of these has not finished: the plan sensor does not start the same work beside it.
_UNFINISHED = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
               dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
               dg.DagsterRunStatus.CANCELING]  # fmt: skip
# Checks whose failure on a finished run is worth an alert.
ALERT_CHECKS = ("benchmark_run_no_regression", "benchmark_run_below_roofline")


def run_request_for(request: queue.QueuedRequest) -> dg.RunRequest:
    """The run of one queued request; InvalidRunConfig when it cannot be run."""
    if request.gpu not in BENCHMARK_GPUS:
        raise InvalidRunConfig(
            f"no benchmark pool for GPU {request.gpu!r}; pools: {', '.join(BENCHMARK_GPUS)}"
        )
    work = config_from_request(request.config)
    try:  # the same validation the run itself applies, before a run is created
        config = BenchmarkRunConfig(**work, request_id=request.id)
    except ValueError as error:
        raise InvalidRunConfig(str(error)) from error
    validate_work(config.work())
    return dg.RunRequest(
        run_key=request.id,
        partition_key=dg.MultiPartitionKey({"model": request.model_id, "gpu": request.gpu}),
        run_config=dg.RunConfig(ops={"benchmark_runs": config}),
        tags={REQUEST_TAG: request.id, "catalog/requested-by": request.requested_by}
        | benchmark_run_tags(config.max_runtime_s, request.gpu),
    )


@dg.sensor(
    job=benchmark_run_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs each benchmark request queued by the API (POST /benchmarks/requests) once.",
)
def benchmark_request_sensor(
    context: dg.SensorEvaluationContext, cache: RedisResource
) -> dg.SensorResult:
    client = cache.client
    queue.ensure_group(client)
    issued = json.loads(context.cursor)["issued"] if context.cursor else []
    if issued:  # the previous tick's run requests are stored: those entries are done
        queue.ack(client, *issued)
    requests = queue.claim_batch(client, CONSUMER, BATCH)
    runs: list[dg.RunRequest] = []
    new_models: set[str] = set()
    known = set(context.instance.get_dynamic_partitions(models_partitions.name))
    for request in requests:
        try:
            runs.append(run_request_for(request))
        except InvalidRunConfig as error:
            context.log.warning(f"benchmark request {request.id} refused: {error}")
            _report(client, request.id, "failed", str(error))
            queue.ack(client, request.entry_id)
            continue
        if request.model_id not in known:
            new_models.add(request.model_id)
        # Only a queued request starts: one claimed again after its run finished (or after a
        # tick died once its run was stored) keeps its status; the run key dedupes the run.
        queue.start(client, request.id)
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=(
            [models_partitions.build_add_request(sorted(new_models))] if new_models else []
        ),
        cursor=json.dumps({"issued": [r.entry_id for r in requests]}),
    )


@dg.sensor(
    job=benchmark_run_job,
    minimum_interval_seconds=300,
    # Off until someone turns it on: every run it starts rents a GPU.
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Runs the planned items of `benchmark_plan` (status planned): once per plan, "
    "never beside an unfinished run of the same work.",
)
def benchmark_plan_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult:
    with database.begin() as conn:
        planned = store.planned_items(conn)
    engine = engine_version(get_settings())
    keys = {
        (item["model_id"], item["gpu"], item["config_key"]): work_key(
            item["model_id"], item["gpu"], item["config_key"], item["revision"], engine
        )
        for item in planned
    }
    running = _unfinished_work(context.instance, sorted(set(keys.values())))
    known = set(context.instance.get_dynamic_partitions(models_partitions.name))
    runs = []
    for item in planned:
        key = keys[(item["model_id"], item["gpu"], item["config_key"])]
        if key in running:
            continue
        runs.append(plan_run_request(item, key))
    new_models = sorted({item["model_id"] for item in planned} - known)
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=(
            [models_partitions.build_add_request(new_models)] if new_models else []
        ),
    )


def plan_run_request(item: dict, key: str) -> dg.RunRequest:
    """The run of one planned item, whose work is `key` (plan.work_key).

    Its run key is the work within this plan (`planned_at`): a failed run is tried again by a
    later plan (which counts the failures and gives up after too many), never twice by one.
    """
    config = BenchmarkRunConfig(**item["config"], num_gpus=item["num_gpus"],
                                revision=item["revision"])  # fmt: skip
    return dg.RunRequest(
        run_key=f"plan:{item['planned_at'].isoformat()}:{key}",
        partition_key=dg.MultiPartitionKey({"model": item["model_id"], "gpu": item["gpu"]}),
        run_config=dg.RunConfig(ops={"benchmark_runs": config}),
        tags={PLAN_TAG: item["reason"], PLAN_WORK_TAG: key}
        | benchmark_run_tags(config.max_runtime_s, item["gpu"]),
    )


def _unfinished_work(instance: dg.DagsterInstance, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            job_name=benchmark_run_job.name, statuses=_UNFINISHED, tags={PLAN_WORK_TAG: keys}
        )
    )
    return {record.dagster_run.tags[PLAN_WORK_TAG] for record in records}


# dagster._core.storage.tags.WILL_RETRY_TAG (spelled out, the module is private).
WILL_RETRY_TAG = "dagster/will_retry"


def _request_outcome_sensor(status: queue.Status, run_status: dg.DagsterRunStatus):
    """The sensor that reports a finished run's outcome to its on-demand request."""

    @dg.run_status_sensor(
        name=f"benchmark_request_{status}",
        run_status=run_status,
        monitored_jobs=[benchmark_run_job],
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Marks the benchmark request of a finished run as {status}"
        + (", with the reason." if status == "failed" else "."),
    )
    def _sensor(context: dg.RunStatusSensorContext, cache: RedisResource) -> dg.SkipReason | None:
        request_id = context.dagster_run.tags.get(REQUEST_TAG)
        if request_id is None:
            return dg.SkipReason("not an on-demand request")
        # Dagster tags a failed run it is about to re-execute when it stores the failure; the
        # retry carries the request on and reports the outcome, a final status here would
        # stand (it cannot be overwritten) and free the request while the retry still runs.
        if context.dagster_run.tags.get(WILL_RETRY_TAG) == "true":
            return dg.SkipReason("Dagster retries this run; its retry reports the outcome")
        error = failure_reason(context.for_run_failure()) if status == "failed" else None
        _report(cache.client, request_id, status, error)
        return None

    return _sensor


benchmark_request_succeeded = _request_outcome_sensor("succeeded", dg.DagsterRunStatus.SUCCESS)
benchmark_request_failed = _request_outcome_sensor("failed", dg.DagsterRunStatus.FAILURE)


def failure_reason(context: dg.RunFailureSensorContext) -> str:
    """The failed step's own reason (a `dg.Failure` description, else its error)."""
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            return data.user_failure_data.description
        if data.error is not None:
            return data.error.message.strip()
    return context.failure_event.message or "the benchmark run failed"


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[benchmark_run_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts (a warning in the sensor log) on benchmark runs whose regression or "
    "roofline check failed.",
)
def benchmark_regression_alert(context: dg.RunStatusSensorContext) -> dg.SkipReason:
    alerts = failed_alert_checks(context.instance, context.dagster_run.run_id)
    for alert in alerts:
        context.log.warning(alert)
    return dg.SkipReason("; ".join(alerts) if alerts else "no regression")


def failed_alert_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """One line per alerting check that failed in the run, with its severity and partition."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    alerts = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.check_name in ALERT_CHECKS and not evaluation.passed:
            details = {k: v.value for k, v in evaluation.metadata.items()}
            alerts.append(
                f"{evaluation.severity.value} {evaluation.check_name} on "
                f"{evaluation.asset_key.to_user_string()} (run {run_id}): {json.dumps(details)}"
            )
    return alerts


def _report(client, request_id: str, status: queue.Status, error: str | None = None) -> None:
    # An expired (30 days) or deleted request has nobody waiting for its status.
    with contextlib.suppress(KeyError):
        queue.set_status(client, request_id, status, error=error)
