"""GPU catalog, GPU prices (time series) and the cost of every benchmark result."""

import dagster as dg
import pandas as pd
from sqlalchemy import select

from assets.common.metadata import markdown_table
from assets.costs.cost import price_window
from assets.costs.gpus import gpu_specs
from assets.costs.instances import parse_instances
from assets.costs.prices import parse_price_dir
from assets.costs.pricing import SpotPolicy, result_costs
from resources.database import DatabaseResource
from resources.datasets import DatasetsResource
from resources.db.tables import BenchmarkResult, Gpu, GpuInstance, GpuPrice, ResultCost
from resources.db.upsert import upsert
from resources.settings import get_settings


@dg.asset(group_name="costs", kinds={"python", "postgres"})
def gpu_catalog(database: DatabaseResource) -> dg.MaterializeResult:
    """GPU specs (memory, bandwidth, dense bf16/fp8 TFLOPs, TDP; public spec-sheet facts) under
    one canonical name per GPU, with the aliases each data source uses."""
    rows = gpu_specs()
    with database.begin() as conn:
        written = upsert(conn, Gpu.__table__, rows)
    columns = ["name", "memory_gb", "memory_bandwidth_gbps", "bf16_dense_tflops", "tdp_watts"]
    return dg.MaterializeResult(
        metadata={
            "rows": len(rows),
            "rows_written": written,
            "gpus": dg.MetadataValue.md(markdown_table(rows, columns)),
        }  # fmt: skip
    )


@dg.asset(group_name="costs", kinds={"python", "postgres"}, deps=[gpu_catalog])
def gpu_instances(database: DatabaseResource, datasets: DatasetsResource) -> dg.MaterializeResult:
    """Cloud instance types (AWS, Azure, GCP, Alibaba, OVH; SpareCores data) mapped to their GPU
    model and count; instance types whose GPU has no canonical name are stored with none."""
    catalog = parse_instances(datasets.cloud_instances)
    with database.begin() as conn:
        written = upsert(conn, GpuInstance.__table__, catalog.rows)
    unknown = sorted({u["raw_gpu"] or "(none)" for u in catalog.unknown_gpus})
    return dg.MaterializeResult(
        metadata={
            "rows": len(catalog.rows),
            "rows_written": written,
            "mapped_share": round(catalog.mapped_share, 3),
            "inactive_skipped": catalog.inactive,
            "unmapped_gpu_names": dg.MetadataValue.json(unknown),
        }
    )


@dg.asset(group_name="costs", kinds={"python", "postgres"}, deps=[gpu_catalog])
def gpu_prices(database: DatabaseResource, datasets: DatasetsResource) -> dg.MaterializeResult:
    """GPU rental prices in $/GPU-hour as a time series per (GPU, provider, region, pricing),
    from the real marketplace tracker data (a snapshot about every 30 minutes)."""
    rows = parse_price_dir(datasets.gpu_prices)  # a bad line fails before anything is written
    with database.begin() as conn:
        written = upsert(conn, GpuPrice.__table__, rows)
    frame = pd.DataFrame(rows)
    span = frame.groupby("gpu")["observed_at"].agg(["min", "max", "count"]).reset_index()
    return dg.MaterializeResult(
        metadata={
            "rows": len(rows),
            "rows_written": written,
            "gpus": dg.MetadataValue.md(
                markdown_table(span.to_dict("records"), ["gpu", "min", "max", "count"])
            ),
        }  # fmt: skip
    )


@dg.asset(
    group_name="costs", kinds={"python", "postgres"}, deps=[gpu_prices, "published_benchmarks"]
)
def cost_per_token(database: DatabaseResource) -> dg.MaterializeResult:
    """$ per 1M outputs (tokens, images, videos) for every benchmark result, at on-demand and
    spot prices: p50 of the marketplace median over the last `price_window_days` of data, spot
    adjusted for interruptions and restart overhead."""
    settings = get_settings()
    with database.begin() as conn:
        prices = pd.DataFrame(conn.execute(select(GpuPrice.__table__)).mappings().all())
        results = pd.DataFrame(
            conn.execute(
                select(BenchmarkResult.result_key, BenchmarkResult.measured_at, BenchmarkResult.gpu,
                       BenchmarkResult.num_gpus, BenchmarkResult.output_throughput)
            ).mappings().all()
        )  # fmt: skip
        # The window ends at the newest observation: the real data is not from today.
        windows = price_window(
            prices, end=prices["observed_at"].max(), days=settings.price_window_days
        )
        policy = SpotPolicy(settings.spot_discount, settings.spot_interruptions_per_hour,
                            settings.spot_restart_overhead_minutes)  # fmt: skip
        rows = result_costs(results, windows, policy)
        written = upsert(conn, ResultCost.__table__, rows)
    unpriced = sorted(set(results["gpu"]) - {r["gpu"] for r in rows})
    savings = pd.Series([r["spot_saving_pct"] for r in rows], dtype=float)
    return dg.MaterializeResult(
        metadata={
            "rows": len(rows),
            "rows_written": written,
            "unpriced_gpus": dg.MetadataValue.json(unpriced),
            "spot_saving_pct_median": float(savings.median()) if len(savings) else 0.0,
            "price_windows": dg.MetadataValue.md(
                markdown_table(windows.to_dict("records"), ["gpu", "pricing", "p50", "p90", "n"])
            ),
        }  # fmt: skip
    )
