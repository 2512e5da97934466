"""The API against its own OpenAPI document (schemathesis), and explicit input hardening.

Schemathesis generates requests from the document (its examples, the boundaries and negative
values of every parameter, then random ones) and checks each response: never a 5xx, only
documented status codes, content types and headers, bodies that match their schema;
schema-valid requests are accepted (a 2xx, or the 400/404 a well-formed request may still earn:
inconsistent parameters, unknown ids) and schema-violating ones refused. It runs in-process
against the real app on the seeded PostgreSQL and a published Redis version, with reads closed
and an admin API key on every request, so each protected route is exercised past its 401.

The tests below it pin what the fuzzing found (and what it cannot reach, such as lone
surrogates), then sweep hostile values through every string parameter the document declares.
"""

import hashlib
import json
import time
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi as schemathesis_asgi
from starlette.types import Receive, Scope, Send

from assets.recommendations.criteria import CRITERIA
from assets.serving_cache.entries import cache_entries
from resources.cache import RedisResource
from resources.settings import Settings
from serving.app import create_app
from serving.schemas import NO_NUL
from serving.security import ADMIN
from tests.integration.serving.conftest import TEST_JWT_SECRET
from tests.integration.serving.seed import ODD, QWEN, UNICODE

pytestmark = pytest.mark.integration

API_KEY = "fuzz-admin-key"
AUTH = {"X-API-Key": API_KEY}


def _settings() -> Settings:
    """Reads closed (as in the services mode) and one admin key; no rate limits."""
    key = {"key_sha256": hashlib.sha256(API_KEY.encode()).hexdigest(), "scopes": [ADMIN]}
    return Settings(
        database_url=None,
        redis_url=None,
        jwt_secret=TEST_JWT_SECRET,
        open_reads=False,
        api_keys={"fuzz": key},
        rate_limit_per_s=0,
        rate_limit_anonymous_per_s=0,
    )


class AppSlot:
    """The app under test, plugged in per test.

    Schemathesis needs the app when the module is collected, before the per-test database and
    Redis exist; it starts the lifespan of this stable object once per test (see `fuzz_app`).
    Its lazy loader (`schemathesis.pytest.from_fixture`) would avoid this, but it fails on
    pytest 9.2, which no longer has the `Function._nodeid` it rewrites.
    """

    app: FastAPI | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "the fuzz_app fixture plugs the app in"
        await self.app(scope, receive, send)


SLOT = AppSlot()
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20250601,  # for schemathesis' own choices; Hypothesis is derandomized below
        "base-url": "http://testserver",
        "generation": {
            "max-examples": 100,
            "deterministic": True,  # the same cases on every run: CI stays stable
            "database": "none",
            "with-security-parameters": False,  # the key above, not generated credentials
        },
        # A well-formed request may still be inconsistent (start after end: 400) or name an
        # unknown model (404); a 422 for one means the document hides a constraint.
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", 400, 404]}},
    }
)
# The document does not depend on the stores: an app built without them serves it.
schema = schemathesis.openapi.from_dict(create_app(settings=_settings()).openapi(), config=CONFIG)
schema.app = SLOT


@pytest.fixture
def fuzz_app(seeded, database_url: str, redis_url: str) -> Iterator[FastAPI]:
    """The app on the seeded catalog, with the pipeline's cache entries published in Redis."""
    with seeded.connect() as conn:
        version, entries = cache_entries(conn)
    resource = RedisResource(url=redis_url)
    resource.publish_version(version, entries, at=time.time())
    resource.client.close()
    SLOT.app = create_app(database_url, redis_url, _settings())
    yield SLOT.app
    schemathesis_asgi.shutdown_lifespans()  # schemathesis keeps lifespans until told otherwise
    SLOT.app = None


@schema.parametrize()
# The app is built once per operation, not per example: no request changes what others read.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_api_conforms_to_its_openapi(case, fuzz_app):
    # Sent as explicit credentials: `ignored_auth` then also replays each operation without
    # the key and with a wrong one, and expects 401/403.
    response = case.call_and_validate(headers=AUTH)
    if case.operation.path != "/auth/token":  # its 401 answers generated client credentials
        assert response.status_code not in (401, 403), "the admin key must open every route"


class LinkedCalls(schema.as_state_machine()):
    """Sequences whose later calls use what earlier answers returned (schemathesis infers the
    links: model ids from GET /models feed the model page, its popularity and trends)."""

    def get_call_kwargs(self, case):
        return {"headers": AUTH}


