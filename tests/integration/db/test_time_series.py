"""Time-series storage on plain PostgreSQL (no TimescaleDB): migration 0007's native path.

Monthly range partitions with a default partition, BRIN on the time column, materialized
rollups refreshed by `refresh_rollups`, partitions created ahead and expired ones dropped, and a
downgrade that gives back plain tables with every row.
"""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text

from resources.db import timeseries
from resources.db.migrate import upgrade
from resources.db.tables import BenchmarkResult, ModelSnapshot
from resources.db.upsert import upsert
from tests.integration.db.series_data import (
    benchmark_rows,
    downgrade,
    expected_benchmark_rollup,
    rollup_key,
    snapshot_rows,
)

RESULTS = BenchmarkResult.__table__
SNAPSHOTS = ModelSnapshot.__table__
ORIGINAL_INDEXES = {
    "benchmark_results": {"pk_benchmark_results", "ix_benchmark_results_model",
                          "ix_benchmark_results_task_gpu"},
    "model_snapshots": {"pk_model_snapshots", "ix_model_snapshots_date"},
    "gpu_prices": {"pk_gpu_prices", "ix_gpu_prices_gpu_time"},
    "benchmark_request_timings": {"pk_benchmark_request_timings"},
}  # fmt: skip


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _indexes(conn, table: str) -> dict[str, str]:
    query = text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t")
    return dict(conn.execute(query, {"t": table}).all())


def found_tables(conn) -> list[str]:
    return [series.table for series in timeseries.partitioned_tables(conn)]


def _partition_of(conn, table: str, where: str) -> str:
    return conn.scalar(text(f"SELECT tableoid::regclass::text FROM {table} WHERE {where}"))


def test_time_series_tables_are_monthly_partitions_with_brin_and_a_default(engine: Engine):
    with engine.connect() as conn:
        assert not timeseries.has_timescale(conn)
        found = {s.table: s for s in timeseries.partitioned_tables(conn)}
        assert set(found) == set(timeseries.TIME_SERIES_TABLES)
        assert found["model_snapshots"].is_date and not found["benchmark_results"].is_date
        for table, series in found.items():
            indexes = _indexes(conn, table)
            assert ORIGINAL_INDEXES[table] <= set(indexes), table
            brin = indexes[f"ix_{table}_{series.column}_brin"]
            assert f"USING brin ({series.column})" in brin
            default = timeseries.DEFAULT_PARTITION.format(table=table)
            assert conn.scalar(text("SELECT to_regclass(:n)"), {"n": default}) is not None
        primary_key = "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :n"
        pk = conn.scalar(text(primary_key), {"n": "pk_benchmark_results"})
        assert pk == "PRIMARY KEY (result_key, measured_at)"
        kinds = "SELECT relname, relkind FROM pg_class WHERE relname = ANY(:n)"
        assert dict(conn.execute(text(kinds), {"n": list(timeseries.ROLLUPS)}).all()) == {
            name: "m" for name in timeseries.ROLLUPS
        }


def test_rows_land_in_their_month_and_the_default_catches_the_rest(fresh_engine: Engine):
    upgrade(_url(fresh_engine))
    rows = benchmark_rows([date(2025, 1, 15), date(2025, 3, 2), date(2024, 11, 20)], 1)
    far = dict(rows[0], result_key="far-future", measured_at=datetime(2031, 5, 5, tzinfo=UTC))
    rows.append(far)
    with fresh_engine.begin() as conn:
        created = timeseries.ensure_partitions(conn, today=date(2025, 1, 10))
        months = [f"p2025_0{m}" for m in (1, 2, 3, 4)]
        assert sorted(created) == sorted(f"{t}_{m}" for t in found_tables(conn) for m in months)
        assert upsert(conn, RESULTS, rows) == len(rows)
        assert upsert(conn, RESULTS, rows) == 0  # ON CONFLICT finds rows in every partition
        at = "measured_at = '{}'"
        assert _partition_of(conn, "benchmark_results", at.format("2025-03-02 01:07+00")) == (
            "benchmark_results_p2025_03"
        )
        assert _partition_of(conn, "benchmark_results", at.format("2024-11-20 01:07+00")) == (
            "benchmark_results_default"
        )
        # The next run gives November its partition and moves its rows; 2031 stays put.
        created = timeseries.ensure_partitions(conn, today=date(2025, 1, 10))
        assert "benchmark_results_p2024_11" in created
        assert not [name for name in created if "2031" in name]
        assert _partition_of(conn, "benchmark_results", at.format("2024-11-20 01:07+00")) == (
            "benchmark_results_p2024_11"
        )
        assert _partition_of(conn, "benchmark_results", "result_key = 'far-future'") == (
            "benchmark_results_default"
        )
        assert conn.scalar(text("SELECT count(*) FROM benchmark_results")) == len(rows)
        assert timeseries.ensure_partitions(conn, today=date(2025, 1, 10)) == []
        changed = [dict(rows[-2], energy_per_output_j=9.5)]
        assert upsert(conn, RESULTS, rows[:-2] + changed + rows[-1:]) == 1


