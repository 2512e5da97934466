"""A small catalog for the API tests: models (a slash id, a unicode id, LIKE metacharacters),
snapshots, GPUs and prices, benchmark results with a cost, and two recommendation versions.

Imported by the tests for its names (ids, dates) and by conftest for `seed`.
"""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from resources.db.tables import (
    BenchmarkResult,
    Gpu,
    GpuPrice,
    MlModel,
    ModelSnapshot,
    Recommendation,
    RecommendationVersion,
    ResultCost,
)

QWEN = "Qwen/Qwen3-14B"
LLAMA = "meta-llama/Llama-3.1-8B-Instruct"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
UNICODE = "Ünïcode/модель-日本"
ODD = "odd/100%_sure"
REMOVED = "old/removed_model"
GHOST = "ghost/only-benchmarked"  # in benchmark_results, not in the registry
NEWEST_PRICE = datetime(2025, 11, 20, 12, tzinfo=UTC)
# Shaped like the pipeline's payloads (assets/recommendations/precompute.py), trimmed.
_CANDIDATE = {"result_key": "b", "model_id": QWEN, "gpu": "H100", "num_gpus": 1}
RANKING = {
    "task": "lm-arena-chat", "gpu": "H100", "output_unit": "token", "profile": "balanced",
    "weights": {"throughput_per_gpu": 1.0},
    "items": [_CANDIDATE | {"rank": 1, "score": 0.9, "margin_to_next": None,
                            "values": {"throughput_per_gpu": 600.0}, "missing": [],
                            "contributions": {"throughput_per_gpu": 1.0},
                            "rank_stability": None, "provenance": {"source": "mlenergy-v3"}}],
}  # fmt: skip
PARETO = {
    "task": "lm-arena-chat", "gpu": "H100", "output_unit": "token",
    "x": {"name": "cost_spot_per_million", "unit": "$/1M outputs", "direction": "cost"},
    "y": {"name": "latency_p95_ms", "unit": "ms", "direction": "cost"},
    "front": [_CANDIDATE | {"x": 0.73, "y": 30.0}], "dominated": [], "missing": 0,
}  # fmt: skip
PARETO_KEY = "cost_spot_per_million:latency_p95_ms"
INDEX = {"tasks": ["lm-arena-chat"], "gpus": ["H100"], "gpus_by_task": {"lm-arena-chat": ["H100"]},
         "profiles": ["balanced"], "axes": ["cost_spot_per_million", "latency_p95_ms"]}  # fmt: skip


def _model(id: str, **values) -> dict:
    base = dict.fromkeys(
        [
            "author",
            "pipeline_tag",
            "license",
            "num_parameters",
            "last_modified",
            "downloads",
            "likes",
            "removed_at",
            "library_name",
            "sha",
        ]  # fmt: skip
    )
    return base | {"id": id, "source": "hf", "gated": False, "private": False, "tags": [],
                   "base_models": [], "extra": {"note": id}} | values  # fmt: skip


def _result(key: str, model: str, measured: datetime, **values) -> dict:
    return {
        "result_key": key, "measured_at": measured, "source": "mlenergy-v3",
        "task": "lm-arena-chat", "model_id": model, "model_revision": "abc", "gpu": "H100",
        "num_gpus": 1, "engine": "vllm", "engine_version": "0.10", "harness_version": "1",
        "config": {"max_num_seqs": 64}, "output_unit": "token", "throughput_per_gpu": None,
        "itl_ms_p95": None, "metric_definitions": {"itl": "pooled gaps"}, "extra": {},
    } | values  # fmt: skip


