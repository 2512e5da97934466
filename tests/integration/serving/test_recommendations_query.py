"""POST /recommendations/query: ad-hoc rankings over the in-memory candidate matrix."""

from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine

from assets.recommendations.engine import Constraints, rank
from assets.recommendations.frames import load_candidates
from resources.db.tables import BenchmarkResult, MlModel, RecommendationVersion
from serving.recommendations import adhoc
from tests.integration.serving.seed import _model, _result

pytestmark = pytest.mark.integration

URL = "/recommendations/query"
TASK = "adhoc-chat"
OPEN, LLAMA, MIT = "org/open-7b", "org/llama-8b", "org/mit-3b"
T0 = datetime(2025, 7, 1, tzinfo=UTC)
WEIGHTS = {"throughput_per_gpu": 1.0, "latency_p95_ms": 1.0}


def _row(key: str, model: str, gpu: str, throughput: float, itl: float, memory: float | None):
    return _result(
        key, model, T0, task=TASK, gpu=gpu, throughput_per_gpu=throughput, itl_ms_p95=itl,
        itl_ms_p50=itl * 0.8, peak_memory_gb=memory, config={"max_num_seqs": int(throughput)},
    )  # fmt: skip


ROWS = [
    _row("q1", OPEN, "H100", 500.0, 20.0, 30.0),
    _row("q2", LLAMA, "H100", 800.0, 40.0, 60.0),
    _row("q3", OPEN, "B200", 900.0, 10.0, 30.0),
    _row("q4", MIT, "B200", 300.0, 50.0, None),
    _row("q5", LLAMA, "B200", 1200.0, 25.0, 70.0),
]


@pytest.fixture
def catalog(clean_db: Engine) -> Engine:
    models = [_model(OPEN, license="apache-2.0"), _model(LLAMA, license="llama3.1"),
              _model(MIT, license="mit")]  # fmt: skip
    with clean_db.begin() as conn:
        conn.execute(insert(MlModel), models)
        conn.execute(insert(BenchmarkResult), ROWS)
        conn.execute(insert(RecommendationVersion), [{"version": "v1", "active": True}])
    return clean_db


@pytest.fixture
def loads(monkeypatch) -> list[int]:
    """One entry per candidate scan of PostgreSQL."""
    calls: list[int] = []

    def counting(conn):
        calls.append(1)
        return load_candidates(conn)

    monkeypatch.setattr(adhoc, "load_candidates", counting)
    return calls


@pytest.fixture
def client(catalog: Engine, make_client):
    return make_client()


def _expected(engine: Engine, gpus: list[str], **kwargs) -> dict:
    """What rank() itself says over the same frame, enriched as the pipeline does."""
    with engine.connect() as conn:
        frame = load_candidates(conn)
    frame = frame[(frame["task"] == TASK) & frame["gpu"].isin(gpus)]
    body = rank(frame, WEIGHTS, **kwargs)
    configs = dict(zip(frame["result_key"], frame["config"], strict=True))
    for item in body["items"]:
        item["config"] = configs[item["result_key"]]
    return orjson.loads(orjson.dumps({"task": TASK, "gpus": gpus, "weights": WEIGHTS, **body}))


def test_the_ranking_is_rank_over_the_same_frame(client, catalog):
    response = client.post(URL, json={"task": TASK, "weights": WEIGHTS})
    assert response.status_code == 200
    assert response.headers["x-data-version"] == "v1"
    expected = _expected(catalog, ["B200", "H100"], top_k=20, stability_draws=100)
    assert response.json() == expected
    configs = {row["result_key"]: row["config"] for row in ROWS}
    assert [i["config"] for i in response.json()["items"]] == [
        configs[i["result_key"]] for i in expected["items"]
    ]


def test_a_gpu_subset_ranks_only_those_gpus(client, catalog):
    response = client.post(URL, json={"task": TASK, "gpus": ["H100"], "weights": WEIGHTS})
    body = response.json()
    assert body == _expected(catalog, ["H100"], top_k=20, stability_draws=100)
    assert {i["gpu"] for i in body["items"]} == {"H100"}
    assert body["candidates"] == 2


