"""Analytics answers: popularity growth, metric series, regressions."""

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from serving.analytics.trends import Baseline, Metric
from serving.schemas import UtcDatetime


class TrendingModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    model_id: str
    task: str | None = Field(description="Pipeline tag; None when the registry does not list it")
    first_date: dt.date = Field(description="First snapshot in the window")
    first_value: int
    last_date: dt.date = Field(description="Last snapshot in the window")
    last_value: int
    growth: int = Field(description="last_value - first_value")
    growth_pct: float | None = Field(description="Relative growth in %; None when first_value is 0")


class TrendingPublic(BaseModel):
    metric: Literal["downloads", "likes"] = Field(
        description="downloads is the Hub's rolling 30-day count, so growth means acceleration"
    )
    rank_by: Literal["absolute", "relative"]
    window_start: dt.date | None = Field(description="None when there are no snapshots")
    window_end: dt.date | None
    data: list[TrendingModel]


class MetricPoint(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    measured_at: UtcDatetime
    value: float


class Configuration(BaseModel):
    """One measured configuration (a `result_key`): where and how it ran."""

    model_config = ConfigDict(from_attributes=True)

    result_key: str
    model_id: str
    task: str
    gpu: str
    num_gpus: int
    engine: str | None
    config: dict[str, Any]


class ConfigurationTrend(Configuration):
    points: list[MetricPoint] = Field(description="Oldest first")
    change: float = Field(description="Last value - first value")
    change_pct: float | None = Field(description="Relative change in %; None when first is 0")


class MetricTrendsPublic(BaseModel):
    model_id: str
    metric: Metric
    unit: str
    higher_is_worse: bool
    data: list[ConfigurationTrend]


class RegressionPublic(Configuration):
    metric: Metric
    unit: str
    latest_value: float
    latest_at: UtcDatetime
    baseline_value: float = Field(description="The previous run's value, or the median of runs")
    baseline_runs: int = Field(description="Earlier runs the baseline was taken over")
    previous_at: UtcDatetime = Field(description="When the run before the latest was measured")
    change_pct: float = Field(description="Signed change from baseline to latest, in %")


class RegressionsPublic(BaseModel):
    threshold_pct: float
    baseline: Baseline
    window: int = Field(description="Earlier runs the baseline looks back at most")
    data: list[RegressionPublic] = Field(description="Largest change first")
    count: int = Field(description="Regressions found, before limit")
