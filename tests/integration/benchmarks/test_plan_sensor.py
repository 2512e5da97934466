"""The plan sensor: planned items become runs, once per revision and engine version."""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest
from sqlalchemy.engine import Engine

from assets.benchmarks.runs import DEFAULT_CONFIG, config_key
from orchestration.sensors import PLAN_TAG, benchmark_plan_sensor
from resources.database import DatabaseResource
from resources.db.tables import BenchmarkPlanItem

pytestmark = pytest.mark.integration


def _item(model_id: str, status: str, rank: int, revision: str = "r1") -> dict:
    return {"model_id": model_id, "gpu": "H100-SXM-80GB", "config_key": config_key(DEFAULT_CONFIG),
            "rank": rank, "revision": revision, "num_gpus": 2, "config": DEFAULT_CONFIG,
            "reason": "never measured", "status": status, "note": "", "downloads": 1,
            "estimate_basis": "roofline heuristic", "est_gpu_hours": 1.0, "est_usd_spot": 2.0,
            "est_usd_on_demand": 4.0, "planned_at": datetime(2026, 1, 1, tzinfo=UTC)}  # fmt: skip


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def _tick(instance, database_url: str) -> dg.SensorResult:
    # A context manager: the database resource sets itself up (migrations) and tears down.
    with dg.build_sensor_context(
        instance=instance, resources={"database": DatabaseResource(url=database_url)}
    ) as context:
        return benchmark_plan_sensor(context)


def test_planned_items_become_runs_keyed_by_revision(clean_db: Engine, database_url, instance):
    with clean_db.begin() as conn:
        conn.execute(BenchmarkPlanItem.__table__.insert(), [
            _item("m/planned", "planned", 1), _item("m/deferred", "over_budget", 2),
        ])  # fmt: skip
    result = _tick(instance, database_url)
    [run] = result.run_requests
    assert run.partition_key == dg.MultiPartitionKey({"model": "m/planned", "gpu": "H100-SXM-80GB"})
    config = run.run_config["ops"]["benchmark_runs"]["config"]
    assert (config["num_gpus"], config["revision"], config["concurrency"]) == (2, "r1", 8)
    assert run.tags[PLAN_TAG] == "never measured"
    [add] = result.dynamic_partitions_requests
    assert list(add.partition_keys) == ["m/planned"]

    # The same item at a new revision is another run; at the same revision, the same run key.
    with clean_db.begin() as conn:
        conn.execute(BenchmarkPlanItem.__table__.delete())
        conn.execute(BenchmarkPlanItem.__table__.insert(), [_item("m/planned", "planned", 1, "r2")])
    [rerun] = _tick(instance, database_url).run_requests
    assert rerun.run_key != run.run_key and "r2" in rerun.run_key
