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

The stages live in bench/catalog/: seed.py and seed_results.py (the synthetic data),
scratch.py (the databases), mix.py (the queries), timing.py and report.py.
"""

import asyncio
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

# `bench.catalog` is not part of the installed distribution: import it from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog.mix import (  # noqa: E402
    api_params,
    bench_mix,
    old_list_models,
    query_mix,
    with_cursor,
)
from bench.catalog.report import GOAL_MS, report, report_bench, report_lineage  # noqa: E402
from bench.catalog.scratch import scratch_databases  # noqa: E402
from bench.catalog.seed import N_MODELS, synthetic_catalog  # noqa: E402
from bench.catalog.seed_results import synthetic_benchmarks  # noqa: E402
from bench.catalog.timing import explain, pct, time_api, time_sql  # noqa: E402
from resources.settings import Settings  # noqa: E402
from serving.models import repository  # noqa: E402


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


if __name__ == "__main__":
    main()
