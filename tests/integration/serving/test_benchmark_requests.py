"""POST/GET /benchmarks/requests against real PostgreSQL and Redis, with the sensor's side."""

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from resources import benchmark_queue as queue
from serving import cache, errors
from serving.benchmarks.requests import router
from serving.db import Database, serving_engine
from tests.integration.serving.seed import GHOST, QWEN, REMOVED

pytestmark = pytest.mark.integration


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def make_api(seeded: Engine, database_url: str, redis_url: str) -> Iterator[Callable]:
    """The router on its own app, whose lifespan sets `app.state.redis` as create_app's will."""
    engine = serving_engine(database_url)
    clients: list[TestClient] = []

    def make(cache_url: str = redis_url, principal: str | None = None) -> TestClient:
        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            app.state.database = Database(engine)
            app.state.redis = cache.connect(cache_url, timeout_s=1.0)
            yield
            await app.state.redis.aclose()

        app = FastAPI(lifespan=lifespan)
        errors.install(app)
        app.include_router(router)
        if principal is not None:  # stands in for the auth dependency

            @app.middleware("http")
            async def authenticate(request, call_next):
                request.state.principal = SimpleNamespace(subject=principal)
                return await call_next(request)

        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    engine.dispose()


@pytest.fixture
def sensor(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    queue.ensure_group(client)
    yield client
    client.close()


def test_request_is_queued_claimed_and_reported(make_api, sensor):
    api = make_api(principal="team-a")
    response = api.post(
        "/benchmarks/requests",
        json={"model_id": QWEN, "gpu": "h100 sxm5 80gb", "batch_size": 8, "note": "for the blog"},
    )
    assert response.status_code == 202, response.text
    body = response.json()
    link = f"/benchmarks/requests/{body['id']}"
    assert response.headers["Location"] == link
    assert body["links"] == {"self": link}
    assert (body["status"], body["gpu"], body["config"]) == ("queued", "H100", {"batch_size": 8})
    assert (body["requested_by"], body["note"]) == ("team-a", "for the blog")
    assert body["deduplicated"] is False

    [claimed] = queue.claim_batch(sensor, "sensor-1")
    assert (claimed.id, claimed.model_id, claimed.gpu) == (body["id"], QWEN, "H100")
    queue.set_status(sensor, claimed.id, "running")
    assert api.get(link).json()["status"] == "running"
    queue.set_status(sensor, claimed.id, "succeeded")
    queue.ack(sensor, claimed.entry_id)

    done = api.get(link).json()
    assert done["status"] == "succeeded"
    assert done["queued_at"] <= done["started_at"] <= done["finished_at"]
    assert done["error"] is None


def test_same_request_while_queued_returns_the_same_id(make_api, sensor):
    api = make_api()
    request = {"model_id": QWEN, "gpu": "H100", "max_output_tokens": 256}
    first = api.post("/benchmarks/requests", json=request).json()
    again = api.post("/benchmarks/requests", json=request | {"gpu": "H100 SXM5 80GB"})
    assert again.status_code == 202
    assert (again.json()["id"], again.json()["deduplicated"]) == (first["id"], True)
    assert first["requested_by"] == "anonymous"
    other = api.post("/benchmarks/requests", json=request | {"max_output_tokens": 512}).json()
    assert other["id"] != first["id"]
    assert len(queue.claim_batch(sensor, "sensor-1")) == 2


@pytest.mark.parametrize("model", ["nobody/nothing", REMOVED, GHOST])
def test_model_must_be_in_the_catalog(make_api, model):
    response = make_api().post("/benchmarks/requests", json={"model_id": model, "gpu": "H100"})
    assert response.status_code == 404
    assert model in response.json()["error"]["message"]


def test_unknown_gpu_lists_the_known_ones(make_api):
    response = make_api().post("/benchmarks/requests", json={"model_id": QWEN, "gpu": "TPUv9"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert "B200, H100" in error["message"]
    assert error["detail"] == {"gpu": "TPUv9", "known": ["B200", "H100"]}


@pytest.mark.parametrize(
    "body",
    [
        {"gpu": "H100"},
        {"model_id": "", "gpu": "H100"},
        {"model_id": "a b", "gpu": "H100"},
        {"model_id": "a\x00b", "gpu": "H100"},
        {"model_id": "x" * 513, "gpu": "H100"},
        {"model_id": QWEN, "gpu": "H100", "batch_size": 0},
        {"model_id": QWEN, "gpu": "H100", "max_output_tokens": 10**9},
        {"model_id": QWEN, "gpu": "H100", "batchsize": 8},  # misspelt: refused, not dropped
        {"model_id": QWEN, "gpu": "H100", "note": "n" * 501},
    ],
)
def test_bad_body_is_422(make_api, body):
    response = make_api().post("/benchmarks/requests", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_unknown_or_malformed_request_id(make_api):
    api = make_api()
    response = api.get("/benchmarks/requests/" + "0" * 32)
    assert response.status_code == 404
    assert "0" * 32 in response.json()["error"]["message"]
    assert api.get("/benchmarks/requests/not-an-id").status_code == 422


def test_redis_down_is_503(make_api):
    api = make_api(cache_url=_closed_port_url())
    response = api.post("/benchmarks/requests", json={"model_id": QWEN, "gpu": "H100"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "unavailable"
    assert api.get("/benchmarks/requests/" + "0" * 32).status_code == 503
