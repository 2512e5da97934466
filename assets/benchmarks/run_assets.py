"""Own benchmark runs: the plan of what to measure next, and the runs themselves.

`benchmark_runs` writes to the same `benchmark_results` table as `published_benchmarks` (the
imported results), with source "own"; it is a separate asset because it is partitioned by
(model, GPU) and measured by our harness through the launcher resource. The harness writes its
per-request records to the object store (`raw/benchmarks/`); the run loads them back into
`benchmark_request_timings` in the transaction that stores the result.
"""

from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Literal

import dagster as dg

from assets.benchmarks import run_checks, store
from assets.benchmarks.plan import Budget, Outcomes, PlanItem, plan
from assets.benchmarks.runs import (
    BENCHMARK_GPUS,
    DEFAULT_CONFIG,
    DEFAULT_SAMPLING,
    PLAN_WORK_TAG,
    InvalidRunConfig,
    UnreadableRecords,
    build_job,
    config_key,
    request_rows,
    result_row,
)
from assets.common.metadata import markdown_table
from assets.common.partitions import models_partitions
from assets.costs.pricing import SpotPolicy
from resources.database import DatabaseResource
from resources.launcher import (
    BenchmarkFailed,
    BenchmarkLauncherResource,
    BenchmarkPreempted,
    LaunchRequest,
)
from resources.object_store import RAW_RECORDS_PREFIX, ObjectNotFoundError, ObjectStoreResource
from resources.settings import Settings, get_settings

gpu_partitions = dg.StaticPartitionsDefinition(list(BENCHMARK_GPUS))
benchmark_run_partitions = dg.MultiPartitionsDefinition(
    {"model": models_partitions, "gpu": gpu_partitions}
)
# A harness reason can quote a whole traceback or list of choices; the UI and the request's
# status get its start, the run's logs keep all of it.
_MAX_REASON = 1000
BENCHMARK_RUN_JOB = "benchmark_run_job"  # orchestration/jobs.py
_PLAN_COLUMNS = ["rank", "model_id", "gpu", "num_gpus", "reason", "status", "est_gpu_hours",
                 "est_usd_spot", "est_usd_on_demand", "estimate_basis", "note"]  # fmt: skip


class BenchmarkRunConfig(dg.Config):
    """The work of one run (defaults: `runs.DEFAULT_CONFIG`); the GPU count, when unset, comes
    from the plan row of this (model, GPU, config), else 1."""

    concurrency: int = DEFAULT_CONFIG["concurrency"]
    input_len: int = DEFAULT_CONFIG["input_len"]
    output_len: int = DEFAULT_CONFIG["output_len"]
    dtype: str = DEFAULT_CONFIG["dtype"]
    engine: str = DEFAULT_CONFIG["engine"]
    num_requests: int = DEFAULT_SAMPLING["num_requests"]
    warmup_requests: int = DEFAULT_SAMPLING["warmup_requests"]
    seed: int = DEFAULT_SAMPLING["seed"]
    num_gpus: int | None = None  # None: the plan's count, else 1
    revision: str | None = None  # None: the catalog's current revision (Hub sha)
    # None: the published weights (`pretrained` from the model id). A performance-only run may
    # pass {"kind": "config", "config": {...}} (random-initialised weights).
    model_source: dict[str, Any] | None = None
    pricing: Literal["spot", "on-demand"] = "spot"
    allow_on_demand_fallback: bool = True
    max_runtime_s: int = 3600
    request_id: str | None = None  # the on-demand request this run serves, for attribution

    def work(self) -> dict[str, Any]:
        keys = (*DEFAULT_CONFIG, *DEFAULT_SAMPLING)
        return {key: getattr(self, key) for key in keys}


def engine_version(settings: Settings) -> str | None:
    """The engine version runs are expected to use (`benchmark_engine_version`), or None when
    it is not known: then no run is due for an engine change.

    Unset, only the local launcher's is known (it runs this interpreter's transformers); a
    pod runs the image's, which the code location cannot see, and guessing from here would
    make every result look stale, forever.
    """
    if settings.benchmark_engine_version:
        return settings.benchmark_engine_version
    if settings.launcher_kind != "local":
        return None
    try:
        return metadata.version("transformers")
    except metadata.PackageNotFoundError:
        return None