def test_linked_calls_conform_too(fuzz_app):
    LinkedCalls.run(
        settings=settings(
            max_examples=30,
            stateful_step_count=6,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
    )


# --- Explicit cases -------------------------------------------------------------------------


@pytest.fixture
def api(seeded, make_client) -> TestClient:
    client = make_client(settings=_settings())
    client.headers.update(AUTH)
    return client


def assert_error(response, status: int, code: str, says: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert says in error["message"], error["message"]
    return error


# Each of these answered 500 before: PostgreSQL text cannot hold NUL, and the driver raised.
@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/models?task=a%00b", "query parameter 'task'"),
        ("/models?author=%00", "query parameter 'author'"),
        ("/models?license=%00", "query parameter 'license'"),
        ("/models?q=%00", "query parameter 'q'"),
        ("/models/a%00b", "path parameter 'model_id'"),
        ("/models/a%00b/popularity", "path parameter 'model_id'"),
        ("/models/a%00b/benchmarks", "path parameter 'model_id'"),
        ("/models/x/benchmarks?task=%00", "query parameter 'task'"),
        ("/models/x/benchmarks?gpu=%00", "query parameter 'gpu'"),
        ("/recommendations?task=%00&gpu=H100", "query parameter 'task'"),
        ("/recommendations?task=a&gpu=H100&profile=%00", "query parameter 'profile'"),
        ("/pareto?task=a&gpu=%00&x=a&y=b", "query parameter 'gpu'"),
        ("/pareto?task=a&gpu=b&x=%00&y=b", "query parameter 'x'"),
    ],
)
def test_nul_in_a_parameter_is_a_422_that_says_so(api, url, parameter):
    assert_error(api.get(url), 422, "invalid_request", f"{parameter}: must not contain NUL")


def test_an_offset_beyond_a_bigint_is_a_422(api):
    # Was a 500: PostgreSQL's OFFSET is a bigint.
    response = api.get("/models/x/benchmarks", params={"offset": 2**63})
    assert_error(response, 422, "invalid_request", "query parameter 'offset'")


def test_an_integer_beyond_64_bits_in_a_body_is_echoed_in_the_422(api):
    # Was a 500: orjson cannot write the echoed input, so the error body itself failed.
    body = {"model_id": QWEN, "gpu": "H100", "batch_size": 10**30}
    error = assert_error(
        api.post("/benchmarks/requests", json=body), 422, "invalid_request", "'batch_size'"
    )
    assert error["detail"][0]["input"] == 10**30


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/benchmarks/requests", {"model_id": QWEN, "gpu": "H100", "note": "\ud800"}, "'note'"),
        ("/benchmarks/requests", {"model_id": "a\udfff", "gpu": "H100"}, "'model_id'"),
        ("/recommendations/query", {"task": "t\ud800", "weights": {"quality": 1}}, "'task'"),
        (
            "/recommendations/query",
            {"task": "lm-arena-chat", "gpus": ["\ud800"], "weights": {"quality": 1}},
            "'gpus.0'",
        ),
    ],
)
def test_a_lone_surrogate_in_a_body_is_a_422(api, url, body, field):
    # Was a 500 (Redis, orjson and PostgreSQL all refuse it). Python's encoder writes the
    # `\ud800` escape that JSON allows; httpx's json= would refuse to send it at all.
    response = api.post(
        url, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    assert_error(response, 422, "invalid_request", field)


# Pydantic also reads numbers as Unix time: these answered 200 about 1970 before.
@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/analytics/popularity/trending?end=0", "query parameter 'end'"),
        ("/analytics/popularity/trending?end=1717200000", "query parameter 'end'"),
        ("/analytics/benchmarks/regressions?since=0.5", "query parameter 'since'"),
        (f"/analytics/benchmarks/trends?model_id={QWEN}&until=0", "query parameter 'until'"),
        (f"/models/{QWEN}/popularity?start=20250101", "query parameter 'start'"),
    ],
)
def test_dates_are_iso_8601_only(api, url, parameter):
    assert_error(api.get(url), 422, "invalid_request", f"{parameter}: Value error, must be")


def test_iso_dates_still_work(api):
    response = api.get(f"/models/{QWEN}/popularity", params={"start": "2025-01-01"})
    assert response.status_code == 200, response.text
    since = {"since": "2025-01-01T00:00:00+02:00", "model_id": QWEN}
    assert api.get("/analytics/benchmarks/trends", params=since).status_code == 200
    assert api.get("/analytics/benchmarks/regressions?since=2025-01-01").status_code == 200


