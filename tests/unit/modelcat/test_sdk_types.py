"""The SDK's models mirror the API's schemas, and the SDK loads without the server's code."""

import subprocess
import sys

import pytest
from pydantic import BaseModel

from modelcat.sdk import types as sdk
from serving.analytics import schemas as analytics
from serving.benchmarks import requests as benchmark_requests
from serving.benchmarks import schemas as benchmarks
from serving.gpus import schemas as gpus
from serving.health import HealthPublic, ReadyPublic
from serving.models import schemas as models
from serving.recommendations import schemas as recommendations
from serving.security.router import TokenResponse

PAIRS = [
    (sdk.Model, models.ModelPublic), (sdk.ModelsPage, models.ModelsPublic),
    (sdk.ModelDetail, models.ModelPage), (sdk.BenchmarkSummary, models.BenchmarkSummary),
    (sdk.Popularity, models.PopularityPublic), (sdk.PopularityPoint, models.PopularityPoint),
    (sdk.Lineage, models.Lineage), (sdk.BaseModelLink, models.BaseModelLink),
    (sdk.ChildModel, models.ChildModel),
    (sdk.Benchmark, benchmarks.BenchmarkPublic), (sdk.Benchmarks, benchmarks.BenchmarksPublic),
    (sdk.Provenance, benchmarks.Provenance), (sdk.Cost, benchmarks.CostPublic),
    (sdk.BenchmarkRequest, benchmark_requests.BenchmarkRequestPublic),
    (sdk.BenchmarkRequestAccepted, benchmark_requests.BenchmarkRequestAccepted),
    (sdk.Gpu, gpus.GpuPublic), (sdk.Gpus, gpus.GpusPublic), (sdk.GpuPrice, gpus.GpuPricePublic),
    (sdk.Ranking, recommendations.RankingPublic), (sdk.RankingItem, recommendations.RankingItem),
    (sdk.Pareto, recommendations.ParetoPublic), (sdk.ParetoPoint, recommendations.ParetoPoint),
    (sdk.Axis, recommendations.Axis), (sdk.QueryRanking, recommendations.RankingQueryPublic),
    (sdk.QueryConstraints, recommendations.QueryConstraints),
    (sdk.Trending, analytics.TrendingPublic), (sdk.TrendingModel, analytics.TrendingModel),
    (sdk.MetricTrends, analytics.MetricTrendsPublic), (sdk.MetricPoint, analytics.MetricPoint),
    (sdk.ConfigurationTrend, analytics.ConfigurationTrend),
    (sdk.Regressions, analytics.RegressionsPublic), (sdk.Regression, analytics.RegressionPublic),
    (sdk.Health, HealthPublic), (sdk.Ready, ReadyPublic), (sdk.Token, TokenResponse),
]  # fmt: skip


@pytest.mark.parametrize(("mirror", "schema"), PAIRS, ids=[s.__name__ for _, s in PAIRS])
def test_fields_and_requiredness_match(mirror: type[BaseModel], schema: type[BaseModel]):
    assert set(mirror.model_fields) == set(schema.model_fields)
    required = {n for n, f in schema.model_fields.items() if f.is_required()}
    assert {n for n, f in mirror.model_fields.items() if f.is_required()} == required


def test_the_sdk_imports_without_the_server():
    code = (
        "import sys, modelcat.sdk; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'serving', 'resources', 'fastapi', 'sqlalchemy', 'redis', 'dagster', 'typer'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
