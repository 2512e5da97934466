"""GET /analytics/...: popularity growth, metric trends and regressions on a seeded catalog.

On top of `seed()`: more snapshots in a window ending 2025-05-10, and a LLAMA configuration "d"
whose latest run looks fine against the run before it (an outlier) but not against the median.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from resources.db.tables import BenchmarkResult, ModelSnapshot
from serving import errors
from serving.analytics.router import router
from serving.db import Database, serving_engine
from tests.integration.serving.seed import GHOST, LLAMA, MINILM, QWEN, REMOVED, UNICODE, seed

pytestmark = pytest.mark.integration

T0 = datetime(2025, 6, 1, tzinfo=UTC)


def _snapshot(model: str, day: int, downloads: int | None, likes: int | None = None) -> dict:
    return {"model_id": model, "snapshot_date": date(2025, 5, day), "downloads": downloads,
            "likes": likes, "trending_rank": None, "source": "hub"}  # fmt: skip


def _run(key: str, model: str, day: int, gpu: str = "H100", **metrics) -> dict:
    return {
        "result_key": key, "measured_at": T0 + timedelta(days=day), "source": "own",
        "task": "lm-arena-chat", "model_id": model, "gpu": gpu, "num_gpus": 1, "engine": "vllm",
        "config": {"max_num_seqs": 8}, "output_unit": "token", "metric_definitions": {},
        "extra": {}, "throughput_per_gpu": None, "itl_ms_p95": None, "energy_per_output_j": None,
    } | metrics  # fmt: skip


def _seed_history(engine: Engine) -> None:
    snapshots = [
        _snapshot(LLAMA, 3, 5000, 300), _snapshot(LLAMA, 10, 6000, 310),
        _snapshot(MINILM, 4, 100), _snapshot(MINILM, 10, 400),
        _snapshot(UNICODE, 9, 0, 1), _snapshot(UNICODE, 10, 50, 1),
        _snapshot(GHOST, 5, 10), _snapshot(GHOST, 7, None), _snapshot(GHOST, 10, 30),
        _snapshot(REMOVED, 3, 1), _snapshot(REMOVED, 10, 1_000_000),
    ]  # fmt: skip
    history = ((1, 10.0, 1.0), (2, 10.0, 1.0), (3, 30.0, 1.0), (4, 12.0, 1.05))
    runs = [
        _run("d", LLAMA, day, itl_ms_p95=latency, energy_per_output_j=energy)
        for day, latency, energy in history
    ]
    runs += [
        _run("e", LLAMA, day, gpu="B200", throughput_per_gpu=t)
        for day, t in ((1, 100.0), (2, 130.0))
    ]
    with engine.begin() as conn:
        conn.execute(insert(ModelSnapshot), snapshots)
        conn.execute(insert(BenchmarkResult), runs)


@pytest.fixture
def api(clean_db: Engine, database_url: str) -> Iterator[TestClient]:
    seed(clean_db)
    _seed_history(clean_db)
    app = FastAPI()
    errors.install(app)
    app.include_router(router)
    engine = serving_engine(database_url)
    app.state.database = Database(engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    engine.dispose()


def _trending(api: TestClient, **params) -> list[tuple]:
    response = api.get("/analytics/popularity/trending", params=params)
    assert response.status_code == 200, response.text
    return [(m["model_id"], m["growth"], m["growth_pct"]) for m in response.json()["data"]]


def test_trending_over_the_last_week_of_snapshots(api):
    body = api.get("/analytics/popularity/trending").json()
    assert (body["window_start"], body["window_end"]) == ("2025-05-03", "2025-05-10")
    assert body["data"][0] == {
        "model_id": LLAMA, "task": "text-generation", "first_date": "2025-05-03",
        "first_value": 5000, "last_date": "2025-05-10", "last_value": 6000, "growth": 1000,
        "growth_pct": 20.0,
    }  # fmt: skip
    # REMOVED grew most but the registry dropped it; QWEN has one snapshot in the window;
    # GHOST's null day is skipped and it counts though the registry does not list it.
    assert _trending(api) == [
        (LLAMA, 1000, 20.0), (MINILM, 300, 300.0), (UNICODE, 50, None), (GHOST, 20, 200.0)
    ]  # fmt: skip


def test_trending_options(api):
    assert _trending(api, rank_by="relative") == [
        (MINILM, 300, 300.0), (GHOST, 20, 200.0), (LLAMA, 1000, 20.0), (UNICODE, 50, None)
    ]  # fmt: skip
    assert [m for m, *_ in _trending(api, min_first_value=1, limit=2)] == [LLAMA, MINILM]
    assert [m for m, *_ in _trending(api, task="text-generation")] == [LLAMA, UNICODE]
    assert _trending(api, metric="likes") == [(LLAMA, 10, pytest.approx(10 / 3))]
    assert _trending(api, end="2025-05-03", window_days=2) == [(QWEN, 200, 200.0)]


@pytest.mark.parametrize(
    "params",
    [{"window_days": 0}, {"window_days": 366}, {"limit": 101}, {"metric": "stars"},
     {"task": "\x00"}, {"end": "2025-13-01"}],
)  # fmt: skip
def test_trending_rejects_bad_parameters(api, params):
    response = api.get("/analytics/popularity/trending", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_trending_window_before_year_one_is_400(api):
    response = api.get("/analytics/popularity/trending", params={"end": "0001-01-02"})
    assert response.status_code == 400
    assert "before year 1" in response.json()["error"]["message"]


def _trends(api: TestClient, **params) -> dict:
    response = api.get("/analytics/benchmarks/trends", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_metric_trend_per_configuration(api):
    body = _trends(api, model_id=QWEN, metric="throughput")
    assert (body["unit"], body["higher_is_worse"]) == ("outputs/s per GPU", False)
    assert [(s["task"], s["gpu"], s["result_key"]) for s in body["data"]] == [
        ("gpqa", "B200", "c"), ("lm-arena-chat", "H100", "a"), ("lm-arena-chat", "H100", "b")
    ]  # fmt: skip
    a = body["data"][1]
    assert a["points"] == [
        {"measured_at": "2025-06-01T00:00:00Z", "value": 500.0},
        {"measured_at": "2025-06-11T00:00:00Z", "value": 400.0},
    ]
    assert (a["change"], a["change_pct"], a["config"]) == (-100.0, -20.0, {"max_num_seqs": 64})
    assert (body["data"][2]["change"], body["data"][2]["change_pct"]) == (0.0, 0.0)


def test_metric_trend_filters(api):
    assert [s["result_key"] for s in _trends(api, model_id=QWEN, gpu="H100")["data"]] == ["a", "b"]
    since = _trends(api, model_id=QWEN, metric="throughput", since="2025-06-05T00:00:00")
    assert [len(s["points"]) for s in since["data"]] == [1]
    latest_two = _trends(api, model_id=LLAMA, max_points=2)["data"][0]["points"]
    assert [p["value"] for p in latest_two] == [30.0, 12.0]
    # A known model without that metric: an empty answer, not a 404.
    assert _trends(api, model_id=QWEN, metric="energy")["data"] == []


def test_metric_trend_errors(api):
    response = api.get("/analytics/benchmarks/trends", params={"model_id": "nobody/none"})
    assert response.status_code == 404
    assert "nobody/none" in response.json()["error"]["message"]
    inverted = {"model_id": QWEN, "since": "2025-06-10T00:00:00Z", "until": "2025-06-01T00:00:00Z"}
    response = api.get("/analytics/benchmarks/trends", params=inverted)
    assert response.status_code == 400
    assert "after until" in response.json()["error"]["message"]
    assert api.get("/analytics/benchmarks/trends").status_code == 422
    too_long = {"model_id": "x" * 513}
    assert api.get("/analytics/benchmarks/trends", params=too_long).status_code == 422
    with_nul = {"model_id": "a\x00b"}
    assert api.get("/analytics/benchmarks/trends", params=with_nul).status_code == 422


def _regressions(api: TestClient, **params) -> list[tuple]:
    response = api.get("/analytics/benchmarks/regressions", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] >= len(body["data"])
    return [(r["result_key"], r["metric"], round(r["change_pct"], 2)) for r in body["data"]]


def test_latest_run_worse_than_the_previous(api):
    response = api.get("/analytics/benchmarks/regressions").json()
    expected = {
        "result_key": "a", "model_id": QWEN, "task": "lm-arena-chat", "gpu": "H100",
        "metric": "p95_latency", "unit": "ms", "latest_value": 25.0, "baseline_value": 20.0,
        "latest_at": "2025-06-11T00:00:00Z", "previous_at": "2025-06-01T00:00:00Z",
        "change_pct": 25.0, "baseline_runs": 1, "config": {"max_num_seqs": 64},
    }  # fmt: skip
    latency = response["data"][0]
    assert {name: latency[name] for name in expected} == expected
    assert _regressions(api) == [("a", "p95_latency", 25.0), ("a", "throughput", -20.0)]


def test_median_baseline_sees_past_an_outlier(api):
    assert ("d", "p95_latency", 20.0) in _regressions(api, baseline="median")
    assert ("d", "p95_latency", 20.0) not in _regressions(api, baseline="previous")
    # Two runs back the median is (10 + 30) / 2: 12 is an improvement on that.
    assert ("d", "p95_latency", 20.0) not in _regressions(api, baseline="median", window=2)
    # Energy rose 5%: under the default threshold, over a lower one.
    assert _regressions(api, metric="energy", threshold_pct=4) == [("d", "energy", 5.0)]
    assert _regressions(api, metric="energy") == []


def test_regression_filters(api):
    assert _regressions(api, gpu="B200") == []
    assert _regressions(api, task="gpqa") == []
    assert [k for k, *_ in _regressions(api, model_id=LLAMA, baseline="median")] == ["d"]
    # Only configurations whose latest run is recent: "d" last ran on 2025-06-05.
    recent = _regressions(api, baseline="median", since="2025-06-10T00:00:00Z")
    assert {k for k, *_ in recent} == {"a"}
    limited = api.get("/analytics/benchmarks/regressions", params={"limit": 1}).json()
    assert (len(limited["data"]), limited["count"]) == (1, 2)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"since": "2999-01-01T00:00:00Z"}, 400),
        ({"threshold_pct": 0}, 422),
        ({"baseline": "mean"}, 422),
        ({"window": 0}, 422),
        ({"metric": "accuracy"}, 422),
        ({"task": "chat\x00"}, 422),  # PostgreSQL cannot compare with it: refused up front
        ({"since": "0001-01-01T00:00:00+14:00"}, 422),  # before year 1 in UTC
    ],
)
def test_regression_parameter_errors(api, params, status):
    response = api.get("/analytics/benchmarks/regressions", params=params)
    assert response.status_code == status
    assert response.json()["error"]["message"]
