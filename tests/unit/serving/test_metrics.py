import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from serving import metrics

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD = ROOT / "deploy" / "grafana" / "model-catalog.json"
REQUESTS = "catalog_http_request_duration_seconds"


def sample(name: str, **labels: str) -> float:
    """The current value of one series (0 when it does not exist yet): metrics are process-wide,
    so tests compare before and after."""
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def no_data_version():
    metrics.set_data_version(None, None)
    yield
    metrics.set_data_version(None, None)


def test_a_request_lands_in_its_route_method_status_and_bucket():
    labels = {"route": "/models/{model_id:path}", "method": "GET", "status": "404"}
    ok = {**labels, "status": "200"}
    count, fast, faster, ok_count = (
        sample(f"{REQUESTS}_count", **labels),
        sample(f"{REQUESTS}_bucket", **labels, le="0.001"),
        sample(f"{REQUESTS}_bucket", **labels, le="0.0005"),
        sample(f"{REQUESTS}_count", **ok),
    )
    metrics.observe_request("/models/{model_id:path}", "GET", 404, 0.0007)
    assert sample(f"{REQUESTS}_count", **labels) == count + 1
    assert sample(f"{REQUESTS}_bucket", **labels, le="0.001") == fast + 1
    assert sample(f"{REQUESTS}_bucket", **labels, le="0.0005") == faster
    assert sample(f"{REQUESTS}_count", **ok) == ok_count  # another status: another series


def test_made_up_methods_share_one_series():
    other = {"route": "/gpus", "method": "OTHER", "status": "405"}
    before = sample(f"{REQUESTS}_count", **other)
    metrics.observe_request("/gpus", "BREW", 405, 0.001)
    metrics.observe_request("/gpus", "WHEN", 405, 0.001)
    assert sample(f"{REQUESTS}_count", **other) == before + 2
    assert sample(f"{REQUESTS}_count", route="/gpus", method="BREW", status="405") == 0


