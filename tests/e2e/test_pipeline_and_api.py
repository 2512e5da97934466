"""End to end: the embedded default from empty state, the pipeline on the real data, the API.

Runs `modelcat pipeline run` as a user would (a subprocess, embedded PostgreSQL and Redis under a
temporary home), twice, then queries the API on the same stores.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from resources import embedded
from resources.db.tables import Base
from resources.settings import REPO_ROOT, Settings, get_settings
from serving.app import create_app

pytestmark = pytest.mark.e2e


def _pipeline(home: Path, data_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CATALOG_", "DAGSTER_"))}
    env["CATALOG_HOME"] = str(home)
    if data_dir is not None:
        env["CATALOG_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "modelcat", "pipeline", "run"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def _counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        counts = {
            t.name: conn.execute(text(f'SELECT count(*) FROM "{t.name}"')).scalar_one()
            for t in Base.metadata.sorted_tables
        }
    engine.dispose()
    return counts


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    first = _pipeline(home)
    assert first.returncode == 0, first.stdout + first.stderr
    urls = embedded.start(home)
    yield home, urls, _counts(urls.database_url)
    embedded.stop(home)
    # `modelcat down` stops the server even though the pipeline's processes also used it.
    assert not (home / "pgdata" / "postmaster.pid").exists()


def test_pipeline_loads_all_the_real_data(loaded):
    _, _, counts = loaded
    assert counts["models"] == 276 + 46  # Hub snapshot + the benchmarked models
    assert counts["model_snapshots"] == 111_873
    assert counts["benchmark_results"] == 1_858
    assert counts["gpus"] > 0 and counts["gpu_prices"] > 0
    assert counts["result_costs"] == 1_858  # H100 and B200 both have prices
    assert counts["recommendation_versions"] == 1


def test_second_run_changes_no_row_count(loaded):
    home, urls, before = loaded
    second = _pipeline(home)
    assert second.returncode == 0, second.stdout + second.stderr
    assert _counts(urls.database_url) == before


def test_malformed_file_fails_naming_file_and_line_and_keeps_data(loaded, tmp_path):
    home, urls, before = loaded
    data = tmp_path / "data"
    shutil.copytree(get_settings().data_dir, data)
    prices = data / "gpu_prices" / "tugot17_gpu_price_tracker" / "H200_141GB.jsonl"
    lines = prices.read_text().splitlines(keepends=True)
    lines[41] = '{"timestamp": "not json\n'
    prices.write_text("".join(lines))
    run = _pipeline(home, data_dir=data)
    assert run.returncode == 1
    assert f"{prices}:42:" in run.stdout + run.stderr
    assert _counts(urls.database_url) == before


def test_api_serves_real_recommendations(loaded):
    _, urls, _ = loaded
    # Explicit, as a deployment would: a real JWT secret, reads open to anonymous callers.
    settings = Settings(
        database_url=None,
        redis_url=None,
        jwt_secret="e2e-jwt-secret-" + "x" * 32,
        open_reads=True,
        rate_limit_anonymous_per_s=0,  # no limit: the test is about data, not quotas
    )
    with TestClient(create_app(urls.database_url, urls.redis_url, settings)) as client:
        response = client.get(
            "/recommendations", params={"task": "lm-arena-chat", "gpu": "B200-180GB",
                                        "profile": "balanced"},
        )  # fmt: skip
        assert response.status_code == 200, response.text
        body = response.json()
        items = body["items"]
        assert len(items) > 5
        known = {"Qwen/Qwen3-14B", "Qwen/Qwen3-8B", "Qwen/Qwen3-32B", "openai/gpt-oss-20b"}
        assert {i["model_id"] for i in items} & known
        first = items[0]
        assert 0 < first["score"] <= 1
        assert first["provenance"]["source"] == "mlenergy-v3"
        assert first["provenance"]["measured"] is False
        assert (
            first["values"]["cost_spot_per_million"] < first["values"]["cost_on_demand_per_million"]
        )
        assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)

        axes = {"x": "latency_p95_ms", "y": "cost_spot_per_million"}
        front = client.get("/pareto", params={"task": "lm-arena-chat", "gpu": "any", **axes})
        assert front.status_code == 200, front.text
        assert front.json()["front"]

        model = client.get("/models/Qwen/Qwen3-14B/benchmarks")
        assert model.status_code == 200, model.text
        assert len(model.json()) > 0

        popular = client.get("/models", params={"sort": "-downloads", "limit": 3})
        assert popular.status_code == 200
        assert popular.json()["count"] == 276 + 46

        assert client.get("/models/nobody/nothing").status_code == 404
        assert (
            client.get("/recommendations", params={"task": "nope", "gpu": "any"}).status_code == 404
        )
        assert client.get("/models", params={"limit": -1}).status_code == 422
