"""GET /models, /models/{id}, /models/{id}/popularity against real PostgreSQL and Redis."""

from urllib.parse import quote

import pytest
from sqlalchemy import inspect, select

from resources.db.tables import MlModel
from tests.integration.serving.seed import GHOST, LLAMA, MINILM, ODD, QWEN, REMOVED, UNICODE

pytestmark = pytest.mark.integration


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["data"]]


def test_list_defaults_to_most_downloaded_first_and_hides_removed(client):
    body = client.get("/models").json()
    assert [m["id"] for m in body["data"]] == [MINILM, LLAMA, QWEN, UNICODE, ODD]
    assert body["count"] == 5
    assert "extra" not in body["data"][0]


def test_include_removed(client):
    body = client.get("/models", params={"include_removed": "true"}).json()
    assert body["count"] == 6
    assert body["data"][0]["id"] == REMOVED
    assert body["data"][0]["removed_at"] == "2025-06-01T00:00:00Z"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"task": "text-generation"}, [LLAMA, QWEN, UNICODE]),
        ({"author": "Qwen"}, [QWEN]),
        ({"license": "apache-2.0"}, [MINILM, QWEN]),
        ({"min_params": 8_000_000_000}, [LLAMA, QWEN]),
        ({"max_params": 8_000_000_000}, [MINILM, LLAMA]),
        ({"min_params": 1_000_000, "max_params": 10_000_000_000}, [MINILM, LLAMA]),
        ({"task": "text-generation", "license": "mit"}, [UNICODE]),
        ({"q": "qwen"}, [QWEN]),
        ({"q": "МОДЕЛЬ"}, [UNICODE]),
        ({"task": "no-such-task"}, []),
    ],
)
def test_filters(client, params, expected):
    response = client.get("/models", params=params)
    assert ids(response) == expected
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("%", [ODD]),  # a literal percent sign, not "anything"
        ("_", [ODD]),  # a literal underscore, not "any one character"
        ("100%_", [ODD]),
        ("1_0", []),
        ("\\", []),
        ("'; drop table models; --", []),
    ],
)
def test_q_is_a_literal_substring(client, seeded, q, expected):
    assert ids(client.get("/models", params={"q": q})) == expected
    assert inspect(seeded).has_table("models")
    assert client.get("/models").json()["count"] == 5


def by_id(engine, *model_ids: str) -> list[str]:
    """The ids in the database's own id order (its collation decides where `Ü` goes)."""
    with engine.connect() as conn:
        query = select(MlModel.id).where(MlModel.id.in_(model_ids)).order_by(MlModel.id)
        return list(conn.scalars(query))


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("downloads", [ODD, UNICODE, QWEN, LLAMA, MINILM]),
        ("-downloads", [MINILM, LLAMA, QWEN, UNICODE, ODD]),
        ("-likes", [LLAMA, QWEN, ODD, UNICODE, MINILM]),  # missing likes sort last
        ("likes", [UNICODE, ODD, QWEN, LLAMA, MINILM]),
    ],
)
def test_sort(client, sort, expected):
    assert ids(client.get("/models", params={"sort": sort})) == expected


def test_sort_by_id_and_ties_broken_by_id(client, seeded):
    everyone = by_id(seeded, MINILM, LLAMA, QWEN, UNICODE, ODD)
    assert ids(client.get("/models", params={"sort": "id"})) == everyone
    assert ids(client.get("/models", params={"sort": "-id"})) == everyone[::-1]
    # Three models have no last_modified: they come last, in id order.
    newest_first = ids(client.get("/models", params={"sort": "-last_modified"}))
    assert newest_first == [QWEN, LLAMA, *by_id(seeded, MINILM, ODD, UNICODE)]
    oldest_first = ids(client.get("/models", params={"sort": "last_modified"}))
    assert oldest_first == [LLAMA, QWEN, *by_id(seeded, MINILM, ODD, UNICODE)]


