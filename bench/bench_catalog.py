"""GET /models at 100,000 models: keyset pages + capped count + indexes vs OFFSET + COUNT(*).

A scratch database on the test server (`bench_catalog_<pid>`) is migrated to head and filled with
100,000 models drawn, with one seeded RNG, from the real data in /work/shared/data: ids, authors,
tasks and parameter counts of the models in the Open LLM Leaderboard, the Hub snapshot and the
ML.ENERGY index; downloads, likes and last-modified dates from the Hub snapshot's daily rows.
Licences are not in that data: they follow an assumed mix (LICENSES below). A copy of the
database downgraded to 0002 (the indexes before this change) runs the old SQL, OFFSET and an
exact COUNT(*), on the same rows: the baseline.

The benchmark filters (`gpu`, `max_p95_ms`, `max_cost_per_mtok` + `pricing`, `measured`: EXISTS
on `benchmark_results` / `result_costs`) need results: 2,000 models of the benchmarked tasks get
1-4 GPUs x 1-3 configurations x 1-4 runs over a year, drawn with a second seeded RNG, latency
from the model's weight bytes over the GPU's memory bandwidth (gpu_specs.yaml) and a result_costs
row per run at the price tracker's median on-demand $/GPU-hour (spot: an assumed 35-70% of it).
They are written to the new database only, after the baseline copy (which predates these
filters): those rows report the new code alone, with no baseline and no ratio.
Then, as `performance_rollups` does after every load, the time-series rows move into their
monthly partitions (migration 0007) and the partitioned tables are analysed.

Each of ~25 distinct queries is timed
- cold: on a fresh connection (new backend, so cold catalog caches and no plan), 5 times; the
  server's shared buffers are not flushed (a shared server cannot be restarted here);
- warm: 10 times on one connection after one untimed run;
- through the repository function, and through the HTTP API (the models router in-process over
  httpx's ASGITransport; its cold runs also open the connection).
Goal: cold p95 <= 50 ms over the filtered queries. The slowest query's plan is printed. The web
UI's goal for the benchmark filters: an update in under 500 ms, read against the API's cold p95.

The registry filters (`source`, `gated`, `updated_since`) are in the main mix: 1% of the models
come from a manifest, 5% are gated (assumed), and 60% are variants of a real model that name it
as their base (`base_models` and a `base_model:<relation>:` tag). The model page's lineage is
timed last: the children of the base with the most, of a median base and of a leaf, through
the GIN index on `base_models` (its plan is printed), and the serving cache's one-pass lineage.

    .venv/bin/python bench/bench_catalog.py
"""

import asyncio
import json
import math
import os
import random
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pandas as pd
from alembic import command
from fastapi import FastAPI
from sqlalchemy import Connection, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from assets.benchmarks.mlenergy import result_key
from assets.costs.gpus import gpu_specs
from assets.costs.prices import parse_price_dir
from resources.db import timeseries
from resources.db.migrate import alembic_config, upgrade
from resources.db.tables import BenchmarkResult, MlModel, ResultCost
from resources.settings import Settings
from serving import errors
from serving.db import Database
from serving.models import lineage, pages, repository, router
from serving.models.filters import BenchFilters, Cursor, ModelFilters, Pricing, Sort, encode_cursor

DATA = Path("/work/shared/data")
HUB_FILE = "hf_transformersjs_feature_extraction_daily_2024-05_2026-05.csv.gz"
SEED = 20260501
N_MODELS = 100_000
COLD_RUNS, WARM_RUNS = 5, 10
GOAL_MS = 50.0
UI_GOAL_MS = 500.0  # the web UI: filters update in under 500 ms
PRICES = DATA / "gpu_prices/tugot17_gpu_price_tracker"
BENCH_MODELS = 2_000
BENCH_TASKS = {  # the model's pipeline tag -> the benchmark tasks run on it (ML.ENERGY's names)
    "text-generation": ["lm-arena-chat", "gpqa", "sourcegraph-fim"],
    "image-text-to-text": ["image-chat", "video-chat"],
    "text-to-image": ["text-to-image"], "text-to-video": ["text-to-video"],
}  # fmt: skip
H100 = "H100-SXM-80GB"
LICENSES = {  # assumed shares: the real data has no licence column
    "apache-2.0": 35, "mit": 18, None: 20, "llama3.1": 5, "cc-by-nc-4.0": 5, "other": 5,
    "openrail": 3, "cc-by-4.0": 4, "gemma": 2, "llama2": 3,
}  # fmt: skip
VARIANTS = ["GGUF", "AWQ", "GPTQ", "4bit", "8bit", "onnx", "ft", "v2", "instruct", "lora", "merged"]
# How a variant derives from its template, as the Hub tags it (`base_model:<relation>:<id>`);
# an onnx export names its base without a relation.
RELATION = {"GGUF": "quantized", "AWQ": "quantized", "GPTQ": "quantized", "4bit": "quantized",
            "8bit": "quantized", "ft": "finetune", "v2": "finetune", "instruct": "finetune",
            "lora": "adapter", "merged": "merge"}  # fmt: skip
