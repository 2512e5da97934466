"""The physics check on the stored results: the real ML.ENERGY import, then an impossible row."""

from datetime import UTC, datetime

import dagster as dg
import pytest
from sqlalchemy.engine import Engine

from assets.benchmarks.assets import published_benchmarks
from assets.benchmarks.checks import benchmark_results_below_roofline
from assets.costs.assets import gpu_catalog
from resources.database import DatabaseResource
from resources.datasets import DatasetsResource
from resources.db.tables import BenchmarkResult
from resources.settings import get_settings

pytestmark = pytest.mark.integration


def test_real_results_pass_and_a_unit_bug_fails(clean_db: Engine, database_url: str):
    database = DatabaseResource(url=database_url)
    resources = {"database": database,
                 "datasets": DatasetsResource(root=str(get_settings().data_dir))}  # fmt: skip
    assert dg.materialize([gpu_catalog, published_benchmarks], resources=resources).success
    check = benchmark_results_below_roofline(database)
    metadata = {k: v.value for k, v in check.metadata.items()}
    assert check.passed
    assert (metadata["rows"], metadata["passed"], metadata["failed"]) == (838, 838, 0)
    assert metadata["skipped"] == {}

    # An own result whose throughput was stored in tokens per ms, not per s (1000x too high).
    bad = {"result_key": "ms-not-s", "measured_at": datetime(2026, 1, 1, tzinfo=UTC),
           "source": "own", "task": "text-generation", "model_id": "m/8b", "gpu": "H100-SXM-80GB",
           "num_gpus": 1, "config": {"dtype": "bfloat16"}, "output_unit": "token",
           "extra": {"num_parameters": 8e9}, "tokens_per_s_per_user": 100_000.0}  # fmt: skip
    cpu = bad | {"result_key": "cpu", "gpu": "CPU", "tokens_per_s_per_user": 10.0}
    with clean_db.begin() as conn:
        conn.execute(BenchmarkResult.__table__.insert(), [bad, cpu])
    check = benchmark_results_below_roofline(database)
    metadata = {k: v.value for k, v in check.metadata.items()}
    assert not check.passed
    assert metadata["failed"] == 1
    assert metadata["skipped"] == {"no memory bandwidth for GPU 'CPU'": 1}
    assert metadata["violations"][0]["result_key"] == "ms-not-s"
