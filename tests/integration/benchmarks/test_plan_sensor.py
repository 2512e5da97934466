"""The plan sensor: planned items become runs, once per plan, never beside an unfinished run of
the same work; and the plan counts how those runs ended."""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest
from dagster._core.utils import make_new_run_id
from sqlalchemy.engine import Engine

from assets.benchmarks.plan import PlanItem, work_key
from assets.benchmarks.run_assets import engine_version, plan_outcomes
from assets.benchmarks.runs import DEFAULT_CONFIG, PLAN_WORK_TAG, config_key
from orchestration.jobs import MAX_RUNTIME_TAG, RETRY_ON_STEP_FAILURE_TAG, benchmark_run_job
from orchestration.sensors import PLAN_TAG, benchmark_plan_sensor
from resources.database import DatabaseResource
from resources.db.tables import BenchmarkPlanBudget, BenchmarkPlanItem
from resources.settings import get_settings

pytestmark = pytest.mark.integration


GENERATION_1 = datetime(2026, 1, 1, tzinfo=UTC)


def _item(
    model_id: str, status: str, rank: int, revision: str = "r1", planned_at=GENERATION_1
) -> dict:
    return {"model_id": model_id, "gpu": "H100-SXM-80GB", "config_key": config_key(DEFAULT_CONFIG),
            "rank": rank, "revision": revision, "num_gpus": 2, "config": DEFAULT_CONFIG,
            "reason": "never measured", "status": status, "note": "", "downloads": 1,
            "estimate_basis": "roofline heuristic", "est_gpu_hours": 1.0, "est_usd_spot": 2.0,
            "est_usd_on_demand": 4.0, "planned_at": planned_at}  # fmt: skip


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
    _replace_plan(clean_db, _item("m/planned", "planned", 1), _item("m/deferred", "over_budget", 2))
    result = _tick(instance, database_url)
    [run] = result.run_requests
    assert run.partition_key == dg.MultiPartitionKey({"model": "m/planned", "gpu": "H100-SXM-80GB"})
    config = run.run_config["ops"]["benchmark_runs"]["config"]
    assert (config["num_gpus"], config["revision"], config["concurrency"]) == (2, "r1", 8)
    assert run.tags[PLAN_TAG] == "never measured"
    [add] = result.dynamic_partitions_requests
    assert list(add.partition_keys) == ["m/planned"]

    assert run.tags[PLAN_WORK_TAG] == _work("m/planned", "r1")
    assert run.tags[RETRY_ON_STEP_FAILURE_TAG] == "false" and int(run.tags[MAX_RUNTIME_TAG]) > 3600

    # The same plan again: the same run key (Dagster runs it once).
    assert [r.run_key for r in _tick(instance, database_url).run_requests] == [run.run_key]
    # A new plan of the same work (its run failed, it is still due): another run.
    _replace_plan(clean_db, _item("m/planned", "planned", 1, planned_at=datetime.now(UTC)))
    [again] = _tick(instance, database_url).run_requests
    assert again.run_key != run.run_key and again.tags[PLAN_WORK_TAG] == run.tags[PLAN_WORK_TAG]
    # A new revision is new work.
    _replace_plan(clean_db, _item("m/planned", "planned", 1, "r2"))
    [rerun] = _tick(instance, database_url).run_requests
    assert rerun.tags[PLAN_WORK_TAG] == _work("m/planned", "r2") != run.tags[PLAN_WORK_TAG]


def test_work_with_an_unfinished_run_is_not_started_again(clean_db, database_url, instance):
    _replace_plan(clean_db, _item("m/busy", "planned", 1), _item("m/free", "planned", 2))
    _add_run(instance, _work("m/busy", "r1"), dg.DagsterRunStatus.STARTED)
    _add_run(instance, _work("m/free", "r1"), dg.DagsterRunStatus.FAILURE)  # finished
    assert [r.tags[PLAN_WORK_TAG] for r in _tick(instance, database_url).run_requests] == [
        _work("m/free", "r1")
    ]


def test_the_plan_counts_finished_runs_of_its_work(instance):
    busy, failing = _work("m/a", "r1"), _work("m/b", "r1")
    for status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.FAILURE,
                   dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.SUCCESS):  # fmt: skip
        last = _add_run(instance, busy, status)
    _add_run(instance, failing, dg.DagsterRunStatus.FAILURE)
    _add_run(instance, "other-work", dg.DagsterRunStatus.FAILURE)
    items = [_plan_item("m/a", busy), _plan_item("m/b", failing)]
    outcomes = plan_outcomes(instance, items)
    assert set(outcomes) == {busy, failing}
    assert (outcomes[busy].failed, outcomes[busy].succeeded) == (2, 1)
    assert outcomes[busy].last_run_id == last
    assert (outcomes[failing].failed, outcomes[failing].succeeded) == (1, 0)


def _work(model_id: str, revision: str) -> str:
    engine = engine_version(get_settings())  # what the sensor targets
    return work_key(model_id, "H100-SXM-80GB", config_key(DEFAULT_CONFIG), revision, engine)


def _plan_item(model_id: str, key: str) -> PlanItem:
    item = PlanItem(model_id, "r1", "H100-SXM-80GB", 1, DEFAULT_CONFIG, "k", "never measured", 1)
    item.work_key = key
    return item


def _replace_plan(engine: Engine, *items: dict) -> None:
    """As `store.replace_plan` does: the old plan goes with its budget row, the new items come
    with theirs (the sensor reads neither the caps nor more than one plan)."""
    budgets = [{"planned_at": at, "max_gpu_hours": 24.0, "max_usd": 100.0,
                "max_gpu_hours_per_run": 4.0, "max_usd_per_run": 20.0}
               for at in {item["planned_at"] for item in items}]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(BenchmarkPlanBudget.__table__.delete())  # cascades to the items
        conn.execute(BenchmarkPlanBudget.__table__.insert(), budgets)
        conn.execute(BenchmarkPlanItem.__table__.insert(), list(items))


def _add_run(instance: dg.DagsterInstance, key: str, status: dg.DagsterRunStatus) -> str:
    run = dg.DagsterRun(job_name=benchmark_run_job.name, run_id=make_new_run_id(),
                        status=status, tags={PLAN_WORK_TAG: key})  # fmt: skip
    instance.add_run(run)
    return run.run_id
