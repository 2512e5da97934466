"""Time-series storage on a real TimescaleDB (PGlite with the extension): migration 0007's
Timescale path. Hypertables, compression and retention policies, continuous aggregates that
answer exactly like the native materialized views, a chunk compressed for real, and a
downgrade that gives back plain tables."""

from datetime import date

import pytest
from sqlalchemy import Engine, text

from resources.db import timeseries
from resources.db.migrate import upgrade
from resources.db.tables import BenchmarkResult, ModelSnapshot
from tests.integration.db.series_data import (
    benchmark_rows,
    downgrade,
    expected_benchmark_rollup,
    rollup_key,
    snapshot_rows,
    upsert_batches,
)

RESULTS = BenchmarkResult.__table__
SNAPSHOTS = ModelSnapshot.__table__


def _load(engine: Engine, rows: list[dict], snapshots: list[dict]) -> dict[str, int]:
    with engine.begin() as conn:
        upsert_batches(conn, RESULTS, rows)
        upsert_batches(conn, SNAPSHOTS, snapshots)
    # refresh_continuous_aggregate refuses to run inside a transaction block.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return timeseries.refresh_rollups(conn)


def _rollups(engine: Engine) -> dict[str, list[tuple]]:
    order = {"benchmark_results_daily": "day, model_id, gpu, config::text",
             "model_snapshots_daily": "day, model_id"}  # fmt: skip
    with engine.connect() as conn:
        return {
            name: [tuple(row) for row in conn.execute(text(f"SELECT * FROM {name} ORDER BY {o}"))]
            for name, o in order.items()
        }


def test_time_series_tables_are_hypertables_with_policies(timescale: Engine):
    with timescale.connect() as conn:
        assert timeseries.has_timescale(conn)
        assert timeseries.partitioned_tables(conn) == []
        dimensions = conn.execute(
            text(
                "SELECT hypertable_name, column_name FROM timescaledb_information.dimensions "
                "WHERE hypertable_schema = current_schema()"  # not the aggregates' own tables
            )
        ).all()
        assert dict(dimensions) == {
            "benchmark_results": "measured_at", "model_snapshots": "snapshot_date",
            "gpu_prices": "observed_at", "benchmark_request_timings": "sent_at",
        }  # fmt: skip
        segments = conn.execute(
            text(
                "SELECT hypertable_name, attname FROM timescaledb_information.compression_settings "
                "WHERE segmentby_column_index IS NOT NULL"
            )
        ).all()
        assert ("benchmark_results", "gpu") in segments and (
            "model_snapshots",
            "model_id",
        ) in segments
        jobs = conn.execute(
            text(
                "SELECT proc_name, hypertable_name, config FROM timescaledb_information.jobs "
                "WHERE proc_name LIKE 'policy_%' AND hypertable_name IS NOT NULL"
            )
        ).all()
        compressed = {table for proc, table, _ in jobs if proc == "policy_compression"}
        assert compressed == set(timeseries.TIME_SERIES_TABLES)
        retention = [(t, c["drop_after"]) for p, t, c in jobs if p == "policy_retention"]
        assert retention == [("benchmark_request_timings", "90 days")]
        aggregates = conn.execute(
            text("SELECT view_name FROM timescaledb_information.continuous_aggregates")
        ).scalars()
        assert sorted(aggregates) == sorted(timeseries.ROLLUPS)
        refreshed = {t for p, t, _ in jobs if p == "policy_refresh_continuous_aggregate"}
        assert len(refreshed) == len(timeseries.ROLLUPS)


def test_continuous_aggregates_answer_like_the_native_views(timescale_db: Engine, clean_db):
    rows = benchmark_rows([date(2025, 2, 3), date(2025, 2, 4), date(2025, 4, 30)])
    snapshots = snapshot_rows(date(2025, 1, 25), 12)
    counts = _load(timescale_db, rows, snapshots)
    assert counts == _load(clean_db, rows, snapshots)
    on_timescale, native = _rollups(timescale_db), _rollups(clean_db)
    assert on_timescale == native
    expected = expected_benchmark_rollup(rows)
    with timescale_db.connect() as conn:
        for row in conn.execute(text("SELECT * FROM benchmark_results_daily")):
            for column, value in expected[rollup_key(row)].items():
                assert getattr(row, column) == pytest.approx(value), column


def test_compressed_chunks_keep_their_rows_and_take_idempotent_upserts(timescale_db: Engine):
    rows = benchmark_rows([date(2025, 1, 5), date(2025, 2, 20)])
    _load(timescale_db, rows, [])
    with timescale_db.begin() as conn:
        chunks = conn.execute(
            text("SELECT compress_chunk(c) FROM show_chunks('benchmark_results') c")
        ).all()
        assert len(chunks) == 2  # 30-day chunks
        stats = conn.execute(
            text(
                "SELECT compression_status, before_compression_total_bytes, "
                "after_compression_total_bytes FROM chunk_compression_stats('benchmark_results')"
            )
        ).all()
        assert [status for status, _, _ in stats] == ["Compressed", "Compressed"]
        assert all(before > 0 and after > 0 for _, before, after in stats)
        assert conn.scalar(text("SELECT count(*) FROM benchmark_results")) == len(rows)
        assert upsert_batches(conn, RESULTS, rows) == 0
        changed = dict(rows[3], energy_per_output_j=42.0)
        assert upsert_batches(conn, RESULTS, [changed]) == 1
        assert conn.scalar(text("SELECT count(*) FROM benchmark_results")) == len(rows)
    with timescale_db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        timeseries.refresh_rollups(conn)
        runs = conn.scalar(text("SELECT sum(runs) FROM benchmark_results_daily"))
    assert runs == len(rows)


def test_downgrade_gives_back_plain_tables_and_upgrade_hypertables(fresh_timescale: Engine):
    url = fresh_timescale.url.render_as_string(hide_password=False)
    upgrade(url)
    rows = benchmark_rows([date(2025, 1, 5)], 2)
    _load(fresh_timescale, rows, snapshot_rows(date(2025, 1, 1), 3))
    downgrade(fresh_timescale, "0006")
    with fresh_timescale.connect() as conn:
        assert not timeseries.has_timescale(conn)
        hypertables = "SELECT count(*) FROM timescaledb_information.hypertables"
        assert conn.scalar(text(hypertables)) == 0
        assert conn.scalar(text("SELECT count(*) FROM benchmark_results")) == len(rows)
        assert conn.scalar(text("SELECT count(*) FROM model_snapshots")) == 6
        indexes = "SELECT indexname FROM pg_indexes WHERE tablename = 'benchmark_results'"
        assert set(conn.execute(text(indexes)).scalars()) == {
            "pk_benchmark_results", "ix_benchmark_results_model", "ix_benchmark_results_task_gpu",
        }  # fmt: skip
    upgrade(url)
    with fresh_timescale.connect() as conn:
        assert timeseries.has_timescale(conn)
        assert conn.scalar(text("SELECT count(*) FROM benchmark_results")) == len(rows)
