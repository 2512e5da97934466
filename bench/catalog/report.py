"""The tables bench_catalog.py prints: the listing against the baseline, the benchmark
filters, and the model page's lineage."""

import time

from sqlalchemy import Connection, create_engine
from sqlalchemy.pool import NullPool

from bench.catalog.mix import lineage_mix
from bench.catalog.timing import pct, time_sql
from serving.models import lineage, pages, repository

GOAL_MS = 50.0
UI_GOAL_MS = 500.0  # the web UI: filters update in under 500 ms


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
