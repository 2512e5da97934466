"""GET /analytics/...: popularity growth, benchmark metrics over time, and regressions.

Read from the live tables (not the published cache): these are exploratory questions whose
parameters vary too much for precomputed answers.
"""

import datetime as dt
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Query

from serving import errors
from serving.analytics import repository
from serving.analytics.schemas import (
    ConfigurationTrend,
    MetricTrendsPublic,
    RegressionPublic,
    RegressionsPublic,
    TrendingModel,
    TrendingPublic,
)
from serving.analytics.trends import Baseline, Metric, change_pct, find_regressions
from serving.deps import DatabaseDep
from serving.errors import BadRequest, NotFound
from serving.models import repository as models
from serving.schemas import NO_NUL, Instant, IsoDate

router = APIRouter(prefix="/analytics", tags=["analytics"])


Task = Annotated[
    str | None, Query(max_length=128, pattern=NO_NUL, description="Task, e.g. lm-arena-chat")
]
GpuName = Annotated[
    str | None, Query(max_length=64, pattern=NO_NUL, description="Canonical GPU name, e.g. H100")
]
Since = Annotated[Instant | None, Query(description="Runs at or after (UTC if no offset)")]
_RESPONSES = {**errors.BAD_REQUEST, **errors.INVALID, **errors.UNAVAILABLE}


@router.get(
    "/popularity/trending",
    summary="Models whose downloads or likes grew the most",
    response_model=TrendingPublic,
    responses=_RESPONSES,
)
async def trending(
    db: DatabaseDep,
    task: Annotated[
        str | None, Query(max_length=128, pattern=NO_NUL, description="Pipeline tag")
    ] = None,
    metric: Literal["downloads", "likes"] = "downloads",
    window_days: Annotated[int, Query(ge=1, le=365, description="Days before `end`")] = 7,
    end: Annotated[
        IsoDate | None, Query(description="Last day of the window; default the newest snapshot")
    ] = None,
    rank_by: Annotated[
        Literal["absolute", "relative"], Query(description="Rank by growth or growth %")
    ] = "absolute",
    min_first_value: Annotated[
        int, Query(ge=0, le=10**15, description="Ignore models below this at the window's start")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> TrendingPublic:
    end = end if end is not None else await db.run(repository.latest_snapshot_date)
    if end is None:
        return TrendingPublic(
            metric=metric, rank_by=rank_by, window_start=None, window_end=None, data=[]
        )
    try:
        start = end - dt.timedelta(days=window_days)
    except OverflowError as error:
        raise BadRequest(f"the window before {end} starts before year 1", {"end": end}) from error
    rows = await db.run(
        repository.trending,
        metric=metric,
        start=start,
        end=end,
        task=task,
        rank_by=rank_by,
        min_first_value=min_first_value,
        limit=limit,
    )
    return TrendingPublic(
        metric=metric,
        rank_by=rank_by,
        window_start=start,
        window_end=end,
        data=[TrendingModel.model_validate(r) for r in rows],
    )


@router.get(
    "/benchmarks/trends",
    summary="A benchmark metric of a model over time, per configuration",
    response_model=MetricTrendsPublic,
    responses={**_RESPONSES, **errors.NOT_FOUND},
)
async def metric_trends(
    db: DatabaseDep,
    model_id: Annotated[
        str,
        Query(min_length=1, max_length=512, pattern=NO_NUL, examples=["Qwen/Qwen3-14B"]),
    ],
    metric: Metric = Metric.p95_latency,
    gpu: GpuName = None,
    task: Task = None,
    since: Since = None,
    until: Annotated[Instant | None, Query(description="Runs at or before")] = None,
    max_points: Annotated[
        int, Query(ge=2, le=1000, description="Newest runs per configuration")
    ] = 100,
) -> MetricTrendsPublic:
    if since is not None and until is not None and since > until:
        raise BadRequest(
            f"since ({since.isoformat()}) is after until ({until.isoformat()})",
            {"since": since.isoformat(), "until": until.isoformat()},
        )
    rows = await db.run(
        repository.metric_series,
        model_id=model_id,
        metric=metric,
        gpu=gpu,
        task=task,
        since=since,
        until=until,
        max_points=max_points,
    )
    if not rows and not await db.run(models.is_known, model_id):
        raise NotFound(f"model {model_id!r} is not in the catalog", {"model_id": model_id})
    return MetricTrendsPublic(
        model_id=model_id,
        metric=metric,
        unit=metric.unit,
        higher_is_worse=metric.higher_is_worse,
        data=_series(rows),
    )


def _series(rows: list) -> list[ConfigurationTrend]:
    """Rows ordered by configuration then time -> one trend per configuration."""
    grouped: dict[str, list] = {}
    for row in rows:
        grouped.setdefault(row.result_key, []).append(row)
    trends = []
    for runs in grouped.values():
        first, last = runs[0].value, runs[-1].value
        trends.append(
            ConfigurationTrend.model_validate(
                {
                    **runs[-1]._mapping,
                    "points": runs,
                    "change": last - first,
                    "change_pct": change_pct(first, last),
                }
            )
        )
    return trends


@router.get(
    "/benchmarks/regressions",
    summary="Configurations whose latest run got worse",
    response_model=RegressionsPublic,
    responses=_RESPONSES,
)
async def regressions(
    db: DatabaseDep,
    task: Task = None,
    gpu: GpuName = None,
    model_id: Annotated[str | None, Query(max_length=512, pattern=NO_NUL)] = None,
    metric: Annotated[Metric | None, Query(description="One metric; default all")] = None,
    threshold_pct: Annotated[
        float, Query(gt=0, le=1000, description="Worse by more than this %")
    ] = 10.0,
    baseline: Baseline = Baseline.previous,
    window: Annotated[
        int, Query(ge=1, le=50, description="Earlier runs the baseline may look back")
    ] = 5,
    since: Annotated[
        Instant | None, Query(description="Only configurations whose latest run is at or after")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RegressionsPublic:
    if since is not None and since > dt.datetime.now(dt.UTC):
        raise BadRequest(
            f"since ({since.isoformat()}) is in the future", {"since": since.isoformat()}
        )
    rows = await db.run(
        repository.recent_runs,
        task=task,
        gpu=gpu,
        model_id=model_id,
        since=since,
        # The latest and up to `window` before it (also where "previous" looks past a run that
        # lacks the metric).
        runs_per_configuration=window + 1,
    )
    metrics = [metric] if metric is not None else list(Metric)
    found = _regressions(rows, metrics, threshold_pct, baseline, window)
    return RegressionsPublic(
        threshold_pct=threshold_pct,
        baseline=baseline,
        window=window,
        data=found[:limit],
        count=len(found),
    )


def _regressions(
    rows: list, metrics: list[Metric], threshold_pct: float, baseline: Baseline, window: int
) -> list[RegressionPublic]:
    if not rows:
        return []
    runs = pd.DataFrame([r._mapping for r in rows])
    for metric in Metric:
        runs[metric.value] = pd.to_numeric(runs[metric.value], errors="coerce")
    found = find_regressions(
        runs, metrics, threshold_pct=threshold_pct, baseline=baseline, window=window
    )
    found = found.assign(size=found["change_pct"].abs()).sort_values(
        ["size", "result_key", "metric"], ascending=[False, True, True]
    )
    configurations = {r.result_key: r._mapping for r in rows}
    return [
        RegressionPublic.model_validate(
            {
                **configurations[hit["result_key"]],
                **hit,
                "unit": Metric(hit["metric"]).unit,
            }
        )
        for hit in found.to_dict("records")
    ]
