"""Checks on GPU specs, prices and costs."""

import dagster as dg

from resources.database import DatabaseResource


@dg.asset_check(asset="gpu_catalog", description="Every GPU that a benchmark result or a price "
                "names is in the catalog.")  # fmt: skip
def gpu_catalog_covers_the_data(database: DatabaseResource) -> dg.AssetCheckResult:
    missing = database.scalar(
        "SELECT count(DISTINCT g) FROM (SELECT gpu AS g FROM benchmark_results "
        "UNION SELECT gpu FROM gpu_prices) used LEFT JOIN gpus ON gpus.name = used.g "
        "WHERE gpus.name IS NULL"
    )
    return dg.AssetCheckResult(passed=missing == 0, metadata={"unknown_gpus": missing})


@dg.asset_check(asset="gpu_prices", description="Prices are positive and no tick is more than "
                "10x its GPU's median (a unit or parsing error).")  # fmt: skip
def gpu_prices_are_plausible(database: DatabaseResource) -> dg.AssetCheckResult:
    outliers = database.scalar(
        "WITH m AS (SELECT gpu, percentile_cont(0.5) WITHIN GROUP (ORDER BY usd_per_gpu_hour)"
        " AS p50 FROM gpu_prices GROUP BY gpu) SELECT count(*) FROM gpu_prices p JOIN m USING (gpu)"
        " WHERE p.usd_per_gpu_hour <= 0 OR p.usd_per_gpu_hour > 10 * m.p50"
    )
    return dg.AssetCheckResult(passed=outliers == 0, metadata={"implausible_prices": outliers})


@dg.asset_check(asset="cost_per_token", description="Spot is cheaper than on-demand for every "
                "priced result, and every result on a priced GPU has a cost.")  # fmt: skip
def cost_per_token_is_complete(database: DatabaseResource) -> dg.AssetCheckResult:
    not_cheaper = database.scalar(
        "SELECT count(*) FROM result_costs WHERE usd_per_million_spot >= usd_per_million_on_demand"
    )
    unpriced = database.scalar(
        "SELECT count(*) FROM benchmark_results r WHERE r.gpu IN (SELECT gpu FROM gpu_prices) "
        "AND NOT EXISTS (SELECT 1 FROM result_costs c WHERE c.result_key = r.result_key "
        "AND c.measured_at = r.measured_at)"
    )
    return dg.AssetCheckResult(
        passed=not_cheaper == 0 and unpriced == 0,
        metadata={"spot_not_cheaper": not_cheaper, "unpriced_results": unpriced},
    )


@dg.asset_check(asset="gpu_instances", description="Every mapped instance names a GPU of the "
                "catalog and carries at least one GPU.")  # fmt: skip
def gpu_instances_map_to_the_catalog(database: DatabaseResource) -> dg.AssetCheckResult:
    bad = database.scalar(
        "SELECT count(*) FROM gpu_instances i LEFT JOIN gpus g ON g.name = i.gpu "
        "WHERE (i.gpu IS NOT NULL AND g.name IS NULL) OR i.gpu_count < 1"
    )
    mapped = database.scalar("SELECT count(*) FROM gpu_instances WHERE gpu IS NOT NULL")
    return dg.AssetCheckResult(passed=bad == 0 and mapped > 0,
                               metadata={"bad_rows": bad, "mapped_instances": mapped})  # fmt: skip
