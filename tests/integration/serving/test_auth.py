"""Auth and rate limits through the real app: tokens, API keys, scopes, 401/403/429.

The app runs with reads closed (as in the services mode) and a client, a reader API key and
small rate limits where a test needs them; Redis and PostgreSQL are the real ones.
"""

import base64
import hashlib

import pytest

from serving.security import ADMIN, READ

pytestmark = pytest.mark.integration


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


CLIENTS = {
    "ci-bot": {"secret_sha256": sha("ci-secret"), "scopes": [READ]},
    "ops": {"secret_sha256": sha("ops-secret"), "scopes": [ADMIN]},
}
KEYS = {"dashboards": {"key_sha256": sha("dash-key"), "scopes": [READ]}}


@pytest.fixture
def closed(seeded, make_client, api_settings):
    settings = api_settings(open_reads=False, oauth_clients=CLIENTS, api_keys=KEYS)
    return make_client(settings=settings)


def token(client, client_id: str, secret: str) -> str:
    """A token obtained with HTTP Basic client authentication."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = client.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_closed_reads_need_credentials_but_health_and_docs_do_not(closed):
    response = closed.get("/gpus")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"
    assert closed.get("/health").status_code == 200
    assert closed.get("/openapi.json").status_code == 200


def test_a_client_credentials_token_reads_the_catalog(closed):
    form = {"grant_type": "client_credentials", "client_id": "ci-bot", "client_secret": "ci-secret"}
    issued = closed.post("/auth/token", data=form)
    assert issued.status_code == 200, issued.text
    assert issued.headers["cache-control"] == "no-store"
    bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    assert closed.get("/gpus", headers=bearer).status_code == 200


def test_the_token_endpoint_takes_http_basic(closed):
    bearer = {"Authorization": f"Bearer {token(closed, 'ci-bot', 'ci-secret')}"}
    assert closed.get("/gpus", headers=bearer).status_code == 200


def test_bad_credentials_are_401_with_the_reason(closed):
    wrong = closed.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": "ci-bot", "client_secret": "x"},
    )
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "invalid_client")
    bad = closed.get("/gpus", headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401 and "token" in bad.json()["error"]["message"]
    key = closed.get("/gpus", headers={"X-API-Key": "not-a-key"})
    assert key.status_code == 401 and key.json()["error"]["message"] == "unknown API key"


def test_an_api_key_reads_but_may_not_request_benchmarks(closed):
    reader = {"X-API-Key": "dash-key"}
    assert closed.get("/gpus", headers=reader).status_code == 200
    response = closed.post("/benchmarks/requests", headers=reader, json={})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "insufficient_scope" and "benchmarks:request" in error["message"]


def test_anonymous_callers_are_limited_per_ip_with_retry_after(seeded, make_client, api_settings):
    settings = api_settings(rate_limit_anonymous_per_s=0.5, rate_limit_anonymous_burst=3)
    client = make_client(settings=settings)
    statuses = [client.get("/gpus").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/gpus")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 2  # one request per 2 s comes back


def test_identified_clients_have_their_own_limit(seeded, make_client, api_settings):
    settings = api_settings(
        oauth_clients=CLIENTS,
        rate_limit_per_s=0.5,
        rate_limit_burst=2,
        rate_limit_anonymous_per_s=0.5,
        rate_limit_anonymous_burst=1,
    )
    client = make_client(settings=settings)
    bearer = {"Authorization": f"Bearer {token(client, 'ci-bot', 'ci-secret')}"}  # anonymous 1
    assert client.get("/gpus").status_code == 429  # the anonymous (per IP) burst is spent
    assert [client.get("/gpus", headers=bearer).status_code for _ in range(3)] == [200, 200, 429]


def test_openapi_documents_both_schemes_and_the_read_scope(closed):
    spec = closed.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["OAuth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/auth/token"
    assert schemes["APIKey"]["name"] == "X-API-Key"
    assert {"OAuth2": [READ]} in spec["paths"]["/gpus"]["get"]["security"]
    assert "/auth/token" in spec["paths"]
