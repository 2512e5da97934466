"""Every API endpoint as a `Call` builder, shared by the sync and the async client.

Parameters and their meaning are the API's (see its /docs); filters with many options are
TypedDicts, so both clients take them as typed keyword arguments (`**filters`).
"""

import datetime as dt
from typing import Literal, TypedDict, Unpack
from urllib.parse import quote

from modelcat.sdk import types as t
from modelcat.sdk.core import Call, query


class ModelFilters(TypedDict, total=False):
    task: str
    author: str
    license: str
    source: str | list[str]  # a registry (`hf-hub`, `manifest`, ...), or several
    gated: bool
    updated_since: dt.date | dt.datetime  # changed in its registry at or after (UTC if naive)
    min_params: int
    max_params: int
    q: str
    include_removed: bool
    # Benchmark results: one latest measurement must meet every limit given.
    gpu: str
    max_p95_ms: float
    max_cost_per_mtok: float
    pricing: Literal["spot", "on_demand"]
    measured: bool
    sort: str  # downloads, -downloads (default), likes, -likes, last_modified, id, ...
    limit: int


class TrendingFilters(TypedDict, total=False):
    task: str
    metric: Literal["downloads", "likes"]
    window_days: int
    end: dt.date
    rank_by: Literal["absolute", "relative"]
    min_first_value: int
    limit: int


class TrendFilters(TypedDict, total=False):
    metric: Literal["p95_latency", "throughput", "energy"]
    gpu: str
    task: str
    since: dt.datetime
    until: dt.datetime
    max_points: int


class RegressionFilters(TypedDict, total=False):
    task: str
    gpu: str
    model_id: str
    metric: Literal["p95_latency", "throughput", "energy"]
    threshold_pct: float
    baseline: Literal["previous", "median"]
    window: int
    since: dt.datetime
    limit: int


def _model_path(model_id: str, suffix: str = "") -> str:
    # Ids keep their `/` (the routes take the rest of the path); anything else is escaped.
    return f"/models/{quote(model_id, safe='/')}{suffix}"


def models(
    cursor: str | None = None, offset: int | None = None, **filters: Unpack[ModelFilters]
) -> Call[t.ModelsPage]:
    params = query(**filters, cursor=cursor, offset=offset)
    if isinstance(params.get("source"), list):  # the API takes several as one comma list
        params["source"] = ",".join(params["source"])
    return Call("GET", "/models", t.ModelsPage, params)


def model(model_id: str) -> Call[t.ModelDetail]:
    return Call("GET", _model_path(model_id), t.ModelDetail)


def popularity(
    model_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> Call[t.Popularity]:
    return Call(
        "GET", _model_path(model_id, "/popularity"), t.Popularity, query(start=start, end=end)
    )


def model_benchmarks(
    model_id: str,
    task: str | None = None,
    gpu: str | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> Call[t.Benchmarks]:
    params = query(task=task, gpu=gpu, limit=limit, offset=offset)
    return Call("GET", _model_path(model_id, "/benchmarks"), t.Benchmarks, params)


def gpus() -> Call[t.Gpus]:
    return Call("GET", "/gpus", t.Gpus)


def recommendations(task: str, gpu: str, profile: str = "balanced") -> Call[t.Ranking]:
    return Call("GET", "/recommendations", t.Ranking, query(task=task, gpu=gpu, profile=profile))


def pareto(task: str, gpu: str, x: str, y: str) -> Call[t.Pareto]:
    return Call("GET", "/pareto", t.Pareto, query(task=task, gpu=gpu, x=x, y=y))


def query_recommendations(
    task: str,
    weights: dict[str, float],
    gpus: list[str] | None = None,
    constraints: t.QueryConstraints | None = None,
    top_k: int | None = None,
    stability_draws: int | None = None,
) -> Call[t.QueryRanking]:
    body = query(task=task, weights=weights, gpus=gpus, top_k=top_k,
                 stability_draws=stability_draws)  # fmt: skip
    if constraints is not None:
        body["constraints"] = constraints.model_dump(exclude_none=True)
    # A POST, but a pure read: repeating it is harmless, so it is retried like a GET.
    return Call("POST", "/recommendations/query", t.QueryRanking, json=body)


def trending(**filters: Unpack[TrendingFilters]) -> Call[t.Trending]:
    return Call("GET", "/analytics/popularity/trending", t.Trending, query(**filters))


def metric_trends(model_id: str, **filters: Unpack[TrendFilters]) -> Call[t.MetricTrends]:
    params = query(model_id=model_id, **filters)
    return Call("GET", "/analytics/benchmarks/trends", t.MetricTrends, params)


def regressions(**filters: Unpack[RegressionFilters]) -> Call[t.Regressions]:
    return Call("GET", "/analytics/benchmarks/regressions", t.Regressions, query(**filters))


def request_benchmark(
    model_id: str,
    gpu: str,
    batch_size: int | None = None,
    max_output_tokens: int | None = None,
    note: str | None = None,
) -> Call[t.BenchmarkRequestAccepted]:
    body = query(model_id=model_id, gpu=gpu, batch_size=batch_size,
                 max_output_tokens=max_output_tokens, note=note)  # fmt: skip
    # The server deduplicates the same model, GPU and config while one is queued, but a retry
    # after a lost answer could still queue a second run once the first finished: retried only
    # when the request never reached the server.
    return Call("POST", "/benchmarks/requests", t.BenchmarkRequestAccepted, json=body,
                idempotent=False)  # fmt: skip


def benchmark_request(request_id: str) -> Call[t.BenchmarkRequest]:
    return Call("GET", f"/benchmarks/requests/{quote(request_id, safe='')}", t.BenchmarkRequest)


def health() -> Call[t.Health]:
    return Call("GET", "/health", t.Health, authenticated=False)


def ready() -> Call[t.Ready]:
    # 503 is an answer here (neither store can serve), not a failure to retry.
    return Call("GET", "/health/ready", t.Ready, authenticated=False, accept=frozenset({503}))
