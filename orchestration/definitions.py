"""The only `Definitions` of the project (loaded by workspace.yaml)."""

import dagster as dg

from assets.benchmarks import assets as benchmark_assets
from assets.benchmarks import checks as benchmark_checks
from assets.costs import assets as cost_assets
from assets.costs import checks as cost_checks
from assets.recommendations import assets as recommendation_assets
from assets.recommendations import checks as recommendation_checks
from assets.registry import assets as registry_assets
from assets.registry import checks as registry_checks
from assets.serving_cache import assets as serving_cache_assets
from assets.serving_cache import checks as serving_cache_checks
from orchestration.jobs import catalog_job, registry_sync_job
from orchestration.schedules import daily_registry_sync
from resources.mode import build_resources
from resources.settings import get_settings

_ASSET_MODULES = [
    registry_assets, benchmark_assets, cost_assets, recommendation_assets, serving_cache_assets,
]  # fmt: skip
_CHECK_MODULES = [
    registry_checks, benchmark_checks, cost_checks, recommendation_checks, serving_cache_checks,
]  # fmt: skip


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules(_ASSET_MODULES),
        asset_checks=dg.load_asset_checks_from_modules(_CHECK_MODULES),
        jobs=[catalog_job, registry_sync_job],
        schedules=[daily_registry_sync],
        resources=build_resources(get_settings()),
        # The multiprocess executor costs 5-8 s per step on 2 cores (DESIGN §9).
        executor=dg.in_process_executor,
    )


defs = build_definitions()
