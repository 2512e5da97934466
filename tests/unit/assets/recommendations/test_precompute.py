from datetime import UTC, datetime

import numpy as np
import pandas as pd

from assets.recommendations import precompute
from assets.recommendations.frames import shape

WHEN = datetime(2026, 2, 16, tzinfo=UTC)


def _raw(n: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "result_key": [f"k{i}" for i in range(n)],
            "task": ["chat"] * n,
            "model_id": [f"org/m{i % 3}" for i in range(n)],
            "gpu": ["H100-SXM-80GB", "B200-180GB"] * (n // 2),
            "num_gpus": [1] * n,
            "source": ["mlenergy-v3"] * n,
            "engine": ["vllm"] * n,
            "harness_version": ["h"] * n,
            "measured_at": [WHEN] * n,
            "output_unit": ["token"] * n,
            "concurrency": [8] * n,
            "config": [{"max_num_seqs": 8 * (i + 1)} for i in range(n)],
            "extra": [{"total_params_billions": 8.0, "weight_precision": "bfloat16"}] * n,
            "latency_p95_ms": rng.uniform(5, 50, n),
            "latency_p50_ms": rng.uniform(1, 5, n),
            "latency_metric": ["itl"] * n,
            "throughput_per_gpu": rng.uniform(100, 5000, n),
            "energy_per_output_j": rng.uniform(0.1, 1, n),
            "peak_memory_gb": [None] * (n - 1) + [30.0],
            "cost_spot_per_million": rng.uniform(0.1, 2, n),
            "cost_on_demand_per_million": rng.uniform(2, 5, n),
            "license": ["apache-2.0"] * n,
            "quality": [None] * (n - 1) + [61.5],
        }
    )


def test_shape_derives_memory_and_says_where_each_value_came_from():
    frame = shape(_raw())
    assert frame["memory_gb"].iloc[0] == 16.0  # 8B params x 2 bytes (bf16): derived
    assert frame["memory_gb"].iloc[-1] == 30.0  # measured peak wins
    assert frame["provenance"].iloc[0]["memory"] == "derived"
    assert frame["provenance"].iloc[-1]["memory"] == "measured"
    assert frame["provenance"].iloc[0]["quality"] == "missing"
    assert frame["provenance"].iloc[-1]["quality"].startswith("imported")


def test_build_covers_every_gpu_and_all_gpus_with_every_profile():
    rows = precompute.build(
        shape(_raw()), {"balanced": {"latency_p95_ms": 1, "cost_spot_per_million": 1}}
    )
    rankings = {(r["task"], r["gpu"]) for r in rows if r["kind"] == "ranking"}
    assert rankings == {("chat", "H100-SXM-80GB"), ("chat", "B200-180GB"), ("chat", "any")}
    any_gpu = next(r for r in rows if r["kind"] == "ranking" and r["gpu"] == "any")
    assert len(any_gpu["payload"]["items"]) == 6
    assert all("config" in item for item in any_gpu["payload"]["items"])
    pareto_keys = {r["key"] for r in rows if r["kind"] == "pareto" and r["gpu"] == "any"}
    assert "latency_p95_ms:cost_spot_per_million" in pareto_keys
    assert "cost_spot_per_million:latency_p95_ms" in pareto_keys


def test_version_is_content_addressed():
    profiles = {"balanced": {"latency_p95_ms": 1, "cost_spot_per_million": 1}}
    first = precompute.build(shape(_raw()), profiles)
    again = precompute.build(shape(_raw()), profiles)
    assert precompute.content_version(first) == precompute.content_version(again)
    changed = _raw()
    changed.loc[0, "latency_p95_ms"] = 999.0
    other = precompute.build(shape(changed), profiles)
    assert precompute.content_version(other) != precompute.content_version(first)


def test_index_lists_what_the_version_holds():
    rows = precompute.build(shape(_raw()), {"balanced": {"latency_p95_ms": 1}})
    index = precompute.index(rows)
    assert index["tasks"] == ["chat"]
    assert index["gpus_by_task"]["chat"] == ["B200-180GB", "H100-SXM-80GB", "any"]
    assert index["profiles"] == ["balanced"]
