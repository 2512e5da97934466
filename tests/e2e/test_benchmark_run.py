"""End to end: a tiny model benchmarked on CPU through Dagster, its numbers in the API.

The `benchmark_runs` asset runs with the local launcher and the real harness (a random-initialised
Llama config: real architecture, seconds on CPU, nothing downloaded), writes to real PostgreSQL,
and `GET /models/{id}/benchmarks` then serves the result with its provenance.
"""

from pathlib import Path

import dagster as dg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from assets.benchmarks.run_assets import benchmark_runs
from resources.db.tables import MlModel
from resources.object_store import RAW_RECORDS_PREFIX, LocalObjectStore
from resources.settings import Settings
from serving.app import create_app
from tests.integration.benchmarks.conftest import (
    MODEL,
    PARTITION,
    RUN_CONFIG,
    SHA,
    resources_for,
)

pytestmark = pytest.mark.e2e


def test_a_cpu_run_through_dagster_appears_in_the_api_with_provenance(
    clean_db: Engine, database_url: str, redis_url: str, tmp_path: Path
):
    with clean_db.begin() as conn:
        conn.execute(MlModel.__table__.insert(), [{"id": MODEL, "source": "test", "sha": SHA}])
    store = LocalObjectStore(root=str(tmp_path / "objects"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("models", [MODEL])
        result = dg.materialize(
            [benchmark_runs],
            partition_key=PARTITION,
            instance=instance,
            resources=resources_for(database_url, store),
            run_config={"ops": {"benchmark_runs": {"config": RUN_CONFIG}}},
        )
    assert result.success
    settings = Settings(open_reads=True, rate_limit_per_s=0, rate_limit_anonymous_per_s=0)
    with TestClient(create_app(database_url, redis_url, settings)) as client:
        response = client.get(f"/models/{MODEL}/benchmarks")
    assert response.status_code == 200, response.text
    [item] = response.json()["data"]
    provenance = item["provenance"]
    assert provenance["source"] == "own"
    assert provenance["engine"] == "transformers" and provenance["engine_version"]
    assert provenance["harness_version"] and provenance["model_revision"] == SHA
    assert provenance["metric_definitions"]["tpot"]
    assert item["gpu"] == "CPU" and item["concurrency"] == RUN_CONFIG["concurrency"]
    assert item["output_throughput"] > 0 and item["ttft_ms_p50"] > 0 and item["e2e_ms_p99"] > 0
    assert item["extra"]["hardware"]["device"] == "cpu"
    assert item["extra"]["dagster_run_id"] == result.run_id
    assert item["extra"]["raw_records_uri"].startswith(store.prefix_uri(RAW_RECORDS_PREFIX))
