"""`benchmark_runs` for real: the local launcher runs the harness on CPU with a tiny model.

A re-executed partition replaces its row and its per-request rows (never two sets), a drop
against an older engine's result of the same work is flagged by the regression check and alerted
by the sensor, and a genuine failure writes nothing.
"""

from datetime import UTC, datetime

import dagster as dg
import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from assets.benchmarks.run_assets import benchmark_runs
from orchestration.sensors import benchmark_regression_alert, failed_alert_checks
from resources.db.tables import BenchmarkRequestTiming, BenchmarkResult
from resources.object_store import RAW_RECORDS_PREFIX, LocalObjectStore
from tests.integration.benchmarks.conftest import MODEL, PARTITION, RUN_CONFIG, SHA

pytestmark = pytest.mark.integration


def _run(instance, resources, **overrides) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [benchmark_runs],
        partition_key=PARTITION,
        instance=instance,
        resources=resources,
        run_config={"ops": {"benchmark_runs": {"config": RUN_CONFIG | overrides}}},
        raise_on_error=False,
    )


def _rows(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(BenchmarkResult.__table__)).mappings()]


def requests(engine: Engine) -> list[dict]:
    query = select(BenchmarkRequestTiming.__table__).order_by(BenchmarkRequestTiming.request_index)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_a_rerun_replaces_its_row_and_a_regression_is_flagged_and_alerted(
    catalog: Engine, object_store: LocalObjectStore, instance, run_resources
):
    first = _run(instance, run_resources)
    assert first.success, first.all_events
    [row] = _rows(catalog)
    assert (row["source"], row["model_id"], row["gpu"], row["model_revision"]) == (
        "own", MODEL, "CPU", SHA,
    )  # fmt: skip
    assert row["engine"] == "transformers" and row["harness_version"] and row["engine_version"]
    assert row["output_throughput"] > 0 and row["ttft_ms_p50"] > 0
    assert row["extra"]["dagster_run_id"] == first.run_id
    assert row["extra"]["attempts"][0]["outcome"] == "succeeded"
    assert row["extra"]["raw_records_uri"].startswith(object_store.prefix_uri(RAW_RECORDS_PREFIX))
    loaded = requests(catalog)
    assert [r["request_index"] for r in loaded] == list(range(RUN_CONFIG["num_requests"]))
    assert all(r["result_key"] == row["result_key"] for r in loaded)
    assert all(r["measured_at"] == row["measured_at"] <= r["sent_at"] for r in loaded)
    assert all(r["error"] is None and r["output_tokens"] == RUN_CONFIG["output_len"]
               for r in loaded)  # fmt: skip
    # The same figures the result's percentiles were computed from.
    ttft = np.percentile([r["ttft_ms"] for r in loaded], [50, 99])
    assert list(ttft) == pytest.approx([row["ttft_ms_p50"], row["ttft_ms_p99"]])
    assert all(len(r["itl_ms"]) == RUN_CONFIG["output_len"] - 1 for r in loaded)
    metadata = first.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["requests_loaded"].value == RUN_CONFIG["num_requests"]
    checks = _checks(first)
    assert all(c.passed for c in checks.values()), checks
    assert set(checks) == {
        "harness_requests_succeeded",
        "harness_metrics_consistent",
        "benchmark_run_below_roofline",
        "benchmark_run_no_regression",
    }
    # No bandwidth for a CPU: judged "skipped", which passes.
    assert checks["benchmark_run_below_roofline"].metadata["verdict"].value == "skipped"

    # The same work measured earlier under another engine version, 1000x faster.
    older = row | {"result_key": "older-engine", "engine_version": "0.0.1",
                   "measured_at": datetime(2020, 1, 1, tzinfo=UTC),
                   "output_throughput": row["output_throughput"] * 1000}  # fmt: skip
    with catalog.begin() as conn:
        conn.execute(BenchmarkResult.__table__.insert(), [older])

    second = _run(instance, run_resources)
    assert second.success
    own = [r for r in _rows(catalog) if r["result_key"] != "older-engine"]
    assert len(own) == 1 and own[0]["result_key"] == row["result_key"]
    assert own[0]["extra"]["dagster_run_id"] == second.run_id  # the newer measurement won
    # One set of requests, the newer measurement's: the replaced one's rows went with it.
    reloaded = requests(catalog)
    assert len(reloaded) == RUN_CONFIG["num_requests"]
    assert {r["measured_at"] for r in reloaded} == {own[0]["measured_at"]}
    assert own[0]["measured_at"] > row["measured_at"]
    materialization = second.get_asset_materialization_events()[0].materialization
    assert materialization.metadata["rows_replaced"].value == 1
    regression = _checks(second)["benchmark_run_no_regression"]
    assert not regression.passed and regression.severity == dg.AssetCheckSeverity.ERROR
    assert regression.metadata["previous_result_key"].value == "older-engine"

    [alert] = failed_alert_checks(instance, second.run_id)
    assert alert.startswith("ERROR benchmark_run_no_regression on benchmark_runs")
    event = (
        instance.get_records_for_run(second.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)
        .records[0]
        .event_log_entry.dagster_event
    )
    context = dg.build_run_status_sensor_context(
        sensor_name="benchmark_regression_alert", dagster_event=event, dagster_instance=instance,
        dagster_run=instance.get_run_by_id(second.run_id),
    )  # fmt: skip
    skip = benchmark_regression_alert(context)
    assert "benchmark_run_no_regression" in skip.skip_message


def test_a_genuine_failure_fails_the_run_and_writes_nothing(
    catalog: Engine, instance, run_resources
):
    bad = {"kind": "config", "config": {"model_type": "no-such-architecture"}}
    result = _run(instance, run_resources, model_source=bad)
    assert not result.success
    failure = result.failure_data_for_node("benchmark_runs")
    assert failure.user_failure_data.description.startswith(
        f"benchmark of {MODEL} on CPU failed: harness failed"
    )
    assert "no-such-architecture" in failure.user_failure_data.description
    assert _rows(catalog) == [] and requests(catalog) == []


def test_a_model_outside_the_catalog_fails_with_its_reason(
    clean_db: Engine, instance, run_resources
):
    result = _run(instance, run_resources)
    assert not result.success
    failure = result.failure_data_for_node("benchmark_runs")
    assert failure.user_failure_data.description == f"model {MODEL!r} is not in the catalog"