GATED_SHARE = 0.05  # assumed: the real export has a gated column, but every value is False
SINCE = datetime(2026, 4, 1, tzinfo=UTC)  # `updated_since`: about the last 5 weeks of the data
MLENERGY_TASKS = {
    "lm-arena-chat": "text-generation", "gpqa": "text-generation",
    "sourcegraph-fim": "text-generation", "image-chat": "image-text-to-text",
    "video-chat": "image-text-to-text", "text-to-image": "text-to-image",
    "text-to-video": "text-to-video",
}  # fmt: skip
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([bm])(?![a-z])", re.IGNORECASE)


# -- the catalog ------------------------------------------------------------------------------


def real_models() -> tuple[list[dict], pd.DataFrame]:
    """(templates: id, author, task, params) and the Hub snapshot's popularity rows."""
    columns = ["id", "pipeline_tag", "numParameters", "downloads", "likes", "lastModified"]
    hub = pd.read_csv(DATA / f"hf_hub/{HUB_FILE}", usecols=columns)
    templates = {
        r.id: {"id": r.id, "task": r.pipeline_tag,
               "params": None if pd.isna(r.numParameters) else int(r.numParameters)}
        for r in hub.drop_duplicates("id").itertuples()
    }  # fmt: skip
    for path in sorted((DATA / "leaderboards/open_llm_leaderboard_2023").glob("*.csv")):
        board = pd.read_csv(path, encoding="utf-8-sig")
        urls = board["URL"] if "URL" in board else board.iloc[:, 0]
        for name in urls.dropna().astype(str):
            model_id = name.removeprefix("https://huggingface.co/").strip()
            if model_id.count("/") == 1 and model_id not in templates:
                size = _SIZE.search(model_id.split("/")[1])
                params = None
                if size:
                    params = int(float(size[1]) * (1e9 if size[2].lower() == "b" else 1e6))
                templates[model_id] = {"id": model_id, "task": "text-generation", "params": params}
    index = json.loads((DATA / "benchmarks/mlenergy_v3/index.json").read_text())["models"]
    for path in (DATA / "benchmarks/mlenergy_v3/tasks").glob("*.json"):
        task = MLENERGY_TASKS.get(path.stem, "text-generation")
        for config in json.loads(path.read_text())["configurations"]:
            meta = index.get(config["model_id"], {})
            billions = meta.get("total_params_billions") or config.get("total_params_billions")
            templates[config["model_id"]] = {
                "id": config["model_id"], "task": task,
                "params": int(billions * 1e9) if billions else None,
            }  # fmt: skip
    return list(templates.values()), hub[["downloads", "likes", "lastModified"]]


