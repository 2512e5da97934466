"""GET /health, the OpenAPI document, and errors outside the routes."""

import pytest

pytestmark = pytest.mark.integration


def test_health_ok_with_the_version_from_postgresql_then_redis(client, publish):
    assert client.get("/health").json() == {
        "status": "ok",
        "database": True,
        "redis": True,
        "version": "v1",  # nothing in Redis yet: the active version in PostgreSQL
    }
    publish("v7", {("gpus",): b"{}"})
    assert client.get("/health").json()["version"] == "v7"


def test_openapi_documents_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    operations = {path: op for path, ops in spec["paths"].items() for op in ops.values()}
    assert set(operations) == {
        "/health",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/auth/token",
        "/analytics/popularity/trending",
        "/analytics/benchmarks/trends",
        "/analytics/benchmarks/regressions",
        "/benchmarks/plan",
        "/benchmarks/requests",
        "/benchmarks/requests/{request_id}",
        "/models",
        "/models/{model_id}",
        "/models/{model_id}/benchmarks",
        "/models/{model_id}/popularity",
        "/gpus",
        "/recommendations",
        "/pareto",
        "/recommendations/query",
        "/recommendations/choices",
    }
    for path, op in operations.items():
        assert op["summary"] and op["tags"], path
        success = op["responses"].get("200") or op["responses"]["202"]
        assert path == "/metrics" or "$ref" in str(success), path

    def ref(path: str, status: str) -> str:
        return operations[path]["responses"][status]["content"]["application/json"]["schema"][
            "$ref"
        ]

    assert ref("/recommendations", "200").endswith("/RankingPublic")
    assert ref("/pareto", "200").endswith("/ParetoPublic")
    assert ref("/recommendations/query", "200").endswith("/RankingQueryPublic")
    assert ref("/models/{model_id}", "200").endswith("/ModelPage")
    assert ref("/models/{model_id}", "404").endswith("/ErrorResponse")
    assert ref("/models", "422").endswith("/ErrorResponse")
    sort = next(p for p in operations["/models"]["parameters"] if p["name"] == "sort")
    assert "-downloads" in str(spec["components"]["schemas"]["Sort"]["enum"]), sort


def test_unknown_route_and_method_use_the_error_body(client):
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "no route for /nowhere",
        "detail": None,
    }
    wrong_method = client.post("/gpus")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_a_bug_is_a_500_in_the_error_shape(client, monkeypatch):
    from serving.gpus import pages

    def broken(conn, window_days):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(pages, "gpus_page", broken)
    response = client.get("/gpus")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "internal server error", "detail": None}
    }
