"""POST /auth/token and `require(scope)` on a tiny app: parsing, errors, OpenAPI."""

import base64
import hashlib
from typing import Annotated

import pytest
from fastapi import FastAPI, Security
from fastapi.testclient import TestClient

from resources.settings import Settings
from serving import errors
from serving.security import (
    ADMIN,
    READ,
    REQUEST_BENCHMARKS,
    Authenticator,
    Principal,
    require,
)
from serving.security.router import router

CI = {"client_id": "ci-bot", "client_secret": "ci-secret"}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_app(**overrides) -> FastAPI:
    settings = Settings(
        database_url=None,
        redis_url=None,
        jwt_secret="unit-test-jwt-secret-" + "s" * 32,
        oauth_clients={
            "ci-bot": {"secret_sha256": sha("ci-secret"), "scopes": [READ]},
            "ops": {"secret_sha256": sha("ops:secret"), "scopes": [ADMIN]},
        },
        api_keys={"dashboards": {"key_sha256": sha("dash-key"), "scopes": [READ]}},
        **overrides,
    )
    app = FastAPI()
    errors.install(app)
    app.state.authenticator = Authenticator(settings)
    app.include_router(router)

    @app.get("/things", dependencies=[Security(require(READ))])
    async def things() -> dict:
        return {"things": []}

    @app.post("/runs")
    async def runs(who: Annotated[Principal, Security(require(REQUEST_BENCHMARKS))]) -> dict:
        return {"by": who.subject}

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app(open_reads=False), raise_server_exceptions=False)


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def error(response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


def test_client_credentials_in_the_form_give_a_bearer_token(client):
    response = client.post("/auth/token", data={"grant_type": "client_credentials", **CI})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer" and body["scope"] == READ
    assert body["expires_in"] == 3600
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/things", headers=bearer).json() == {"things": []}


def test_http_basic_works_with_urlencoded_credentials_and_narrowed_scope(client):
    # RFC 6749 §2.3.1: id and secret are form-encoded before base64 (':' becomes %3A).
    response = client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "scope": REQUEST_BENCHMARKS},
        headers=basic("ops", "ops%3Asecret"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == REQUEST_BENCHMARKS
    bearer = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert client.post("/runs", headers=bearer).json() == {"by": "ops"}
    # Narrowed: the token no longer carries admin, so it cannot read.
    assert client.get("/things", headers=bearer).status_code == 403


@pytest.mark.parametrize(
    ("data", "headers", "status", "code", "says"),
    [
        ({**CI}, {}, 400, "invalid_request", "grant_type is required"),
        ({"grant_type": "password", **CI}, {}, 400, "unsupported_grant_type", "'password'"),
        ({"grant_type": "client_credentials"}, {}, 401, "invalid_client", "credentials required"),
        (
            {"grant_type": "client_credentials", "client_id": "ci-bot"},
            {},
            401,
            "invalid_client",
            "credentials required",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "ci-bot", "client_secret": "no"},
            {},
            401,
            "invalid_client",
            "wrong client secret",
        ),
        (
            {"grant_type": "client_credentials", **CI},
            basic("ci-bot", "ci-secret"),
            400,
            "invalid_request",
            "not both",
        ),
        (
            {"grant_type": "client_credentials"},
            {"Authorization": "Basic !!!"},
            401,
            "invalid_client",
            "malformed",
        ),
        (
            {"grant_type": "client_credentials"},
            {"Authorization": "Bearer abc"},
            401,
            "invalid_client",
            "HTTP Basic, not 'Bearer'",
        ),
        (
            {"grant_type": "client_credentials", "scope": ADMIN, **CI},
            {},
            400,
            "invalid_scope",
            "may not request: admin",
        ),
        (
            {"grant_type": "client_credentials", "scope": "everything", **CI},
            {},
            400,
            "invalid_scope",
            "unknown scope(s): everything",
        ),
    ],
)
def test_token_request_errors(client, data, headers, status, code, says):
    response = client.post("/auth/token", data=data, headers=headers)
    got_status, got_code, message = error(response)
    assert (got_status, got_code) == (status, code), response.text
    assert says in message
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic")


def test_a_json_body_is_an_invalid_request_not_a_500(client):
    response = client.post("/auth/token", json={"grant_type": "client_credentials", **CI})
    assert error(response)[:2] == (400, "invalid_request")


def test_protected_route_answers_401_403_and_accepts_api_keys(client):
    status, code, message = error(client.get("/things"))
    assert (status, code) == (401, "unauthorized") and "catalog:read" in message
    assert client.get("/things").headers["www-authenticate"] == "Bearer"
    assert client.get("/things", headers={"X-API-Key": "dash-key"}).status_code == 200
    status, code, message = error(client.post("/runs", headers={"X-API-Key": "dash-key"}))
    assert (status, code) == (403, "insufficient_scope") and "benchmarks:request" in message
    assert error(client.get("/things", headers={"X-API-Key": "nope"}))[:2] == (
        401,
        "unauthorized",
    )
    expired = client.get("/things", headers={"Authorization": "Bearer x.y.z"})
    assert error(expired)[:2] == (401, "unauthorized")


def test_open_reads_let_anonymous_callers_read_but_never_write():
    client = TestClient(make_app(open_reads=True), raise_server_exceptions=False)
    assert client.get("/things").status_code == 200
    assert error(client.post("/runs"))[:2] == (401, "unauthorized")


def test_a_principal_set_by_a_front_layer_is_reused():
    app = make_app(open_reads=False)
    front = Principal("front", "client", frozenset({REQUEST_BENCHMARKS}))

    async def front_layer(scope, receive, send):  # what the lead's ASGI layer will do
        scope.setdefault("state", {})["principal"] = front
        await app(scope, receive, send)

    client = TestClient(front_layer, raise_server_exceptions=False)
    # No credentials at all: the layer's Principal is used, not re-derived (which would be 401).
    assert client.post("/runs").json() == {"by": "front"}


def test_openapi_shows_both_security_schemes_with_the_route_scopes(client):
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    flow = schemes["OAuth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/auth/token"
    assert set(flow["scopes"]) == {READ, REQUEST_BENCHMARKS, ADMIN}
    assert schemes["APIKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A static API key",
    }
    assert {"OAuth2": [READ]} in spec["paths"]["/things"]["get"]["security"]
    assert {"APIKey": []} in spec["paths"]["/runs"]["post"]["security"]
    token_op = spec["paths"]["/auth/token"]["post"]
    assert "application/x-www-form-urlencoded" in token_op["requestBody"]["content"]