@dg.asset(
    group_name="benchmarks",
    kinds={"python", "postgres"},
    deps=["registry_models", "gpu_prices", "gpu_catalog"],
)
def benchmark_plan(
    context: dg.AssetExecutionContext, database: DatabaseResource
) -> dg.MaterializeResult:
    """Which (model, GPU, config) to benchmark next: models never measured, with a new Hub
    revision or a new engine version, most downloaded first, within the GPU-hour and dollar
    budget at spot prices (on-demand fallback cost shown). Work whose planned runs kept
    failing is given up until its revision or engine changes. Replaces the `benchmark_plan`
    table, and stores the budget beside it (`benchmark_plan_budget`) so the plan is judged
    against the caps it was made with."""
    settings = get_settings()
    policy = SpotPolicy(settings.spot_discount, settings.spot_interruptions_per_hour,
                        settings.spot_restart_overhead_minutes)  # fmt: skip
    budget = Budget(
        settings.benchmark_budget_gpu_hours,
        settings.benchmark_budget_usd,
        settings.benchmark_max_gpu_hours_per_run,
        settings.benchmark_max_usd_per_run,
    )
    version = engine_version(settings)
    with database.begin() as conn:
        offers = store.gpu_offers(
            conn, settings.benchmark_plan_gpus, policy, settings.price_window_days
        )
        candidates = store.plan_candidates(conn, settings.benchmark_plan_models)
        last_runs = store.last_own_runs(conn)
        # Twice: the first pass names the due work, whose run outcomes the second one judges.
        due = plan(candidates, offers, [DEFAULT_CONFIG], last_runs, version, budget)
        outcomes = plan_outcomes(context.instance, due)
        items = plan(candidates, offers, [DEFAULT_CONFIG], last_runs, version, budget,
                     outcomes, settings.benchmark_plan_max_failures)  # fmt: skip
        store.replace_plan(conn, items, datetime.now(UTC), budget)
    planned = [i for i in items if i.status == "planned"]
    priced = [o.gpu for o in offers if o.on_demand_usd_per_gpu_hour is not None]
    rows = [i.as_row() for i in items]
    return dg.MaterializeResult(
        metadata={
            "candidates": len(candidates),
            "due": len(items),
            "planned": len(planned),
            "over_budget": sum(i.status == "over_budget" for i in items),
            "unplannable": sum(i.status == "unplannable" for i in items),
            "given_up": sum(i.status == "given_up" for i in items),
            "est_gpu_hours": round(sum(i.est_gpu_hours or 0 for i in planned), 3),
            "est_usd_spot": round(sum(i.est_usd_spot or 0 for i in planned), 2),
            "est_usd_on_demand_fallback": round(sum(i.est_usd_on_demand or 0 for i in planned), 2),
            "budget": dg.MetadataValue.json(budget.__dict__ | {"engine_version": version}),
            "gpus_priced": dg.MetadataValue.json(priced),
            "plan": dg.MetadataValue.md(markdown_table(rows[:50], _PLAN_COLUMNS)),
        }
    )


def plan_outcomes(instance: dg.DagsterInstance, items: list[PlanItem]) -> dict[str, Outcomes]:
    """How the finished plan runs (tagged by `benchmark_plan_sensor`) of `items` ended, per
    `work_key`. Dagster's run history is the record: it has every run, its status and why."""
    keys = sorted({item.work_key for item in items})
    if not keys:
        return {}
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            job_name=BENCHMARK_RUN_JOB,
            statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS],
            tags={PLAN_WORK_TAG: keys},
        )
    )
    outcomes: dict[str, Outcomes] = {}
    for record in sorted(records, key=lambda r: r.create_timestamp):
        run = record.dagster_run
        key = run.tags[PLAN_WORK_TAG]
        seen = outcomes.get(key, Outcomes())
        failed = run.status == dg.DagsterRunStatus.FAILURE
        outcomes[key] = Outcomes(seen.failed + failed, seen.succeeded + (not failed), run.run_id)
    return outcomes


