"""The asset and check modules of the catalog: one list, read by the Definitions and by the
graph snapshot test (importing it builds no resources)."""

from assets.benchmarks import assets as benchmark_assets
from assets.benchmarks import checks as benchmark_checks
from assets.benchmarks import run_assets as benchmark_run_assets
from assets.costs import assets as cost_assets
from assets.costs import checks as cost_checks
from assets.exports import assets as export_assets
from assets.exports import checks as export_checks
from assets.recommendations import assets as recommendation_assets
from assets.recommendations import checks as recommendation_checks
from assets.registry import assets as registry_assets
from assets.registry import checks as registry_checks
from assets.rollups import assets as rollup_assets
from assets.rollups import checks as rollup_checks
from assets.serving_cache import assets as serving_cache_assets
from assets.serving_cache import checks as serving_cache_checks

ASSET_MODULES = [
    registry_assets, benchmark_assets, benchmark_run_assets, cost_assets, recommendation_assets,
    serving_cache_assets, rollup_assets, export_assets,
]  # fmt: skip
CHECK_MODULES = [
    registry_checks, benchmark_checks, cost_checks, recommendation_checks, serving_cache_checks,
    rollup_checks, export_checks,
]  # fmt: skip