def synthetic_catalog(n: int) -> list[dict]:
    """Models drawn from the real templates; a variant names its template as its base model.

    Lineage and `gated` come from a second RNG, so the other columns are drawn exactly as
    before they were added (the numbers stay comparable with earlier runs)."""
    rng, extra = random.Random(SEED), random.Random(SEED + 2)
    templates, popularity = real_models()
    authors = sorted({t["id"].split("/")[0] for t in templates})
    pop = popularity.to_dict("records")
    licenses, weights = list(LICENSES), list(LICENSES.values())
    now, seen, rows = datetime(2026, 5, 7, tzinfo=UTC), set(), []
    while len(rows) < n:
        t = rng.choice(templates)
        author, name = t["id"].split("/")
        variant = None
        if rng.random() < 0.6:  # re-uploads, quantisations, fine-tunes by other accounts
            author = rng.choice(authors)
            variant = rng.choice(VARIANTS)
            name = f"{name}-{variant}"
        model_id = f"{author}/{name}"
        while model_id in seen:
            model_id = f"{author}/{name}-{rng.randrange(10_000)}"
        seen.add(model_id)
        relation = RELATION.get(variant or "")
        named = f"{relation}:{t['id']}" if relation else t["id"]
        lineage_tags = [f"base_model:{named}"] if variant else []
        p = rng.choice(pop)
        manifest = rng.random() < 0.01  # private manifests: no popularity, no dates
        modified = datetime.fromisoformat(p["lastModified"].replace("Z", "+00:00"))
        rows.append({
            "id": model_id, "source": "manifest" if manifest else "hf", "author": author,
            "pipeline_tag": t["task"], "library_name": "transformers",
            "license": rng.choices(licenses, weights)[0], "private": False,
            "num_parameters": t["params"], "sha": f"{rng.getrandbits(160):040x}",
            "last_modified": None if manifest else modified - timedelta(days=rng.randrange(400)),
            "downloads": None if manifest else int(p["downloads"] * rng.uniform(0.2, 5)),
            "likes": None if manifest else int(p["likes"] * rng.uniform(0.2, 5)),
            "tags": [t["task"], "transformers", "region:us", *lineage_tags],
            "base_models": [t["id"]] if variant else [],
            "gated": extra.random() < GATED_SHARE,
            "extra": {"siblings": rng.randrange(3, 40)},
            "removed_at": now - timedelta(days=rng.randrange(90)) if rng.random() < 0.02 else None,
        })  # fmt: skip
    return rows


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


@contextmanager
def scratch_databases(
    settings: Settings, rows: list[dict], bench: tuple[list[dict], list[dict]]
) -> Iterator[tuple[str, str]]:
    """(new, baseline): the catalog at head, and a copy downgraded to 0002's indexes; `bench`
    (results, costs) goes into the new one only, after the copy."""
    server = make_url(settings.test_database_url)
    new, base = f"bench_catalog_{os.getpid()}", f"bench_catalog_{os.getpid()}_base"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    urls = [server.set(database=n).render_as_string(hide_password=False) for n in (new, base)]
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{new}"'))
        upgrade(urls[0])
        engine = create_engine(urls[0], poolclass=NullPool)
        with engine.begin() as conn:
            for start in range(0, len(rows), 5_000):
                conn.execute(insert(MlModel), rows[start : start + 5_000])
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE models"))
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{base}" TEMPLATE "{new}"'))
        engine = create_engine(urls[1], poolclass=NullPool)
        with engine.begin() as conn:
            config = alembic_config(urls[1])
            config.attributes["connection"] = conn
            command.downgrade(config, "0002")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE models"))
        engine.dispose()
        engine = create_engine(urls[0], poolclass=NullPool)
        with engine.begin() as conn:
            for table, values in zip((BenchmarkResult, ResultCost), bench, strict=True):
                for start in range(0, len(values), 5_000):
                    conn.execute(insert(table), values[start : start + 5_000])
            # What performance_rollups does after every load: the runs move out of the default
            # partition into their months (the layout production has), and the partitioned
            # parents get the statistics autovacuum never gathers for them.
            timeseries.ensure_partitions(conn)
            timeseries.analyze_partitioned(conn)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # Autovacuum's part (visibility maps for index-only scans), done now.
            conn.execute(text("VACUUM benchmark_results, result_costs"))
            conn.execute(text("ANALYZE result_costs"))
        engine.dispose()
        yield urls[0], urls[1]
    finally:
        with admin.connect() as conn:
            for name in (new, base):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- the queries ------------------------------------------------------------------------------