@dg.asset(
    group_name="benchmarks",
    kinds={"python", "postgres", "kubernetes"},
    partitions_def=benchmark_run_partitions,
    deps=[benchmark_plan],
    check_specs=[
        dg.AssetCheckSpec(name, asset="benchmark_runs", description=description)
        for name, description in (
            ("harness_requests_succeeded", "Every measured request completed (the harness)."),
            ("harness_metrics_consistent", "Percentiles ordered, throughput consistent (harness)."),
            ("benchmark_run_below_roofline", "Per-user decode rate <= the GPU's bandwidth bound."),
            (
                "benchmark_run_no_regression",
                "No throughput drop or latency rise vs the previous "
                "result of the same work (WARN/ERROR beyond the configured thresholds).",
            ),
        )  # fmt: skip
    ],
)
def benchmark_runs(
    context: dg.AssetExecutionContext,
    config: BenchmarkRunConfig,
    database: DatabaseResource,
    launcher: BenchmarkLauncherResource,
    object_store: ObjectStoreResource,
) -> dg.MaterializeResult:
    """Own benchmark runs, one per (model, GPU) partition: the harness measures the model (on a
    spot GPU pod, or a CPU subprocess locally) and the result is stored in `benchmark_results`
    with source "own" and its provenance, its per-request records in `benchmark_request_timings`.
    Re-running a partition with the same identity replaces its rows, so a retried or
    re-executed run never duplicates one."""
    settings = get_settings()
    keys = context.partition_key.keys_by_dimension
    model_id, gpu = keys["model"], keys["gpu"]
    with database.begin() as conn:
        facts = store.model_facts(conn, model_id)
        planned = store.plan_item(conn, model_id, gpu, config_key(config.work()))
    if facts is None:
        raise dg.Failure(f"model {model_id!r} is not in the catalog", allow_retries=False)
    num_gpus = config.num_gpus or (planned["num_gpus"] if planned else 1)
    try:
        job = build_job(
            model_id=model_id,
            revision=config.revision or facts["sha"],
            gpu=gpu,
            num_gpus=num_gpus,
            config=config.work(),
            model_source=config.model_source or {"kind": "pretrained", "repo_id": model_id},
            artifacts_uri=object_store.prefix_uri(RAW_RECORDS_PREFIX),
            s3_endpoint_url=object_store.endpoint_url,
        )
    except InvalidRunConfig as error:
        raise dg.Failure(f"cannot run {model_id} on {gpu}: {error}", allow_retries=False) from error
    labels = {"model": model_id, "gpu": gpu, "run-id": context.run.run_id}
    if config.request_id:
        labels["request-id"] = config.request_id
    request = LaunchRequest(job=job, gpu=gpu, num_gpus=num_gpus, pricing=config.pricing,
                            allow_on_demand_fallback=config.allow_on_demand_fallback,
                            max_runtime_s=config.max_runtime_s, labels=labels)  # fmt: skip
    try:
        outcome = launcher.launch(context, request)
    except BenchmarkFailed as error:
        # Never retried by Dagster (nor the run: orchestration/jobs.py): a genuine failure
        # fails again, and preemptions were already retried by the launcher up to its limit.
        kind = "gave up after preemptions" if isinstance(error, BenchmarkPreempted) else "failed"
        raise dg.Failure(
            description=f"benchmark of {model_id} on {gpu} {kind}: {error.reason[:_MAX_REASON]}",
            metadata={"attempts": dg.MetadataValue.json([a.__dict__ for a in error.attempts])},
            allow_retries=False,
        ) from error
    attempts = [a.__dict__ for a in outcome.attempts]
    provenance = {
        "dagster_run_id": context.run.run_id, "pricing": outcome.pricing, "attempts": attempts,
        "request_id": config.request_id, "plan_reason": planned["reason"] if planned else None,
    }  # fmt: skip
    try:
        row = result_row(job, outcome.result, provenance)
    except InvalidRunConfig as error:  # a harness that breaks the contract: store nothing
        raise dg.Failure(f"unusable harness result: {error}", allow_retries=False) from error
    requests, loading = _request_rows(context, object_store, row)
    with database.begin() as conn:
        replaced = store.write_own_result(conn, row)
        loading["requests_loaded"] = store.write_request_timings(conn, row["result_key"], requests)
        history = store.same_work_history(conn, row)
        bandwidth = store.bandwidths(conn).get(gpu)
    checks = [
        *run_checks.harness_checks(outcome.results),
        run_checks.roofline_check(row, bandwidth, facts, settings),
        run_checks.regression_check(row, history, settings),
    ]
    metadata = run_checks.run_metadata(row, outcome, replaced) | loading
    return dg.MaterializeResult(metadata=metadata, check_results=checks)


def _request_rows(
    context: dg.AssetExecutionContext, object_store: ObjectStoreResource, row: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The run's `benchmark_request_timings` rows, read back from the object store, and what loading
    them found. Records that cannot be read leave the result stored without them (its
    percentiles stand on their own; the object stays in the store) and say why."""
    uri = row["extra"].get("raw_records_uri") or ""
    try:
        data = object_store.get_bytes(object_store.key_from_uri(uri))
        rows, skipped = request_rows(row["result_key"], row["measured_at"], data)
    except (ValueError, ObjectNotFoundError, UnreadableRecords) as error:
        context.log.warning(f"raw records not loaded from {uri!r}: {error}")
        return [], {"requests_skipped": 0, "raw_records_error": str(error)[:_MAX_REASON]}
    if skipped:
        context.log.warning(f"{skipped} unusable line(s) in {uri} were not loaded")
    return rows, {"requests_skipped": skipped}