def seed(engine: Engine) -> None:
    t0 = datetime(2025, 6, 1, tzinfo=UTC)
    models = [
        _model(QWEN, author="Qwen", pipeline_tag="text-generation", license="apache-2.0",
               num_parameters=14_800_000_000, downloads=1000, likes=50, last_modified=t0),
        _model(LLAMA, author="meta-llama", pipeline_tag="text-generation", license="llama3.1",
               num_parameters=8_000_000_000, downloads=5000, likes=300,
               last_modified=t0 - timedelta(days=30)),
        _model(MINILM, author="sentence-transformers", pipeline_tag="feature-extraction",
               license="apache-2.0", num_parameters=22_700_000, downloads=9000, likes=None),
        _model(UNICODE, author="Ünïcode", pipeline_tag="text-generation", license="mit",
               downloads=10, likes=1),
        _model(ODD, author="odd", pipeline_tag="fill-mask", downloads=5, likes=2),
        _model(REMOVED, author="old", pipeline_tag="text-generation", downloads=999_999,
               removed_at=t0),
    ]  # fmt: skip
    snapshots = [
        {"model_id": QWEN, "snapshot_date": date(2025, 5, d), "downloads": 100 * d,
         "likes": d, "trending_rank": 10 - d, "source": "hub"}
        for d in (3, 1, 2)
    ]  # fmt: skip
    a_old, a_new = t0, t0 + timedelta(days=10)
    results = [
        _result("a", QWEN, a_old, throughput_per_gpu=500.0, itl_ms_p95=20.0),
        _result("a", QWEN, a_new, throughput_per_gpu=400.0, itl_ms_p95=25.0),
        _result("b", QWEN, t0, throughput_per_gpu=600.0, itl_ms_p95=30.0),
        _result("c", QWEN, t0, task="gpqa", gpu="B200", throughput_per_gpu=900.0, itl_ms_p95=9.0),
        _result("g", GHOST, t0, throughput_per_gpu=1.0),
    ]
    cost = {"result_key": "a", "measured_at": a_new, "gpu": "H100",
            "price_window_end": NEWEST_PRICE, "on_demand_usd_per_gpu_hour": 3.0,
            "on_demand_usd_per_gpu_hour_p90": 4.0, "spot_usd_per_gpu_hour": 1.05,
            "usd_per_million_on_demand": 2.08, "usd_per_million_spot": 0.73,
            "spot_saving_pct": 65.0, "price_source": "tugot17"}  # fmt: skip
    gpus = [
        {"name": "H100", "vendor": "nvidia", "memory_gb": 80.0, "memory_bandwidth_gbps": 3350.0,
         "bf16_dense_tflops": 989.0, "fp8_dense_tflops": 1979.0, "tdp_watts": 700.0,
         "aliases": ["H100 SXM5 80GB"]},
        {"name": "B200", "vendor": "nvidia", "memory_gb": 180.0, "memory_bandwidth_gbps": None,
         "bf16_dense_tflops": None, "fp8_dense_tflops": None, "tdp_watts": None, "aliases": []},
    ]  # fmt: skip
    price = {"gpu": "H100", "provider": "p", "region": "r", "source": "tugot17"}
    prices = [
        price
        | {
            "observed_at": NEWEST_PRICE - timedelta(days=d),
            "pricing": "on-demand",
            "usd_per_gpu_hour": usd,
        }
        for d, usd in ((0, 2.0), (1, 3.0), (2, 4.0), (30, 100.0))  # the last: out of window
    ] + [price | {"observed_at": NEWEST_PRICE, "pricing": "spot", "usd_per_gpu_hour": 0.5}]
    versions = [{"version": "v0", "active": False, "summary": {}},
                {"version": "v1", "active": True, "summary": INDEX}]  # fmt: skip
    rec = {"task": "lm-arena-chat", "gpu": "H100"}
    recommendations = [
        rec | {"version": "v1", "kind": "ranking", "key": "balanced", "payload": RANKING},
        rec | {"version": "v1", "kind": "pareto", "key": PARETO_KEY, "payload": PARETO},
        rec | {"version": "v0", "kind": "ranking", "key": "balanced", "payload": {"items": []}},
        rec | {"version": "v0", "kind": "ranking", "key": "old-profile", "payload": {}},
    ]
    with engine.begin() as conn:
        for table, rows in [
            (MlModel, models), (ModelSnapshot, snapshots), (BenchmarkResult, results),
            (ResultCost, [cost]), (Gpu, gpus), (GpuPrice, prices),
            (RecommendationVersion, versions), (Recommendation, recommendations),
        ]:  # fmt: skip
            conn.execute(insert(table), rows)