def test_route_template_is_the_template_never_the_path():
    app = FastAPI()

    @app.get("/models/{model_id:path}")
    async def model(model_id: str) -> dict:
        return {"id": model_id}

    async def hot(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hot")

    app.add_route("/gpus/{gpu_id}/hot", hot)  # a plain Starlette route, as hot paths are
    seen: list[tuple[str, int]] = []

    async def front(scope, receive, send):
        async def capture(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        status: list[int] = []
        await app(scope, receive, capture)
        seen.append((metrics.route_template(scope), status[0]))

    client = TestClient(front)
    client.get("/models/org/name")
    client.get("/gpus/h100/hot")
    client.get("/no/such/thing")
    client.post("/models/org/name")
    assert seen == [
        ("/models/{model_id:path}", 200),
        ("/gpus/{gpu_id}/hot", 200),
        (metrics.UNMATCHED, 404),
        ("/models/{model_id:path}", 405),
    ]


@pytest.mark.parametrize(
    ("record", "name", "labels"),
    [
        (lambda: metrics.cache("memory", True), "catalog_cache_requests_total",
         {"layer": "memory", "result": "hit"}),
        (lambda: metrics.cache("redis", False), "catalog_cache_requests_total",
         {"layer": "redis", "result": "miss"}),
        (lambda: metrics.rate_limited("api_key"), "catalog_rate_limited_total",
         {"client_kind": "api_key"}),
        (lambda: metrics.dependency_error("postgres"), "catalog_dependency_errors_total",
         {"dependency": "postgres"}),
        (lambda: metrics.auth_failure("expired"), "catalog_auth_failures_total",
         {"reason": "expired"}),
    ],
    ids=["cache-hit", "cache-miss", "rate-limited", "dependency-error", "auth-failure"],
)  # fmt: skip
def test_counters_move(record, name, labels):
    before = sample(name, **labels)
    record()
    record()
    assert sample(name, **labels) == before + 2


def test_cache_layers_are_a_closed_set():
    with pytest.raises(KeyError):
        metrics.cache("disk", True)  # a typo must fail loudly, not mint a new series


def test_the_data_version_is_one_series_that_switches(no_data_version):
    def versions() -> dict[str, float]:
        families = text_string_to_metric_families(metrics.render()[0].decode())
        info = next(f for f in families if f.name == "catalog_data_version_info")
        return {s.labels["version"]: s.value for s in info.samples}

    assert versions() == {}
    assert metrics.REGISTRY.get_sample_value("catalog_data_version_age_seconds") is None
    metrics.set_data_version("v1", time.time() - 100)
    assert versions() == {"v1": 1}
    assert metrics.REGISTRY.get_sample_value("catalog_data_version_age_seconds") >= 100
    metrics.set_data_version("v2", None)
    assert versions() == {"v2": 1}
    assert metrics.REGISTRY.get_sample_value("catalog_data_version_age_seconds") is None


def test_render_and_the_metrics_endpoint_speak_the_prometheus_text_format():
    metrics.observe_request("/health", "GET", 200, 0.002)
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain; version=")
    names = {s.name for f in text_string_to_metric_families(body.decode()) for s in f.samples}
    assert {f"{REQUESTS}_bucket", "catalog_cache_requests_total"} <= names

    app = FastAPI()
    app.include_router(metrics.router)
    response = TestClient(app).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert f"{REQUESTS}_count" in response.text
    operation = app.openapi()["paths"]["/metrics"]["get"]
    assert operation["tags"] == ["health"]
    assert list(operation["responses"]["200"]["content"]) == [content_type]


EXPOSITION = """\
# HELP catalog_cache_requests_total Cache lookups.
# TYPE catalog_cache_requests_total counter
catalog_cache_requests_total{layer="response",result="hit"} 3.0
catalog_cache_requests_total{layer="response",result="miss"} 1.0
catalog_cache_requests_total{layer="redis",result="hit"} 0.0
catalog_cache_requests_total{layer="redis",result="miss"} 2.0
catalog_cache_requests_total{layer="memory",result="hit"} 0.0
catalog_cache_requests_total{layer="memory",result="miss"} 0.0
# HELP catalog_cache_requests_created Cache lookups.
# TYPE catalog_cache_requests_created gauge
catalog_cache_requests_created{layer="response",result="hit"} 1.7e9
# HELP catalog_rate_limited_total Requests rejected.
# TYPE catalog_rate_limited_total counter
catalog_rate_limited_total{client_kind="client"} 50.0
"""


def test_hit_ratio_reads_an_exposition():
    counts = metrics.cache_counts(EXPOSITION)
    assert metrics.hit_ratio(counts) == 0.5
    assert metrics.hit_ratio(counts, "response") == 0.75
    assert metrics.hit_ratio(counts, "redis") == 0.0
    assert metrics.hit_ratio(counts, "memory") is None
    assert metrics.hit_ratio(metrics.cache_counts("")) is None


def test_hit_ratio_reads_our_own_render():
    metrics.cache("response", True)
    ratio = metrics.hit_ratio(metrics.cache_counts(metrics.render()[0].decode()), "response")
    assert ratio is not None and 0 < ratio <= 1


def _exposed() -> dict[str, set[str]]:
    """Every sample name /metrics exposes, with its label names, once each series exists."""
    metrics.observe_request("/health", "GET", 200, 0.001)
    metrics.auth_failure("expired")
    metrics.set_data_version("v-dashboard", time.time())
    try:
        text = metrics.render()[0].decode()
    finally:
        metrics.set_data_version(None, None)
    exposed: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            exposed.setdefault(s.name, set()).update(s.labels)
    return exposed


def _exprs(dashboard: dict) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_the_dashboard_queries_only_metrics_and_labels_we_export():
    dashboard = json.loads(DASHBOARD.read_text())
    exposed = _exposed()
    assert dashboard["schemaVersion"] >= 36 and dashboard["uid"]
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["DS_PROMETHEUS"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    used: set[str] = set()
    for expr in _exprs(dashboard):
        names = set(re.findall(r"\b(catalog_\w+)", expr))
        assert names, f"no catalog metric in {expr!r}"
        assert names <= exposed.keys(), f"unknown metric in {expr!r}"
        used |= names
        known = set().union(*(exposed[n] for n in names))
        grouped = {
            label.strip()
            for group in re.findall(r"\bby \(([^)]*)\)", expr)
            for label in group.split(",")
        }
        matched = set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)\s*\"", expr))
        assert grouped | matched <= known, f"unknown label in {expr!r}"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
    families = {re.sub(r"_(bucket|count|sum|total|created)$", "", n) for n in exposed}
    unused = {f for f in families if f.startswith("catalog_")} - {
        re.sub(r"_(bucket|count|sum|total)$", "", n) for n in used
    }
    assert not unused, f"metrics missing from the dashboard: {unused}"


WRITE = """
from serving import metrics
metrics.cache("redis", True)
metrics.observe_request("/gpus", "GET", 200, 0.001)
"""
READ = """
import sys
from serving import metrics
metrics.set_data_version("v9", None)
body, _ = metrics.render()
sys.stdout.write(body.decode())
"""


def test_multiprocess_mode_merges_every_worker(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}

    def run(code: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    run(WRITE)
    run(WRITE)  # a second worker: another pid, another set of files
    text = run(READ)
    assert len(list(tmp_path.glob("counter_*.db"))) == 3
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }
    hits = ("catalog_cache_requests_total", (("layer", "redis"), ("result", "hit")))
    gpus = (f"{REQUESTS}_count", (("method", "GET"), ("route", "/gpus"), ("status", "200")))
    assert values[hits] == 2
    assert values[gpus] == 2
    assert metrics.hit_ratio(metrics.cache_counts(text), "redis") == 1.0
    assert values[("catalog_data_version_info", (("version", "v9"),))] == 1
