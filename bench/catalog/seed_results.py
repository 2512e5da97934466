"""Synthetic benchmark results and costs for BENCH_MODELS of the catalog's models (what the
listing's benchmark filters read), drawn with a second seeded RNG."""

import math
import random
from datetime import UTC, datetime, timedelta

import pandas as pd

from assets.benchmarks.mlenergy import result_key
from assets.costs.gpus import gpu_specs
from assets.costs.prices import parse_price_dir
from bench.catalog.seed import DATA, SEED

PRICES = DATA / "gpu_prices/tugot17_gpu_price_tracker"
BENCH_MODELS = 2_000
BENCH_TASKS = {  # the model's pipeline tag -> the benchmark tasks run on it (ML.ENERGY's names)
    "text-generation": ["lm-arena-chat", "gpqa", "sourcegraph-fim"],
    "image-text-to-text": ["image-chat", "video-chat"],
    "text-to-image": ["text-to-image"], "text-to-video": ["text-to-video"],
}  # fmt: skip
H100 = "H100-SXM-80GB"


def synthetic_benchmarks(models: list[dict]) -> tuple[list[dict], list[dict]]:
    """(benchmark_results, result_costs) rows for BENCH_MODELS models, see the module docstring.

    Each run drifts from its configuration's level, so "the latest run" differs from "any run"."""
    rng = random.Random(SEED + 1)
    prices = pd.DataFrame(parse_price_dir(PRICES))
    on_demand = prices[prices.pricing == "on-demand"].groupby("gpu").usd_per_gpu_hour.median()
    specs = {s["name"]: s for s in gpu_specs() if s["name"] in on_demand.index}
    gpus = sorted(specs)
    shares = [5 if "H100" in g else 3 if g.startswith(("A100", "H200")) else 1 for g in gpus]
    candidates = [m for m in models if m["pipeline_tag"] in BENCH_TASKS]
    first = datetime(2025, 6, 1, tzinfo=UTC)
    results, costs, keys = [], [], set()
    for model in rng.sample(candidates, BENCH_MODELS):
        weights_gb = 2 * (model["num_parameters"] or 7e9) / 1e9  # bf16
        wanted, picked = rng.randint(1, 4), set()
        while len(picked) < wanted:
            picked.add(rng.choices(gpus, shares)[0])
        for gpu in sorted(picked):
            spec = specs[gpu]
            fit = 2 ** math.ceil(math.log2(max(1.0, 1.2 * weights_gb / spec["memory_gb"])))
            for _ in range(rng.randint(1, 3)):
                task = rng.choice(BENCH_TASKS[model["pipeline_tag"]])
                num_gpus = min(8, fit * rng.choice([1, 1, 2]))
                unit = {"text-to-image": "image", "text-to-video": "video"}.get(task, "token")
                batch = rng.choice([8, 16, 32, 64, 128, 256] if unit == "token" else [1, 2, 4, 8])
                identity = {
                    "source": "bench-synthetic", "task": task, "model_id": model["id"],
                    "gpu": gpu, "num_gpus": num_gpus, "config": {"batch": batch},
                }  # fmt: skip
                key = result_key(identity)
                if key in keys:
                    continue
                keys.add(key)
                if unit == "token":  # a decode step: ~2 ms of overhead + the weights, once
                    step = 2 + weights_gb / (spec["memory_bandwidth_gbps"] * num_gpus) * 1000
                    level = step * (1 + batch / 128) * rng.uniform(1.2, 2.0)
                else:
                    level = batch * rng.uniform(1_500, 12_000) * (20 if unit == "video" else 1)
                days = sorted(rng.sample(range(340), rng.randint(1, 4)))
                for day in days:
                    at = first + timedelta(days=day, seconds=rng.randrange(86_400))
                    p50 = level * rng.uniform(0.85, 1.2)
                    p90 = p50 * rng.uniform(1.2, 1.6)
                    p95 = p90 * rng.uniform(1.05, 1.3)
                    if unit == "token":
                        throughput = batch * 1000 / p50 * rng.uniform(0.6, 0.9)
                        latency = {"itl_ms_p50": p50, "itl_ms_p90": p90, "itl_ms_p95": p95,
                                   "itl_ms_p99": p95 * rng.uniform(1.1, 1.8),
                                   "tokens_per_s_per_user": 1000 / p50}  # fmt: skip
                    else:
                        throughput = batch * 1000 / p50
                        latency = dict.fromkeys(["itl_ms_p50", "itl_ms_p90", "itl_ms_p95"])
                        latency |= {"itl_ms_p99": None, "tokens_per_s_per_user": None}
                    latency["e2e_ms_p50"] = None if unit == "token" else p50  # one set of keys
                    power = spec["tdp_watts"] * rng.uniform(0.5, 0.9)
                    results.append({
                        "result_key": key, "measured_at": at, "source": "bench-synthetic",
                        "task": task, "model_id": model["id"], "model_revision": None, "gpu": gpu,
                        "num_gpus": num_gpus, "engine": "vllm" if unit == "token" else "diffusers",
                        "engine_version": None, "harness_version": None,
                        "config": identity["config"], "concurrency": batch,
                        "output_len": rng.uniform(200, 800) if unit == "token" else None,
                        "output_unit": unit, "output_throughput": throughput,
                        "throughput_per_gpu": throughput / num_gpus,
                        "energy_per_output_j": power * num_gpus / throughput,
                        "avg_power_watts": power, **latency,
                    })  # fmt: skip
                    hourly = float(on_demand[gpu]) * rng.uniform(0.9, 1.1)
                    spot = hourly * rng.uniform(0.35, 0.7)
                    per_million = num_gpus / (throughput * 3600) * 1e6
                    costs.append({
                        "result_key": key, "measured_at": at, "gpu": gpu, "price_window_end": at,
                        "on_demand_usd_per_gpu_hour": hourly,
                        "on_demand_usd_per_gpu_hour_p90": hourly * rng.uniform(1.1, 1.4),
                        "spot_usd_per_gpu_hour": spot,
                        "usd_per_million_on_demand": hourly * per_million,
                        "usd_per_million_spot": spot * per_million,
                        "spot_saving_pct": (1 - spot / hourly) * 100,
                        "price_source": "tugot17-gpu-price-tracker",
                    })  # fmt: skip
    return results, costs
