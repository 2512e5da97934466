"""`benchmark_plan` on real PostgreSQL with the real GPU catalog and marketplace prices, and the
plan as the API serves it."""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from assets.benchmarks.checks import benchmark_plan_within_budget
from assets.benchmarks.run_assets import benchmark_plan
from assets.benchmarks.runs import DEFAULT_CONFIG
from assets.costs.assets import gpu_catalog, gpu_prices
from resources.database import DatabaseResource
from resources.datasets import DatasetsResource
from resources.db.tables import BenchmarkPlanBudget, BenchmarkPlanItem, BenchmarkResult, MlModel
from resources.settings import Settings, get_settings
from serving.app import create_app

pytestmark = pytest.mark.integration

ENGINE = "5.24.0"
MODELS = [  # id, downloads, parameters
    ("big/popular", 1000, 70e9),
    ("current/model", 500, 8e9),
    ("small/model", 100, 1e9),
    ("unknown/size", 50, None),
]


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CATALOG_BENCHMARK_ENGINE_VERSION", ENGINE)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def catalog(clean_db: Engine, database_url: str) -> Engine:
    resources = {"database": DatabaseResource(url=database_url),
                 "datasets": DatasetsResource(root=str(get_settings().data_dir))}  # fmt: skip
    assert dg.materialize([gpu_catalog, gpu_prices], resources=resources).success
    models = [
        {"id": i, "source": "test", "pipeline_tag": "text-generation", "sha": f"sha-{i}",
         "downloads": d, "num_parameters": int(p) if p else None}
        for i, d, p in MODELS
    ]  # fmt: skip
    # "current/model" was measured on the H100 at its current revision and engine version.
    measured = {"result_key": "current", "measured_at": datetime(2026, 1, 1, tzinfo=UTC),
                "source": "own", "task": "text-generation", "model_id": "current/model",
                "model_revision": "sha-current/model", "gpu": "H100-SXM-80GB", "num_gpus": 1,
                "engine": "transformers", "engine_version": ENGINE, "config": DEFAULT_CONFIG,
                "output_unit": "token", "output_throughput": 900.0}  # fmt: skip
    with clean_db.begin() as conn:
        conn.execute(MlModel.__table__.insert(), models)
        conn.execute(BenchmarkResult.__table__.insert(), [measured])
    return clean_db


def _plan(engine: Engine) -> list[dict]:
    query = select(BenchmarkPlanItem.__table__).order_by(BenchmarkPlanItem.rank)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def test_the_plan_is_due_work_most_popular_first_within_budget(
    settings, catalog, database_url, redis_url
):
    resources = {"database": DatabaseResource(url=database_url)}
    result = dg.materialize([benchmark_plan], resources=resources)
    assert result.success
    items = _plan(catalog)
    h100 = [(i["model_id"], i["status"], i["num_gpus"]) for i in items if i["gpu"] != "L4"]
    assert h100 == [
        ("big/popular", "planned", 4),  # 140 GB of bf16 weights + 30% headroom: 4 x 80 GB
        ("small/model", "planned", 1),
        ("unknown/size", "unplannable", 1),
    ]  # current/model is up to date on the H100
    # The marketplace data has no L4 prices: planned nowhere, reported as such.
    l4 = {i["model_id"]: i for i in items if i["gpu"] == "L4"}
    assert l4["current/model"]["reason"] == "never measured"
    assert l4["small/model"]["note"] == "no price for L4"
    planned = [i for i in items if i["status"] == "planned"]
    assert all(i["est_usd_spot"] < i["est_usd_on_demand"] for i in planned)
    assert sum(i["est_gpu_hours"] for i in planned) <= settings.benchmark_budget_gpu_hours
    assert sum(i["est_usd_spot"] for i in planned) <= settings.benchmark_budget_usd
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["planned"].value == 2
    assert (
        "| big/popular | H100-SXM-80GB | 4 | never measured | planned |" in metadata["plan"].value
    )

    # A second plan replaces the first: same items, no duplicates.
    assert dg.materialize([benchmark_plan], resources=resources).success
    assert [(i["model_id"], i["gpu"]) for i in _plan(catalog)] == [
        (i["model_id"], i["gpu"]) for i in items
    ]
    check = benchmark_plan_within_budget(DatabaseResource(url=database_url))
    assert check.passed and check.metadata["planned"].value == 2

    with _client(database_url, redis_url) as client:
        body = client.get("/benchmarks/plan", params={"status": "planned"}).json()
        assert [i["model_id"] for i in body["data"]] == ["big/popular", "small/model"]
        assert body["count"] == 2
        assert body["planned_usd_spot"] == pytest.approx(sum(i["est_usd_spot"] for i in planned))
        assert client.get("/benchmarks/plan", params={"status": "bogus"}).status_code == 422


def test_the_plan_keeps_the_budget_it_was_made_against(
    settings, catalog, database_url, redis_url, monkeypatch
):
    with _client(database_url, redis_url) as client:
        before = client.get("/benchmarks/plan").json()
    assert before["count"] == 0 and before["planned_at"] is None
    assert before["budget_gpu_hours"] is None and before["budget_usd"] is None

    resources = {"database": DatabaseResource(url=database_url)}
    assert dg.materialize([benchmark_plan], resources=resources).success
    first = _plan(catalog)
    # Today's settings change; the plan already made still shows the caps it was made with.
    monkeypatch.setenv("CATALOG_BENCHMARK_BUDGET_GPU_HOURS", "3.5")
    monkeypatch.setenv("CATALOG_BENCHMARK_BUDGET_USD", "12.5")
    get_settings.cache_clear()
    with _client(database_url, redis_url) as client:
        body = client.get("/benchmarks/plan", params={"gpu": "H100-SXM-80GB"}).json()
    assert body["budget_gpu_hours"] == settings.benchmark_budget_gpu_hours
    assert body["budget_usd"] == settings.benchmark_budget_usd
    assert body["budget_gpu_hours_per_run"] == settings.benchmark_max_gpu_hours_per_run
    assert body["budget_usd_per_run"] == settings.benchmark_max_usd_per_run
    assert datetime.fromisoformat(body["planned_at"]) == first[0]["planned_at"]
    assert body["planned_gpu_hours"] <= body["budget_gpu_hours"]

    # The next plan is made against the new caps, and replaces the old one with its budget.
    assert dg.materialize([benchmark_plan], resources=resources).success
    with _client(database_url, redis_url) as client:
        body = client.get("/benchmarks/plan").json()
    assert (body["budget_gpu_hours"], body["budget_usd"]) == (3.5, 12.5)
    assert body["planned_gpu_hours"] <= 3.5 and body["planned_usd_spot"] <= 12.5
    with catalog.connect() as conn:
        budgets = conn.execute(select(BenchmarkPlanBudget.__table__)).mappings().all()
    assert len(budgets) == 1  # the old plan's row went, and its items with it
    assert {i["planned_at"] for i in _plan(catalog)} == {budgets[0]["planned_at"]}


def _client(database_url: str, redis_url: str) -> TestClient:
    app = create_app(database_url, redis_url, Settings(open_reads=True, rate_limit_per_s=0,
                                                        rate_limit_anonymous_per_s=0))  # fmt: skip
    return TestClient(app)