def test_the_weights_schema_names_the_criteria():
    """Was a 422 for a schema-valid body: the document allowed any criterion name."""
    weights = schema.raw_schema["components"]["schemas"]["RankingQuery"]["properties"]["weights"]
    assert weights["propertyNames"] == {"enum": sorted(CRITERIA)}
    positive = {"required": ["quality"], "properties": {"quality": {"exclusiveMinimum": 0}}}
    assert positive in weights["anyOf"]  # one weight at least above 0


# --- Malformed bodies and wrong media types, on both JSON routes ----------------------------

JSON_ROUTES = ["/recommendations/query", "/benchmarks/requests"]
JSON = "application/json"


@pytest.mark.parametrize("url", JSON_ROUTES)
@pytest.mark.parametrize(
    ("content", "status", "code", "says"),
    [
        (b"{not json", 422, "invalid_request", "the body is not valid JSON"),
        (b'{"task": ', 422, "invalid_request", "the body is not valid JSON"),
        (b"", 422, "invalid_request", "the request needs a JSON body"),
        (b"[]", 422, "invalid_request", "valid dictionary"),
        (b"null", 422, "invalid_request", "valid dictionary"),
        # Was an undocumented 400 saying only "There was an error parsing the body".
        ('{"task": "é"}'.encode("latin-1"), 400, "bad_request", "it is not valid UTF-8"),
        (b"\x80\x81", 400, "bad_request", "it is not valid UTF-8"),
        (b"[" * 100_000, 400, "bad_request", "it is nested too deeply"),
        (b'{"top_k": ' + b"9" * 5000 + b"}", 400, "bad_request", "too many digits"),
    ],
)
def test_malformed_json_bodies_are_4xx_with_a_clear_message(api, url, content, status, code, says):
    response = api.post(url, content=content, headers={"content-type": JSON})
    assert_error(response, status, code, says)


@pytest.mark.parametrize("url", JSON_ROUTES)
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_body_that_is_not_json_is_a_415(api, url, content_type):
    # Was a 422 saying "Input should be a valid dictionary or object to extract fields from".
    body = b'{"task": "lm-arena-chat", "weights": {"quality": 1}}'
    response = api.post(url, content=body, headers={"content-type": content_type})
    error = assert_error(response, 415, "unsupported_media_type", "must be JSON")
    assert error["detail"] == {"content_type": content_type}


def test_a_json_subtype_is_json(api):
    body = b'{"task": "lm-arena-chat", "weights": {"quality": 1}, "stability_draws": 0}'
    headers = {"content-type": "application/vnd.catalog+json; charset=utf-8"}
    assert api.post("/recommendations/query", content=body, headers=headers).status_code == 200


# --- Ids, filters and numbers a client may send ---------------------------------------------

SQL = "' OR 1=1 --"


@pytest.mark.parametrize(
    "model_id",
    ["a/b/c/d", "Ünïcode/unknown-日本", "x" * 10_000, SQL, "a//b", "%", "\\", "a?b#c"],
)
@pytest.mark.parametrize("suffix", ["", "/popularity", "/benchmarks"])
def test_unknown_model_ids_are_404s_naming_them(api, model_id, suffix):
    response = api.get("/models/" + quote(model_id, safe="/") + suffix)
    error = assert_error(response, 404, "not_found", "is not in the catalog")
    assert error["detail"] == {"model_id": model_id}


def test_a_unicode_id_with_a_slash_is_found(api):
    response = api.get("/models/" + quote(UNICODE, safe="/"))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == UNICODE


FILTERED = {"task": "pipeline_tag", "author": "author", "license": "license"}


@pytest.mark.parametrize("name", ["task", "author", "license", "q"])
@pytest.mark.parametrize("value", [SQL, "%", "_", "\\", "a'; DROP TABLE models; --"])
def test_sql_metacharacters_in_filters_are_literal(api, name, value):
    """Bound parameters and escaped LIKE patterns: a value matches itself, nothing breaks."""
    everything = api.get("/models").json()["count"]
    response = api.get("/models", params={name: value})
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    if name == "q":
        assert all(value.lower() in row["id"].lower() for row in rows)
    else:
        assert all(row[FILTERED[name]] == value for row in rows)
    assert len(rows) < everything  # no `OR 1=1`
    assert api.get("/models").json()["count"] == everything  # and the table is still there