def test_pagination_keeps_the_total(client):
    everything = ids(client.get("/models", params={"sort": "id"}))
    pages = [
        client.get("/models", params={"sort": "id", "limit": 2, "offset": offset}).json()
        for offset in (0, 2, 4, 6)
    ]
    assert [p["count"] for p in pages] == [5, 5, 5, 5]
    assert [m["id"] for p in pages for m in p["data"]] == everything
    assert pages[-1]["data"] == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 10000}, "limit"),
        ({"offset": -1}, "offset"),
        ({"min_params": "abc"}, "min_params"),
        ({"max_params": -5}, "max_params"),
        ({"sort": "popularity"}, "sort"),
        ({"include_removed": "perhaps"}, "include_removed"),
    ],
)
def test_invalid_parameters_are_422_naming_the_parameter(client, params, parameter):
    response = client.get("/models", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(f"query parameter '{parameter}': ")
    assert error["detail"][0]["loc"] == ["query", parameter]


def test_min_above_max_is_400(client):
    response = client.get("/models", params={"min_params": 10, "max_params": 1})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert "min_params" in response.json()["error"]["message"]


def test_model_page_has_metadata_and_a_summary_per_task_and_gpu(client):
    response = client.get(f"/models/{QWEN}")
    assert response.status_code == 200
    page = response.json()
    assert page["id"] == QWEN
    assert page["extra"] == {"note": QWEN}
    summary = {(s["task"], s["gpu"]): s for s in page["benchmarks_summary"]}
    assert set(summary) == {("lm-arena-chat", "H100"), ("gpqa", "B200")}
    h100 = summary["lm-arena-chat", "H100"]
    # "a" was re-measured: its newest numbers (400 tok/s, 25 ms) replace the old (500, 20).
    assert h100["configurations"] == 2
    assert h100["best_throughput_per_gpu"] == 600.0
    assert (h100["itl_ms_p95_min"], h100["itl_ms_p95_max"]) == (25.0, 30.0)
    assert h100["last_measured_at"] == "2025-06-11T00:00:00Z"
    assert response.headers["etag"]


def test_unicode_and_removed_model_pages(client):
    unicode_page = client.get("/models/" + quote(UNICODE))
    assert unicode_page.status_code == 200
    assert unicode_page.json()["id"] == UNICODE
    assert unicode_page.json()["benchmarks_summary"] == []
    assert client.get("/models/" + quote(ODD)).json()["id"] == ODD
    assert client.get(f"/models/{REMOVED}").json()["removed_at"] is not None


def test_unknown_model_is_404_with_the_error_body(client):
    response = client.get("/models/nobody/nothing")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": "model 'nobody/nothing' is not in the catalog",
            "detail": {"model_id": "nobody/nothing"},
        }
    }
    # Known to the benchmarks but not to the registry: no page to show.
    assert client.get(f"/models/{GHOST}").status_code == 404


def test_sub_resources_are_not_swallowed_by_the_path_parameter(client):
    benchmarks = client.get(f"/models/{QWEN}/benchmarks")
    popularity = client.get(f"/models/{QWEN}/popularity")
    assert benchmarks.status_code == popularity.status_code == 200
    assert {r["model_id"] for r in benchmarks.json()["data"]} == {QWEN}
    assert popularity.json()["model_id"] == QWEN
    assert client.get(f"/models/{QWEN}").json()["id"] == QWEN


def test_popularity_is_ordered_by_date_and_filtered(client):
    points = client.get(f"/models/{QWEN}/popularity").json()["points"]
    assert [p["date"] for p in points] == ["2025-05-01", "2025-05-02", "2025-05-03"]
    assert points[0] == {"date": "2025-05-01", "downloads": 100, "likes": 1, "trending_rank": 9}
    window = client.get(
        f"/models/{QWEN}/popularity", params={"start": "2025-05-02", "end": "2025-05-02"}
    )
    assert [p["date"] for p in window.json()["points"]] == ["2025-05-02"]


def test_popularity_errors(client):
    assert client.get(f"/models/{LLAMA}/popularity").json()["points"] == []  # known, no data
    assert client.get("/models/nobody/nothing/popularity").status_code == 404
    reversed_range = client.get(
        f"/models/{QWEN}/popularity", params={"start": "2025-05-03", "end": "2025-05-01"}
    )
    assert reversed_range.status_code == 400
    bad_date = client.get(f"/models/{QWEN}/popularity", params={"start": "yesterday"})
    assert bad_date.status_code == 422
    assert "query parameter 'start'" in bad_date.json()["error"]["message"]