def query_mix(conn: Connection) -> list[tuple[str, ModelFilters, int]]:
    """(label, filters, depth): depth is the row a deep page starts at (cursor here, OFFSET in
    the baseline). Authors are picked from the data: the largest, and a middling one."""
    by_author = conn.execute(
        select(MlModel.author, func.count()).group_by(MlModel.author).order_by(func.count().desc())
    ).all()
    big, mid = by_author[0][0], by_author[len(by_author) // 3][0]
    f = ModelFilters
    return [
        ("default -downloads", f(), 0),
        ("sort -likes", f(sort=Sort.likes_desc), 0),
        ("sort -last_modified", f(sort=Sort.last_modified_desc), 0),
        ("sort downloads (asc)", f(sort=Sort.downloads), 0),
        ("task text-generation", f(task="text-generation"), 0),
        ("task text-to-video (rare)", f(task="text-to-video"), 0),
        ("task feature-extr. -likes", f(task="feature-extraction", sort=Sort.likes_desc), 0),
        (f"author {big} (largest)", f(author=big), 0),
        (f"author {mid}", f(author=mid, sort=Sort.last_modified_desc), 0),
        ("license apache-2.0", f(license="apache-2.0"), 0),
        ("license gemma -last_mod", f(license="gemma", sort=Sort.last_modified_desc), 0),
        ("params 7B..8B", f(min_params=7_000_000_000, max_params=8_000_000_000), 0),
        ("params >= 70B -likes", f(min_params=70_000_000_000, sort=Sort.likes_desc), 0),
        ("task+license+params", f(task="text-generation", license="mit", min_params=10**9), 0),
        ("q llama", f(q="llama"), 0),
        ("q xenova", f(q="xenova"), 0),
        ("q gguf -last_modified", f(q="gguf", sort=Sort.last_modified_desc), 0),
        ("q mistral-7b + task", f(q="mistral-7b", task="text-generation"), 0),
        ("q zephyr (rare)", f(q="zephyr"), 0),
        ("include_removed sort id", f(include_removed=True, sort=Sort.id), 0),
        ("source manifest (1%)", f(sources=("manifest",)), 0),
        ("source hf,manifest -likes", f(sources=("hf", "manifest"), sort=Sort.likes_desc), 0),
        ("gated (5%)", f(gated=True), 0),
        ("gated=false -last_modified", f(gated=False, sort=Sort.last_modified_desc), 0),
        ("updated_since 5 weeks", f(updated_since=SINCE), 0),
        ("updated_since -last_modified", f(updated_since=SINCE, sort=Sort.last_modified_desc), 0),
        (
            "source+gated+since+task",
            f(task="text-generation", sources=("hf",), gated=False, updated_since=SINCE),
            0,
        ),  # fmt: skip
        ("gated+removed+params", f(gated=True, include_removed=True, min_params=7 * 10**9), 0),
        ("page @5,000 (offset)", f(offset=5_000), 0),
        ("deep page @20,000", f(), 20_000),
        ("deep page @60,000", f(), 60_000),
        ("deep -last_mod @50,000", f(sort=Sort.last_modified_desc), 50_000),
        ("deep task @10,000", f(task="text-generation"), 10_000),
        ("deep source hf @20,000", f(sources=("hf",)), 20_000),
        ("deep gated=false @20,000", f(gated=False), 20_000),
    ]


def bench_mix() -> list[tuple[str, ModelFilters, int]]:
    """The web UI's benchmark filters (new database only); `measured` deep page by cursor."""
    f, b = ModelFilters, BenchFilters
    return [
        ("measured", f(bench=b(measured=True)), 0),
        (f"gpu {H100}", f(bench=b(gpu=H100)), 0),
        ("max_p95_ms 25", f(bench=b(max_p95_ms=25)), 0),
        ("max_cost 0.2 spot", f(bench=b(max_cost_per_mtok=0.2)), 0),
        ("max_cost 0.2 on_demand", f(bench=b(max_cost_per_mtok=0.2, pricing=Pricing.on_demand)), 0),
        ("measured+task+gpu+p95+cost", f(task="text-generation", bench=b(
            gpu=H100, max_p95_ms=25, max_cost_per_mtok=0.5, measured=True)), 0),
        ("deep measured @1,000", f(bench=b(measured=True)), 1_000),
    ]  # fmt: skip


def with_cursor(conn: Connection, f: ModelFilters, depth: int) -> ModelFilters:
    """`f` continuing after row `depth - 1` of its listing (found by the new code, untimed)."""
    if not depth:
        return f
    walk = f
    while depth > 0:  # pages of 500, the API's largest, to the row before `depth`
        listing = repository.list_models(conn, replace(walk, limit=min(500, depth)))
        last, depth = listing.rows[-1], depth - len(listing.rows)
        value = None if f.sort.field == "id" else getattr(last, f.sort.field)
        walk = replace(walk, after=Cursor(value, last.id))
    return replace(walk, limit=f.limit)


def old_list_models(conn: Connection, f: ModelFilters, depth: int) -> None:
    """The code this change replaced: exact COUNT(*), then ORDER BY ... OFFSET."""
    conditions = repository._conditions(f)
    conn.scalar(select(func.count()).select_from(MlModel).where(*conditions))
    column = repository._SORT_COLUMNS[f.sort.field]
    primary = column.desc() if f.sort.descending else column.asc()
    order = [primary.nulls_last(), MlModel.id.asc()] if f.sort.field != "id" else [primary]
    query = select(*repository._LISTED).where(*conditions).order_by(*order)
    conn.execute(query.limit(f.limit).offset(f.offset + depth)).all()


def api_params(f: ModelFilters) -> dict:
    params = {k: v for k in ("task", "author", "license", "min_params", "max_params", "q")
              if (v := getattr(f, k)) is not None}  # fmt: skip
    params |= {"sort": f.sort.value, "limit": f.limit, "include_removed": f.include_removed}
    if f.sources:
        params["source"] = ",".join(f.sources)
    if f.gated is not None:
        params["gated"] = f.gated
    if f.updated_since is not None:
        params["updated_since"] = f.updated_since.isoformat()
    if f.offset:
        params["offset"] = f.offset
    if f.bench is not None:
        b = f.bench
        params |= {k: v for k in ("gpu", "max_p95_ms", "max_cost_per_mtok")
                   if (v := getattr(b, k)) is not None}  # fmt: skip
        params |= {"pricing": b.pricing.value, "measured": b.measured}
    if f.after is not None:
        params["cursor"] = encode_cursor(f, f.after.value, f.after.id)
    return params


# -- timing -----------------------------------------------------------------------------------


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def time_sql(url: str, run: Callable[[Connection], object]) -> tuple[list[float], list[float]]:
    """(cold, warm) milliseconds of `run`; cold on fresh connections, connecting untimed."""
    engine = create_engine(url, poolclass=NullPool)
    cold = []
    for _ in range(COLD_RUNS):
        with engine.connect() as conn:
            cold.append(timed(lambda conn=conn: run(conn)))
    with engine.connect() as conn:
        run(conn)
        warm = [timed(lambda: run(conn)) for _ in range(WARM_RUNS)]
    engine.dispose()
    return cold, warm


async def time_api(url: str, params: dict) -> tuple[list[float], list[float]]:
    app = FastAPI()
    errors.install(app)
    app.include_router(router.router)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    app.state.database = Database(engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def get() -> float:
            start = time.perf_counter()
            response = await client.get("/models", params=params)
            assert response.status_code == 200, response.text
            return (time.perf_counter() - start) * 1000

        cold = []
        for _ in range(COLD_RUNS):
            engine.dispose()  # the next request opens a new connection
            cold.append(await get())
        await get()
        warm = [await get() for _ in range(WARM_RUNS)]
    engine.dispose()
    return cold, warm


def pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def explain(url: str, f: ModelFilters) -> str:
    """The plans of the statements the new code runs for `f` (page runs and the count)."""
    engine = create_engine(url, poolclass=NullPool)
    statements = []
    conditions = repository._conditions(f)
    for extra, order in repository._runs(f):
        query = select(*repository._LISTED).where(*conditions, *extra).order_by(*order)
        statements.append(query.limit(f.limit + 1).offset(f.offset or None))
    matching = select(1).select_from(MlModel).where(*conditions).limit(repository.COUNT_CAP + 1)
    statements.append(select(func.count()).select_from(matching.subquery()))
    out = []
    with engine.connect() as conn:
        for statement in statements:
            # render_postcompile: `source` is an IN list, a placeholder only SQLAlchemy expands.
            compiled = statement.compile(
                dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
            )
            plan = conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + compiled.string, compiled.params
            ).scalars()
            out.append("\n".join(plan))
    engine.dispose()
    return "\n---\n".join(out)


def main() -> None:
    settings = Settings(database_url=None, redis_url=None)
    started = time.perf_counter()
    rows = synthetic_catalog(N_MODELS)
    bench = synthetic_benchmarks(rows)
    print(
        f"{len(rows):,} models, {len(bench[0]):,} benchmark results of "
        f"{len({r['model_id'] for r in bench[0]}):,} models "
        f"({len({r['result_key'] for r in bench[0]}):,} configurations) and their costs "
        f"generated in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    with scratch_databases(settings, rows, bench) as (new_url, base_url):
        print(f"loaded, migrated, copied, analysed: {time.perf_counter() - started:.1f} s\n")
        with create_engine(new_url, poolclass=NullPool).connect() as conn:
            mix = [
                (label, with_cursor(conn, f, depth), f, depth)
                for label, f, depth in query_mix(conn)
            ]
            ui_mix = [
                (label, with_cursor(conn, f, depth), repository.list_models(conn, f).count)
                for label, f, depth in bench_mix()
            ]
        results = []
        for label, f, plain, depth in mix:
            new = time_sql(new_url, lambda conn, f=f: repository.list_models(conn, f))
            api = asyncio.run(time_api(new_url, api_params(f)))
            base = time_sql(base_url, lambda conn, f=plain, d=depth: old_list_models(conn, f, d))
            results.append((label, f, new, api, base))
        report(results)
        slowest = max(results, key=lambda r: max(r[2][0]))
        print(f"\nslowest new query (cold): {slowest[0]}\n{explain(new_url, slowest[1])}")
        ui_results = []
        for label, f, matches in ui_mix:
            new = time_sql(new_url, lambda conn, f=f: repository.list_models(conn, f))
            api = asyncio.run(time_api(new_url, api_params(f)))
            ui_results.append((label, f, matches, new, api))
        report_bench(ui_results)
        report_lineage(new_url)
        label, f, _, (cold, _), _ = max(ui_results, key=lambda r: pct(r[3][0], 95))
        if pct(cold, 95) > GOAL_MS:
            print(f"\nslowest benchmark filter (cold p95 {pct(cold, 95):.1f} ms): {label}")
            print(explain(new_url, f))


def lineage_mix(conn: Connection) -> list[tuple[str, str]]:
    """(label, model id): the listed base with the most children, one at the median, a leaf."""
    named = func.unnest(MlModel.base_models).table_valued("base").render_derived(name="named")
    children = (
        select(named.c.base, func.count().label("n"))
        .select_from(MlModel)
        .join(named, text("true"))
        .where(MlModel.removed_at.is_(None))
        .group_by(named.c.base)
        .subquery()
    )
    bases = conn.execute(
        select(children.c.base, children.c.n)
        .join(MlModel, MlModel.id == children.c.base)
        .order_by(children.c.n.desc(), children.c.base)
    ).all()
    leaf = conn.scalar(
        select(MlModel.id).where(MlModel.base_models != []).order_by(MlModel.id).limit(1)
    )
    (top, most), (middle, median) = bases[0], bases[len(bases) // 2]
    return [
        (f"largest base ({most:,} children)", top),
        (f"median base ({median:,} children)", middle),
        ("a child (no children)", leaf),
    ]


def report_lineage(url: str) -> None:
    """The model page's lineage: children through the GIN index, per page and for every page."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        mix = lineage_mix(conn)
        started = time.perf_counter()
        families = lineage.of_all_models(conn)
        bulk_s = time.perf_counter() - started
        top = mix[0][1]
        statement = lineage.children_query(top).compile(dialect=conn.dialect)
        plan = "\n".join(
            conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement.string, statement.params
            ).scalars()
        )
    engine.dispose()
    print("\nmodel page lineage (children by `base_models @> ARRAY[id]`; the whole page from PG)")
    head = f"{'model':34} {'lineage cold p50/p95/max ms':>28} {'warm p50':>8} {'page cold p95':>13}"
    print(head + "\n" + "-" * len(head))
    for label, model_id in mix:

        def family(conn: Connection, model_id: str = model_id) -> object:
            return lineage.of_model(conn, repository.get_model(conn, model_id))

        cold, warm = time_sql(url, family)
        page_cold, _ = time_sql(url, lambda conn, m=model_id: pages.model_page(conn, m))
        print(
            f"{label[:34]:34} {pct(cold, 50):8.1f} {pct(cold, 95):9.1f} {max(cold):9.1f} "
            f"{pct(warm, 50):8.1f} {pct(page_cold, 95):13.1f}"
        )
    uses = "uses" if "ix_models_base_models" in plan else "does NOT use"
    print(f"\nchildren of {top}: the plan {uses} ix_models_base_models\n{plan}")
    print(
        f"\nevery model's lineage for the serving cache (of_all_models, one pass): "
        f"{bulk_s:.2f} s; {len(families.children):,} bases with children, "
        f"{len(families.known):,} named bases in the catalog"
    )


def report(results: list) -> None:
    head = (
        f"{'query':28} {'new cold p50/p95/max ms':>24} {'warm p50':>8} {'API cold p50/p95':>17}"
        f" {'API warm':>8} {'old cold p50/p95/max ms':>24} {'old warm':>8} {'old/new p95':>11}"
    )
    print(head + "\n" + "-" * len(head))

    def cells(v: list[float]) -> str:
        return f"{pct(v, 50):6.1f} {pct(v, 95):7.1f} {max(v):7.1f}"

    all_new, all_api, all_base = [], [], []
    for label, _, (cold, warm), (api_cold, api_warm), (b_cold, b_warm) in results:
        all_new += cold
        all_api += api_cold
        all_base += b_cold
        ratio = pct(b_cold, 95) / pct(cold, 95)
        print(
            f"{label[:28]:28} {cells(cold):>24} {pct(warm, 50):8.1f} "
            f"{pct(api_cold, 50):8.1f} {pct(api_cold, 95):8.1f} {pct(api_warm, 50):8.1f} "
            f"{cells(b_cold):>24} {pct(b_warm, 50):8.1f} {ratio:10.1f}x"
        )
    print("-" * len(head))
    print(f"{'ALL (cold, every sample)':28} {cells(all_new):>24} {'':8} {pct(all_api, 50):8.1f} "
          f"{pct(all_api, 95):8.1f} {'':8} {cells(all_base):>24} {'':8} "
          f"{pct(all_base, 95) / pct(all_new, 95):10.1f}x")  # fmt: skip
    verdict = "met" if pct(all_new, 95) <= GOAL_MS else "NOT met"
    print(
        f"\ngoal cold p95 <= {GOAL_MS:.0f} ms through the repository: {verdict} "
        f"({pct(all_new, 95):.1f} ms; through the API {pct(all_api, 95):.1f} ms)"
    )


def report_bench(results: list) -> None:
    """The benchmark filters: new code only (the baseline database predates them, no ratio)."""
    print(
        "\nbenchmark filters (new database only: the baseline predates these filters, "
        "so no old columns and no ratio)"
    )
    head = (
        f"{'query':28} {'matches':>7} {'new cold p50/p95/max ms':>24} {'warm p50':>8}"
        f" {'API cold p50/p95/max ms':>24} {'API warm':>8}"
    )
    print(head + "\n" + "-" * len(head))

    def cells(v: list[float]) -> str:
        return f"{pct(v, 50):6.1f} {pct(v, 95):7.1f} {max(v):7.1f}"

    all_new, all_api = [], []
    for label, _, matches, (cold, warm), (api_cold, api_warm) in results:
        all_new += cold
        all_api += api_cold
        print(
            f"{label[:28]:28} {matches:7,} {cells(cold):>24} {pct(warm, 50):8.1f} "
            f"{cells(api_cold):>24} {pct(api_warm, 50):8.1f}"
        )
    print("-" * len(head))
    print(f"{'ALL (cold, every sample)':28} {'':7} {cells(all_new):>24} {'':8} "
          f"{cells(all_api):>24}")  # fmt: skip
    for goal, what in ((UI_GOAL_MS, "web UI"), (GOAL_MS, "catalog")):
        worst = max(pct(api_cold, 95) for *_, (api_cold, _) in results)
        verdict = "met" if pct(all_api, 95) <= goal and worst <= goal else "NOT met"
        print(
            f"{what} goal API cold p95 <= {goal:.0f} ms: {verdict} (all samples "
            f"{pct(all_api, 95):.1f} ms, worst query {worst:.1f} ms; repository "
            f"{pct(all_new, 95):.1f} ms)"
        )


if __name__ == "__main__":
    main()
