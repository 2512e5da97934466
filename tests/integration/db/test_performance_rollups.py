"""The `performance_rollups` asset and its check, on both storage layouts."""

from datetime import date

import dagster as dg
from sqlalchemy import Engine

from assets.rollups.assets import performance_rollups
from assets.rollups.checks import performance_rollups_cover_every_row
from resources.database import DatabaseResource
from resources.db.tables import BenchmarkResult, ModelSnapshot
from tests.integration.db.series_data import benchmark_rows, snapshot_rows, upsert_batches


def _seed(engine: Engine) -> tuple[int, int]:
    rows = benchmark_rows([date(2025, 2, 3), date(2025, 2, 4)], 3)
    snapshots = snapshot_rows(date(2025, 1, 1), 40)
    with engine.begin() as conn:
        upsert_batches(conn, BenchmarkResult.__table__, rows)
        upsert_batches(conn, ModelSnapshot.__table__, snapshots)
    return len(rows), len(snapshots)


def _materialize(engine: Engine) -> dg.ExecuteInProcessResult:
    url = engine.url.render_as_string(hide_password=False)
    return dg.materialize(
        [performance_rollups, performance_rollups_cover_every_row],
        resources={"database": DatabaseResource(url=url)},
    )


def _metadata(result: dg.ExecuteInProcessResult) -> dict:
    [materialization] = result.asset_materializations_for_node("performance_rollups")
    return {key: value.value for key, value in materialization.metadata.items()}


def test_native_rollups_refresh_and_cover_every_row(clean_db: Engine):
    runs, snapshots = _seed(clean_db)
    result = _materialize(clean_db)
    assert result.success
    metadata = _metadata(result)
    assert metadata["storage"] == "native partitions"
    # One rollup row per day x model x GPU x config; one per model and day.
    assert metadata["rows_benchmark_results_daily"] == runs // 3
    assert metadata["rows_model_snapshots_daily"] == snapshots
    assert "| 2025-02-04 | org/alpha-7b |" in metadata["latest_days"]
    [check] = result.get_asset_check_evaluations()
    assert check.passed, check.metadata


def test_timescale_rollups_refresh_and_cover_every_row(timescale_db: Engine):
    runs, snapshots = _seed(timescale_db)
    result = _materialize(timescale_db)
    assert result.success
    metadata = _metadata(result)
    assert metadata["storage"] == "timescaledb"
    assert metadata["partitions_created"] == []
    assert metadata["rows_benchmark_results_daily"] == runs // 3
    assert metadata["rows_model_snapshots_daily"] == snapshots
    [check] = result.get_asset_check_evaluations()
    assert check.passed, check.metadata
