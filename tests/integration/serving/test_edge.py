"""The edge in front of FastAPI: whole responses per version, ETags, auth before the cache."""

import hashlib
import time

import pytest
import redis

from resources.cache import data_key
from tests.integration.serving.seed import RANKING

pytestmark = pytest.mark.integration

URL = "/recommendations?task=lm-arena-chat&gpu=H100"
PARTS = ("rec", "lm-arena-chat", "H100", "balanced")
KEY = "reader-" + "k" * 40
KEYS = {
    "reader": {"key_sha256": hashlib.sha256(KEY.encode()).hexdigest(), "scopes": ["catalog:read"]}
}


@pytest.fixture
def body() -> bytes:
    import orjson

    return orjson.dumps(RANKING)


def test_a_second_read_never_leaves_the_edge(seeded, make_client, publish, redis_url, body):
    publish("v1", {PARTS: body})
    client = make_client()
    first = client.get(URL)
    assert first.status_code == 200 and first.content == body
    # Take the bytes away from every store below the edge: only the edge can still answer.
    redis.Redis.from_url(redis_url).delete(data_key("v1", *PARTS))
    client.app.state.cache._lru.clear()
    with seeded.begin() as conn:
        conn.exec_driver_sql("TRUNCATE recommendations CASCADE")
    second = client.get(URL)
    assert second.status_code == 200
    assert second.content == body
    assert second.headers["x-data-version"] == "v1"
    assert second.headers["etag"] == first.headers["etag"]
    # A different query string is a different answer: it is not served from the edge.
    assert client.get(URL + "&profile=balanced").status_code == 404


def test_versioned_answers_carry_freshness_headers(seeded, make_client, publish, body):
    publish("v1", {PARTS: body})
    client = make_client()
    for _ in range(2):  # through FastAPI, then from the edge
        response = client.get(URL)
        assert response.headers["cache-control"] == "public, max-age=30"
        assert 0 <= int(response.headers["x-data-age"]) < 60
    live = client.get("/gpus")  # rendered from the tables: no version, revalidate each time
    assert live.headers["cache-control"] == "no-cache"
    assert "x-data-version" not in live.headers


def test_if_none_match_answers_304_without_a_body(seeded, make_client, publish, body):
    publish("v1", {PARTS: body})
    client = make_client()
    etag = client.get(URL).headers["etag"]
    for _ in range(2):
        response = client.get(URL, headers={"If-None-Match": etag})
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["x-data-version"] == "v1"
    assert client.get(URL, headers={"If-None-Match": 'W/"v0"'}).status_code == 200
    # A live answer's content ETag works the same way (first time through FastAPI).
    tag = client.get("/gpus").headers["etag"]
    assert client.get("/gpus", headers={"If-None-Match": tag}).status_code == 304


def test_head_sends_the_headers_only(seeded, make_client, publish, body):
    publish("v1", {PARTS: body})
    client = make_client()
    client.get(URL)
    response = client.head(URL)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["x-data-version"] == "v1"


def test_a_new_version_replaces_the_edge_copies(seeded, make_client, publish, body):
    publish("v1", {PARTS: body})
    client = make_client()
    assert client.get(URL).headers["x-data-version"] == "v1"
    client.get(URL)  # now held by the edge
    changed = body.replace(b"lm-arena-chat", b"lm-arena-chat", 1) + b" "
    publish("v2", {PARTS: changed})
    deadline = time.monotonic() + 5
    while client.get(URL).headers["x-data-version"] != "v2":  # the watcher hears of v2
        assert time.monotonic() < deadline, "the edge kept serving v1"
        time.sleep(0.05)
    assert client.get(URL).content == changed


def test_closed_reads_are_checked_before_the_edge_answers(
    seeded, make_client, publish, api_settings, body
):
    publish("v1", {PARTS: body})
    client = make_client(settings=api_settings(open_reads=False, api_keys=KEYS))
    allowed = client.get(URL, headers={"X-API-Key": KEY})
    assert allowed.status_code == 200
    assert allowed.headers["cache-control"] == "private, max-age=30"
    # The bytes are in the edge now; a caller without credentials still gets none of them.
    anonymous = client.get(URL)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"
    assert b"lm-arena-chat" not in anonymous.content
    wrong = client.get(URL, headers={"X-API-Key": "not-a-key-" + "x" * 30})
    assert wrong.status_code == 401
    # Probes and the OpenAPI document stay open.
    assert client.get("/health/live").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_metrics_count_edge_hits_and_misses(seeded, make_client, publish, body):
    publish("v1", {PARTS: body})
    client = make_client()

    def counts() -> tuple[float, float]:
        text = client.get("/metrics").text
        values = {}
        for line in text.splitlines():
            if line.startswith('catalog_cache_requests_total{layer="response"'):
                result = "hit" if 'result="hit"' in line else "miss"
                values[result] = float(line.rsplit(" ", 1)[1])
        return values.get("hit", 0.0), values.get("miss", 0.0)

    hits, misses = counts()
    for _ in range(3):
        client.get(URL)
    after_hits, after_misses = counts()
    assert (after_hits - hits, after_misses - misses) == (2, 1)
    assert 'route="/recommendations"' in client.get("/metrics").text


def test_clients_that_accept_gzip_get_the_compressed_copy(seeded, make_client, publish):
    big = b'{"items": [' + b'{"model": "a/b", "score": 0.5},' * 200 + b"{}]}"
    publish("v1", {PARTS: big})
    client = make_client()
    client.get(URL)  # through FastAPI; now held by the edge
    packed = client.get(URL, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "accept-encoding"
    assert packed.content == big  # httpx decodes it
    assert int(packed.headers["content-length"]) < len(big) / 5
    plain = client.get(URL, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == big