def test_rollups_refresh_to_the_daily_percentiles(clean_db: Engine):
    rows = benchmark_rows([date(2025, 2, 3), date(2025, 2, 4)])
    snapshots = snapshot_rows(date(2025, 2, 1), 10)
    with clean_db.begin() as conn:
        upsert(conn, RESULTS, rows)
        upsert(conn, SNAPSHOTS, snapshots)
        counts = timeseries.refresh_rollups(conn)
        daily = conn.execute(text("SELECT * FROM benchmark_results_daily")).all()
        popularity = conn.execute(text("SELECT * FROM model_snapshots_daily")).all()
    expected = expected_benchmark_rollup(rows)
    assert counts == {"benchmark_results_daily": len(expected), "model_snapshots_daily": 20}
    assert {rollup_key(row): row.runs for row in daily} == {
        key: values["runs"] for key, values in expected.items()
    }
    for row in daily:
        for column, value in expected[rollup_key(row)].items():
            assert getattr(row, column) == pytest.approx(value), column
    assert sorted((r.day, r.model_id, r.downloads, r.likes) for r in popularity) == sorted(
        (s["snapshot_date"], s["model_id"], s["downloads"], s["likes"]) for s in snapshots
    )


def test_downgrade_gives_back_plain_tables_and_upgrade_partitions_their_rows(
    fresh_engine: Engine,
):
    upgrade(_url(fresh_engine))
    rows = benchmark_rows([date(2025, 1, 15), date(2025, 3, 2)], 2)
    with fresh_engine.begin() as conn:
        upsert(conn, RESULTS, rows)
        upsert(conn, SNAPSHOTS, snapshot_rows(date(2025, 1, 30), 5))
    downgrade(fresh_engine, "0006")
    with fresh_engine.connect() as conn:
        kinds = dict(conn.execute(text("SELECT relname, relkind FROM pg_class")).all())
        assert [kinds.get(t) for t in ("benchmark_results", "model_snapshots", "gpu_prices")] == [
            "r", "r", "r",
        ]  # fmt: skip
        assert "benchmark_request_timings" not in kinds and "benchmark_results_daily" not in kinds
        assert not [name for name in kinds if "_p2025_" in name or name.endswith("_default")]
        assert set(_indexes(conn, "benchmark_results")) == ORIGINAL_INDEXES["benchmark_results"]
        assert conn.scalar(text("SELECT count(*) FROM benchmark_results")) == len(rows)
        assert conn.scalar(text("SELECT count(*) FROM model_snapshots")) == 10
    upgrade(_url(fresh_engine))
    with fresh_engine.begin() as conn:
        # The conversion gave every month with rows its partition: nothing is in the default.
        partitions = conn.execute(
            text("SELECT tableoid::regclass::text, count(*) FROM benchmark_results GROUP BY 1")
        ).all()
        assert dict(partitions) == {
            "benchmark_results_p2025_01": len(rows) // 2,
            "benchmark_results_p2025_03": len(rows) // 2,
        }
        assert _partition_of(conn, "model_snapshots", "snapshot_date = '2025-02-02'") == (
            "model_snapshots_p2025_02"
        )
        assert timeseries.refresh_rollups(conn)["benchmark_results_daily"] == 16
        assert upsert(conn, RESULTS, rows) == 0


def test_raw_request_partitions_older_than_the_retention_are_dropped(fresh_engine: Engine):
    upgrade(_url(fresh_engine))
    insert = text(
        "INSERT INTO benchmark_request_timings (result_key, sent_at, request_index, measured_at, "
        "ttft_ms) VALUES ('run', :at, :i, :at, 12.5)"
    )
    sent = [datetime(2025, 1, 20, tzinfo=UTC), datetime(2025, 5, 3, tzinfo=UTC)]
    today = date(2025, 6, 10)  # retention 90 days: everything before 2025-03-12 has expired
    with fresh_engine.begin() as conn:
        for i, at in enumerate(sent):
            conn.execute(insert, {"at": at, "i": i})
        timeseries.ensure_partitions(conn, today=today)
        assert timeseries.drop_expired_partitions(conn, today=today) == [
            "benchmark_request_timings_p2025_01"
        ]
        left = conn.execute(text("SELECT sent_at FROM benchmark_request_timings")).scalars().all()
        assert left == [sent[1]]
        assert timeseries.drop_expired_partitions(conn, today=today) == []


def _distinct_models_estimate(conn) -> int:
    plan = conn.scalar(
        text("EXPLAIN (FORMAT JSON) SELECT DISTINCT model_id FROM benchmark_results")
    )
    return plan[0]["Plan"]["Plan Rows"]


def test_analyze_gives_the_partitioned_parents_their_statistics(fresh_engine: Engine):
    """Autovacuum never analyses a partitioned parent: without `analyze_partitioned` the
    planner guesses the parent's distinct values (200) instead of counting them."""
    upgrade(_url(fresh_engine))
    rows = benchmark_rows([date(2025, 1, 15), date(2025, 2, 2), date(2025, 3, 2)], 2)
    models = len({row["model_id"] for row in rows})
    parent_stats = text(
        "SELECT count(*) FROM pg_stats WHERE tablename = 'benchmark_results' AND inherited"
    )
    with fresh_engine.begin() as conn:
        upsert(conn, RESULTS, rows)
        timeseries.ensure_partitions(conn, today=date(2025, 1, 10))
        for month in ("01", "02", "03"):  # what autovacuum does: the partitions, not the parent
            conn.execute(text(f"ANALYZE benchmark_results_p2025_{month}"))
        assert conn.scalar(parent_stats) == 0
        assert _distinct_models_estimate(conn) == 200  # PostgreSQL's default guess
        assert sorted(timeseries.analyze_partitioned(conn)) == sorted(timeseries.TIME_SERIES_TABLES)
        assert conn.scalar(parent_stats) > 0
        assert _distinct_models_estimate(conn) == models
