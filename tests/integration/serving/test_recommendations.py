"""GET /recommendations and /pareto: stored payloads, Redis first, helpful 404s."""

import orjson
import pytest
from sqlalchemy import update

from resources.db.tables import RecommendationVersion
from tests.integration.serving.seed import PARETO, PARETO_KEY, RANKING

pytestmark = pytest.mark.integration

RANKING_URL = "/recommendations?task=lm-arena-chat&gpu=H100"
PARETO_URL = "/pareto?task=lm-arena-chat&gpu=H100&x=cost_spot_per_million&y=latency_p95_ms"


def test_ranking_of_the_active_version_from_postgresql(client):
    response = client.get(RANKING_URL)  # profile defaults to balanced
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == RANKING  # v1's payload, not the inactive v0's
    assert response.headers["x-data-version"] == "v1"
    assert response.headers["etag"] == 'W/"v1"'
    assert client.get(RANKING_URL + "&profile=balanced").content == response.content


def test_pareto_from_postgresql(client):
    response = client.get(PARETO_URL)
    assert response.status_code == 200
    assert response.json() == PARETO
    assert response.headers["x-data-version"] == "v1"


def test_redis_wins_and_its_bytes_are_served_as_they_are(seeded, make_client, publish):
    ranking = b'{"items": [],   "from": "redis"}'  # odd spacing: a re-serialisation would show
    pareto = b'{"from":"redis-pareto"}'
    publish(
        "v2",
        {
            ("rec", "lm-arena-chat", "H100", "balanced"): ranking,
            ("pareto", "lm-arena-chat", "H100", *PARETO_KEY.split(":")): pareto,
        },
    )
    client = make_client()
    response = client.get(RANKING_URL)
    assert response.content == ranking
    assert response.headers["x-data-version"] == "v2"
    assert response.headers["etag"] == 'W/"v2"'
    assert client.get(PARETO_URL).content == pareto


def test_a_key_missing_from_redis_falls_back_to_postgresql(seeded, make_client, publish):
    publish("v1", {("rec", "other", "H100", "balanced"): b"{}"})
    assert make_client().get(RANKING_URL).json() == RANKING


def test_unknown_task_lists_the_valid_values_from_postgresql(client):
    response = client.get("/recommendations?task=nope&gpu=H100")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert "unknown task 'nope' (valid: lm-arena-chat)" in error["message"]
    assert error["detail"]["version"] == "v1"
    # Only the active version's values: v0's "old-profile" is not offered.
    assert error["detail"]["valid"] == {
        "tasks": ["lm-arena-chat"],
        "gpus": ["H100"],
        "profiles": ["balanced"],
    }
    assert client.get(RANKING_URL + "&profile=old-profile").status_code == 404


def test_unknown_axis_lists_the_axes(client):
    response = client.get("/pareto?task=lm-arena-chat&gpu=H100&x=latency_p95_ms&y=energy")
    assert response.status_code == 404
    error = response.json()["error"]
    assert "unknown y 'energy'" in error["message"]
    assert error["detail"]["valid"]["axes"] == ["cost_spot_per_million", "latency_p95_ms"]


def test_the_404_prefers_the_published_index(seeded, make_client, publish):
    index = {"tasks": ["gpqa", "lm-arena-chat"], "gpus": ["B200", "H100"],
             "profiles": ["balanced"], "axes": ["cost"]}  # fmt: skip
    publish("v1", {("index",): orjson.dumps(index)})
    response = make_client().get("/recommendations?task=gpqa&gpu=H100")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["message"].endswith("each value exists, but not this combination")
    assert error["detail"]["valid"]["tasks"] == ["gpqa", "lm-arena-chat"]


def test_an_index_without_the_lists_is_ignored(seeded, make_client, publish):
    publish("v1", {("index",): b'{"recommendations_version": "v1"}'})
    response = make_client().get("/recommendations?task=nope&gpu=H100")
    assert response.json()["error"]["detail"]["valid"]["tasks"] == ["lm-arena-chat"]


def test_a_gpu_is_checked_against_the_gpus_of_its_task(seeded, make_client, publish):
    index = {"tasks": ["chat", "code"], "gpus": ["B200", "H100"], "profiles": ["balanced"],
             "axes": [], "gpus_by_task": {"chat": ["H100"], "code": ["B200"]}}  # fmt: skip
    publish("v1", {("index",): orjson.dumps(index)})
    response = make_client().get("/recommendations?task=chat&gpu=B200")
    error = response.json()["error"]
    assert "unknown gpu 'B200' (valid: H100)" in error["message"]
    assert error["detail"]["valid"]["gpus"] == ["H100"]


def test_nothing_published_yet(client, seeded):
    with seeded.begin() as conn:
        conn.execute(update(RecommendationVersion).values(active=False))
    response = client.get(RANKING_URL)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "no recommendations have been published yet"


def test_same_axis_twice_is_400(client):
    response = client.get("/pareto?task=lm-arena-chat&gpu=H100&x=cost&y=cost")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "x and y must be two different axes (both are 'cost')"
    )


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/recommendations?gpu=H100", "task"),
        ("/recommendations?task=lm-arena-chat", "gpu"),
        ("/recommendations?task=lm-arena-chat&gpu=H100&profile=", "profile"),
        ("/pareto?task=lm-arena-chat&gpu=H100&x=cost", "y"),
    ],
)
def test_missing_parameters_are_422(client, url, parameter):
    response = client.get(url)
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith(f"query parameter '{parameter}'")