def test_constraints_exclude_and_explain(client, catalog):
    limits = {"max_latency_p95_ms": 30.0, "licenses": ["apache-2.0", "llama3.1"]}
    response = client.post(
        URL, json={"task": TASK, "weights": WEIGHTS, "constraints": limits, "top_k": 2}
    )
    body = response.json()
    constraints = Constraints(max_latency_p95_ms=30.0, licenses=("apache-2.0", "llama3.1"))
    assert body == _expected(
        catalog, ["B200", "H100"], constraints=constraints, top_k=2, stability_draws=100
    )
    assert body["feasible"] == 3 and len(body["items"]) == 2
    latency, licenses = body["excluded"]
    assert (latency["constraint"], latency["removed"]) == ("max_latency_p95_ms", 2)
    assert (licenses["constraint"], licenses["removed"]) == ("licenses", 0)


def test_an_empty_feasible_set_is_explained(client):
    response = client.post(
        URL, json={"task": TASK, "weights": WEIGHTS, "constraints": {"max_memory_gb": 1.0}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["items"] == [] and body["feasible"] == 0 and body["candidates"] == 5
    assert body["excluded"][0]["constraint"] == "max_memory_gb"
    assert body["excluded"][0]["removed"] == 5


def test_unknown_task_and_gpu_are_404s_that_list_the_valid_values(client):
    response = client.post(URL, json={"task": "nope", "weights": WEIGHTS})
    assert response.status_code == 404
    assert response.json()["error"]["detail"]["valid"] == {"tasks": [TASK]}
    assert TASK in response.json()["error"]["message"]
    response = client.post(URL, json={"task": TASK, "gpus": ["H100", "A10"], "weights": WEIGHTS})
    assert response.status_code == 404
    error = response.json()["error"]
    assert "'A10'" in error["message"] and "B200, H100" in error["message"]
    assert error["detail"]["valid"] == {"gpus": ["B200", "H100"]}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"task": TASK, "weights": {"speed": 1.0}}, "unknown criteria ['speed']"),
        ({"task": TASK, "weights": {"quality": 0.0}}, "at least one weight"),
        ({"task": TASK, "weights": {"quality": -1.0}}, "greater than or equal to 0"),
        ({"task": TASK, "weights": WEIGHTS, "top_k": 0}, "top_k"),
        ({"task": TASK, "weights": WEIGHTS, "constraints": {"pricing": "x"}}, "pricing"),
        ({"task": TASK, "weights": WEIGHTS, "profile": "balanced"}, "profile"),
    ],
)
def test_invalid_bodies_are_422s(client, body, says):
    response = client.post(URL, json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert says in error["message"]


def test_malformed_json_is_a_422(client):
    response = client.post(URL, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_candidates_are_loaded_once_and_again_on_a_version_switch(catalog, make_client, loads):
    client = make_client()
    client.app.state.candidates = adhoc.CandidateStore(check_s=0)  # check on every query
    query = {"task": TASK, "weights": WEIGHTS, "stability_draws": 0}
    assert client.post(URL, json=query).status_code == 200
    assert client.post(URL, json=query | {"top_k": 1}).status_code == 200
    assert len(loads) == 1  # the second query only asked for the version

    with catalog.begin() as conn:
        conn.execute(insert(BenchmarkResult), [_row("q6", MIT, "H100", 5000.0, 5.0, 5.0)])
        conn.execute(update(RecommendationVersion).values(active=False))
        conn.execute(insert(RecommendationVersion), [{"version": "v2", "active": True}])
    response = client.post(URL, json=query)
    assert len(loads) == 2
    assert response.headers["x-data-version"] == "v2"
    assert response.json()["items"][0]["result_key"] == "q6"
    client.post(URL, json=query)
    assert len(loads) == 2


def test_the_default_store_does_not_even_ask_for_the_version_on_every_query(
    catalog, make_client, loads
):
    client = make_client()
    query = {"task": TASK, "weights": WEIGHTS, "stability_draws": 0}
    client.post(URL, json=query)
    with catalog.begin() as conn:  # within CHECK_S the switch is not seen yet
        conn.execute(update(RecommendationVersion).values(active=False))
        conn.execute(insert(RecommendationVersion), [{"version": "v2", "active": True}])
    assert client.post(URL, json=query).headers["x-data-version"] == "v1"
    assert len(loads) == 1


def test_only_the_latest_run_of_a_configuration_is_a_candidate(seeded):
    # The seed measured configuration "a" twice (throughput 500, then 400 ten days later).
    with seeded.connect() as conn:
        frame = load_candidates(conn)
    assert frame["result_key"].is_unique
    latest = frame.set_index("result_key").loc["a"]
    assert latest["throughput_per_gpu"] == 400.0
    assert latest["cost_spot_per_million"] == 0.73  # the cost of that run
