"""The only `Definitions` of the project (loaded by workspace.yaml)."""

import dagster as dg

from orchestration import sensors
from orchestration.jobs import benchmark_run_job, catalog_job, registry_sync_job
from orchestration.modules import ASSET_MODULES, CHECK_MODULES
from orchestration.schedules import daily_registry_sync
from resources.mode import build_resources
from resources.settings import get_settings


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules(ASSET_MODULES),
        asset_checks=dg.load_asset_checks_from_modules(CHECK_MODULES),
        jobs=[catalog_job, registry_sync_job, benchmark_run_job],
        schedules=[daily_registry_sync],
        sensors=[
            sensors.benchmark_plan_sensor,
            sensors.benchmark_request_sensor,
            sensors.benchmark_request_succeeded,
            sensors.benchmark_request_failed,
            sensors.benchmark_regression_alert,
        ],
        resources=build_resources(get_settings()),
        # The multiprocess executor costs 5-8 s per step on 2 cores (DESIGN §9).
        executor=dg.in_process_executor,
    )


defs = build_definitions()
