"""Jobs: the whole catalog, the daily registry sync, and one benchmark run per partition."""

import dagster as dg

# Own benchmark runs are partitioned by (model, GPU); a job cannot mix partitioned and
# unpartitioned assets, and a GPU run is never something to start by materialising "everything".
_BENCHMARK_RUNS = dg.AssetSelection.assets("benchmark_runs")

# The whole graph, checks included, except the partitioned benchmark runs.
catalog_job = dg.define_asset_job(
    "catalog_job", selection=dg.AssetSelection.all() - _BENCHMARK_RUNS
)

# The registry and everything that depends on it, so the catalog the API serves stays current.
registry_sync_job = dg.define_asset_job(
    "registry_sync_job",
    selection=dg.AssetSelection.groups("registry").downstream() - _BENCHMARK_RUNS,
)

# One own benchmark run: a (model, GPU) partition, requested by the API queue or by hand
# (partitioning is inferred from the asset).
benchmark_run_job = dg.define_asset_job("benchmark_run_job", selection=_BENCHMARK_RUNS)
