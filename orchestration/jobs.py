"""Jobs: the whole catalog, and the daily registry sync."""

import dagster as dg

# The whole graph, checks included.
catalog_job = dg.define_asset_job("catalog_job", selection=dg.AssetSelection.all())

# The registry and everything that depends on it, so the catalog the API serves stays current.
registry_sync_job = dg.define_asset_job(
    "registry_sync_job",
    selection=dg.AssetSelection.groups("registry").downstream(),
)