def test_like_metacharacters_match_only_themselves(api):
    ids = [row["id"] for row in api.get("/models", params={"q": "0%_s"}).json()["data"]]
    assert ids == [ODD]


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/models?limit=99999999999999999999999999", "'limit'"),
        ("/models?limit=0", "'limit'"),
        ("/models?offset=-1", "'offset'"),
        ("/models?min_params=-1", "'min_params'"),
        ("/models/x/benchmarks?offset=-5", "'offset'"),
        ("/models/x/benchmarks?limit=501", "'limit'"),
        ("/analytics/popularity/trending?limit=1e3", "'limit'"),
        ("/analytics/popularity/trending?window_days=99999999999999999999", "'window_days'"),
        ("/analytics/benchmarks/regressions?threshold_pct=nan", "'threshold_pct'"),
        ("/models?q=" + "x" * 10_000, "'q'"),
        ("/recommendations?task=" + "x" * 10_000 + "&gpu=H100", "'task'"),
    ],
)
def test_out_of_range_numbers_and_long_values_are_422s(api, url, parameter):
    assert_error(api.get(url), 422, "invalid_request", f"query parameter {parameter}")


def test_an_offset_past_the_maximum_is_a_400_pointing_to_cursors(api):
    assert_error(api.get("/models?offset=10001"), 400, "bad_request", "page with `cursor`")


# --- Every string parameter of the document, with hostile values ----------------------------

HOSTILE = {
    "nul": "a\x00b",
    "long": "x" * 10_000,
    "unicode": "Ünïcode/модель-日本 🚀\u202e",
    "sql": SQL,
    "slashes": "a/b/../c//d",
    "like": "%_\\",
    "control": "\x01\x1f\x7f",
}
# Valid values for the parameters an operation requires, so the one under test is what fails.
REQUIRED = {
    "task": "lm-arena-chat",
    "gpu": "H100",
    "x": "cost_spot_per_million",
    "y": "latency_p95_ms",
    "model_id": QWEN,
    "request_id": "0" * 32,
}


def _is_string(parameter_schema: dict) -> bool:
    options = parameter_schema.get("anyOf", [parameter_schema])
    return any(option.get("type") == "string" and "format" not in option for option in options)


def _string_parameters() -> list[tuple[str, str]]:
    """(path template, name) of every plain string parameter of every GET."""
    found = []
    for path, operations in schema.raw_schema["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if _is_string(parameter["schema"]):
                found.append((path, parameter["name"]))
    return found


def _refuses_nul(path: str, name: str) -> bool:
    """Whether the document gives the parameter the no-NUL pattern (what reaches PostgreSQL)."""
    for parameter in schema.raw_schema["paths"][path]["get"]["parameters"]:
        if parameter["name"] == name:
            options = parameter["schema"].get("anyOf", [parameter["schema"]])
            return any(option.get("pattern") == NO_NUL for option in options)
    raise LookupError(name)


def _url(path: str, name: str, value: str) -> str:
    """`path` with `name` set to `value`, and valid values for the other required parameters."""
    parameters = schema.raw_schema["paths"][path]["get"]["parameters"]
    values = {p["name"]: REQUIRED[p["name"]] for p in parameters if p.get("required")}
    query = {}
    for key, text in (values | {name: value}).items():
        if "{" + key + "}" in path:
            path = path.replace("{" + key + "}", quote(text, safe="/"))
        else:
            query[key] = text
    return path + ("?" + urlencode(query, quote_via=quote) if query else "")


@pytest.mark.parametrize(("path", "name"), _string_parameters())
def test_every_string_parameter_takes_hostile_values_without_a_5xx(api, path, name):
    for label, value in HOSTILE.items():
        response = api.get(_url(path, name, value))
        assert response.status_code < 500, (label, response.text)
        assert response.headers["content-type"] == "application/json", label
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["code"] and error["message"], (label, error)
        if label == "nul" and _refuses_nul(path, name):
            assert response.status_code == 422, (label, response.text)
            assert "must not contain NUL" in response.json()["error"]["message"]


def test_the_sweep_covers_the_string_parameters():
    """The sweep above reads the document: losing the parameters would pass it vacuously."""
    swept = set(_string_parameters())
    assert ("/models/{model_id}", "model_id") in swept
    assert ("/models", "q") in swept
    assert ("/pareto", "x") in swept
    assert ("/analytics/benchmarks/trends", "model_id") in swept
    assert len(swept) >= 20
    assert _refuses_nul("/models/{model_id}", "model_id")
    assert _refuses_nul("/models", "task")
