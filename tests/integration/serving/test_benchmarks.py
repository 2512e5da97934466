"""GET /models/{id}/benchmarks: rows with provenance and cost."""

import pytest

from tests.integration.serving.seed import GHOST, LLAMA, QWEN

pytestmark = pytest.mark.integration


def test_all_results_of_a_model_with_provenance_and_cost(client):
    body = client.get(f"/models/{QWEN}/benchmarks").json()
    assert body["count"] == 4
    rows = body["data"]
    assert [(r["task"], r["gpu"], r["result_key"]) for r in rows] == [
        ("gpqa", "B200", "c"),
        ("lm-arena-chat", "H100", "a"),  # newest measurement first
        ("lm-arena-chat", "H100", "a"),
        ("lm-arena-chat", "H100", "b"),
    ]
    newest_a = rows[1]
    assert newest_a["provenance"] == {
        "source": "mlenergy-v3",
        "engine": "vllm",
        "engine_version": "0.10",
        "harness_version": "1",
        "model_revision": "abc",
        "measured_at": "2025-06-11T00:00:00Z",
        "metric_definitions": {"itl": "pooled gaps"},
    }
    assert newest_a["cost"]["usd_per_million_on_demand"] == 2.08
    assert newest_a["cost"]["price_window_end"] == "2025-11-20T12:00:00Z"
    # The cost belongs to one measurement: the older run of "a" has none.
    assert rows[2]["cost"] is None
    assert rows[2]["throughput_per_gpu"] == 500.0


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"task": "gpqa"}, 1),
        ({"gpu": "H100"}, 3),
        ({"task": "gpqa", "gpu": "H100"}, 0),
        ({"limit": 1, "offset": 1}, 4),
    ],
)
def test_filters_and_paging(client, params, count):
    response = client.get(f"/models/{QWEN}/benchmarks", params=params)
    assert response.status_code == 200
    assert response.json()["count"] == count
    assert len(response.json()["data"]) == min(count, params.get("limit", 100))


def test_model_known_only_to_benchmarks_or_without_results(client):
    assert client.get(f"/models/{GHOST}/benchmarks").json()["count"] == 1
    assert client.get(f"/models/{LLAMA}/benchmarks").json() == {"data": [], "count": 0}


def test_unknown_model_is_404(client):
    response = client.get("/models/nobody/nothing/benchmarks")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_bad_limit_is_422(client):
    response = client.get(f"/models/{QWEN}/benchmarks", params={"limit": 0})
    assert response.status_code == 422
    assert "query parameter 'limit'" in response.json()["error"]["message"]
