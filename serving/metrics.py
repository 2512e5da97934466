"""Prometheus metrics for the API: what the hot path records and what `GET /metrics` exposes.

Metrics live on this module's own `REGISTRY`, not prometheus_client's global one, so several apps
built in one test process share one set of series instead of failing on duplicate names.

The recording functions sit on the hot path, so label children are bound once and kept in dicts:
a dict lookup costs far less than `.labels()` (string conversion, validation and a lock per call).
The small, fixed label sets are bound at import, which also exports them at 0 from the start, so
`rate()` sees the first increment.

Multi-process servers (granian or uvicorn with several workers): set `PROMETHEUS_MULTIPROC_DIR`
to an empty, writable directory before the server starts (and wipe it on each start). Every
worker then writes its values to files there and `render()` merges all workers' files, whichever
worker answers the scrape. The data version series are the exception: they describe the
answering worker, because a removed label series cannot be removed from those files.
"""

import os
import time
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.responses import PlainTextResponse, Response
from starlette.types import Scope

REGISTRY = CollectorRegistry()

# prometheus_client's own switch, read by the library itself at import to choose file-backed
# values; following the same variable keeps both decisions in step (not a CATALOG_ setting).
_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")

UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CACHE_LAYERS = ("response", "memory", "redis")
CLIENT_KINDS = ("client", "api_key", "anonymous")
DEPENDENCIES = ("redis", "postgres")

REQUEST_DURATION = Histogram(
    "catalog_http_request_duration_seconds",
    "Time from request to the end of the response, by route template, method and status.",
    ["route", "method", "status"],
    # Cached reads answer in well under a millisecond; 2.5 s is already a broken request.
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)
CACHE_REQUESTS = Counter(
    "catalog_cache_requests",
    "Cache lookups by layer and result; hit ratio = hit / (hit + miss).",
    ["layer", "result"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "catalog_rate_limited",
    "Requests rejected with 429, by kind of client.",
    ["client_kind"],
    registry=REGISTRY,
)
DEPENDENCY_ERRORS = Counter(
    "catalog_dependency_errors",
    "Failed calls to a backing store (the API fell back or degraded).",
    ["dependency"],
    registry=REGISTRY,
)
AUTH_FAILURES = Counter(
    "catalog_auth_failures",
    "Requests refused by authentication, by reason.",
    ["reason"],
    registry=REGISTRY,
)

_requests: dict[tuple[str, str, int], Any] = {}
_cache = {
    (layer, hit): CACHE_REQUESTS.labels(layer, "hit" if hit else "miss")
    for layer in CACHE_LAYERS
    for hit in (True, False)
}
_rate_limited = {kind: RATE_LIMITED.labels(kind) for kind in CLIENT_KINDS}
_dependency_errors = {dep: DEPENDENCY_ERRORS.labels(dep) for dep in DEPENDENCIES}
_auth_failures: dict[str, Any] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Record one request. `route` must be a template (see `route_template`), never a raw path."""
    if method not in _METHODS:
        method = "OTHER"  # any token is a valid method: do not let clients mint series
    key = (route, method, status)
    child = _requests.get(key)
    if child is None:
        child = _requests[key] = REQUEST_DURATION.labels(route, method, str(status))
    child.observe(seconds)


def cache(layer: str, hit: bool) -> None:
    _cache[layer, hit].inc()


def rate_limited(kind: str) -> None:
    _rate_limited[kind].inc()


def dependency_error(dependency: str) -> None:
    _dependency_errors[dependency].inc()


def auth_failure(reason: str) -> None:
    """`reason` must come from a fixed vocabulary (e.g. "expired"), never from the request."""
    child = _auth_failures.get(reason)
    if child is None:
        child = _auth_failures[reason] = AUTH_FAILURES.labels(reason)
    child.inc()


_endpoint_paths: dict[Any, str] = {}


def route_template(scope: Scope) -> str:
    """The template of the route that handled `scope` (read after the app has run), or UNMATCHED.

    FastAPI leaves its route in `scope["route"]`; a plain Starlette route added with
    `app.add_route` leaves only its endpoint, so that is looked up among the router's routes.
    """
    route = scope.get("route")
    if route is not None:
        return route.path
    endpoint = scope.get("endpoint")
    if endpoint is None:
        return UNMATCHED
    path = _endpoint_paths.get(endpoint)
    if path is None:
        router = scope.get("router")
        routes = router.routes if router is not None else ()
        paths = [r.path for r in routes if getattr(r, "endpoint", None) is endpoint]
        path = _endpoint_paths[endpoint] = paths[0] if paths else UNMATCHED
    return path


class _DataVersionCollector:
    """The data version this process serves, and its age computed at scrape time."""

    def __init__(self) -> None:
        # One tuple, swapped whole: a scrape never pairs a new version with the old age.
        self.served: tuple[str | None, float | None] = (None, None)

    def collect(self) -> Iterable[Metric]:
        info = GaugeMetricFamily(
            "catalog_data_version_info",
            "The data version served (one series, value 1).",
            labels=["version"],
        )
        age = GaugeMetricFamily(
            "catalog_data_version_age_seconds", "Seconds since the served version was published."
        )
        version, published_at = self.served
        if version is not None:
            info.add_metric([version], 1)
        if published_at is not None:
            age.add_metric([], time.time() - published_at)
        return [info, age]

    def describe(self) -> Iterable[Metric]:
        """Lets the registry see the names (and refuse duplicates) at registration."""
        return self.collect()


_data_version = _DataVersionCollector()
REGISTRY.register(_data_version)


def set_data_version(version: str | None, published_at: float | None) -> None:
    """Switch the served version; `published_at` is a Unix timestamp (None when unknown)."""
    _data_version.served = (version, published_at if version is not None else None)


def _exposition_registry() -> CollectorRegistry:
    if _MULTIPROC_DIR is None:
        return REGISTRY
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged, path=_MULTIPROC_DIR)
    merged.register(_data_version)
    return merged


_EXPOSED = _exposition_registry()


def render() -> tuple[bytes, str]:
    """The exposition text of every metric (all workers in multi-process mode), content type."""
    return generate_latest(_EXPOSED), CONTENT_TYPE_LATEST


def cache_counts(text: str) -> dict[tuple[str, str], float]:
    """`catalog_cache_requests_total` in an exposition `text`, as (layer, result) -> count."""
    counts: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "catalog_cache_requests":
            continue
        for sample in family.samples:
            if sample.name == "catalog_cache_requests_total":
                key = (sample.labels["layer"], sample.labels["result"])
                counts[key] = counts.get(key, 0.0) + sample.value
    return counts


def hit_ratio(counts: dict[tuple[str, str], float], layer: str | None = None) -> float | None:
    """hit / (hit + miss) over `cache_counts` (or a difference of two), for one layer or all of
    them; None when there was no lookup."""
    hits = sum(v for (lay, result), v in counts.items() if result == "hit" and layer in (None, lay))
    lookups = sum(v for (lay, _), v in counts.items() if layer in (None, lay))
    return hits / lookups if lookups else None


class PrometheusResponse(PlainTextResponse):
    media_type = CONTENT_TYPE_LATEST


router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PrometheusResponse,
    include_in_schema=True,
)
async def metrics() -> Response:
    body, content_type = render()
    return Response(body, media_type=content_type)
