"""Storage savings of TimescaleDB compression on the real data (issue #8).

    .venv/bin/python bench/bench_timescale.py

Loads what the pipeline loads, through its own parsers: the ML.ENERGY v3 results
(`benchmark_results`), the 721-day Hub popularity history (`model_snapshots`) and the GPU price
tracker (`gpu_prices`), into a real TimescaleDB (PGlite with the extension, started as the tests
start it; needs `npm ci --legacy-peer-deps` in tests/support/pglite), migrated to head. Then it
compresses every chunk with the migration's settings and prints, per hypertable, the size
before and after (`hypertable_compression_stats`: heap + indexes + TOAST) and the ratio, and
checks that every row still reads back and the rollups still add up.
"""

import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assets.benchmarks.mlenergy import parse_leaderboard  # noqa: E402
from assets.costs.prices import parse_price_dir  # noqa: E402
from assets.registry.hub_history import daily_history, read_export  # noqa: E402
from assets.registry.parsing import snapshot_rows  # noqa: E402
from resources.db import timeseries  # noqa: E402
from resources.db.migrate import upgrade  # noqa: E402
from resources.db.tables import BenchmarkResult, GpuPrice, ModelSnapshot  # noqa: E402
from resources.db.upsert import upsert  # noqa: E402
from resources.settings import get_settings  # noqa: E402
from tests.support.timescale import PgliteTimescale  # noqa: E402

# PGlite crashes ("RuntimeError: unreachable" in the WASM) on a protocol message that spans
# more than one socket read (~64 KiB): 40 wide rows per statement stay well under it.
_BATCH = 40
_STATS = (
    "SELECT total_chunks, number_compressed_chunks, before_compression_total_bytes, "
    "after_compression_total_bytes FROM hypertable_compression_stats(CAST(:t AS regclass))"
)


def _datasets() -> dict:
    data = get_settings().data_dir
    history = daily_history(read_export(next((data / "hf_hub").glob("*.csv.gz"))))
    return {
        BenchmarkResult.__table__: parse_leaderboard(data / "benchmarks" / "mlenergy_v3"),
        ModelSnapshot.__table__: snapshot_rows(history, "hf-hub-export"),
        GpuPrice.__table__: parse_price_dir(data / "gpu_prices" / "tugot17_gpu_price_tracker"),
    }


def main() -> None:
    console = Console()
    datasets = _datasets()
    with PgliteTimescale() as server:
        upgrade(server.url)
        engine = server.engine()
        started = time.perf_counter()
        with engine.begin() as conn:
            for table, rows in datasets.items():
                for i in range(0, len(rows), _BATCH):
                    upsert(conn, table, rows[i : i + _BATCH])
        load_s = time.perf_counter() - started
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
            for table in datasets:
                conn.execute(
                    text(f"SELECT compress_chunk(c, true) FROM show_chunks('{table.name}') c")
                )
        report = Table(title="TimescaleDB compression on the real data (PGlite, TimescaleDB 2.23)")
        for column in ("table", "rows", "chunks", "before", "after", "ratio"):
            report.add_column(column, justify="left" if column == "table" else "right")
        total_before = total_after = 0
        with engine.connect() as conn:
            for table, rows in datasets.items():
                chunks, compressed, before, after = conn.execute(
                    text(_STATS), {"t": table.name}
                ).one()
                stored = conn.scalar(text(f"SELECT count(*) FROM {table.name}"))
                assert stored == len(rows) and compressed == chunks, (table.name, stored, chunks)
                total_before, total_after = total_before + before, total_after + after
                report.add_row(table.name, f"{len(rows):,}", str(chunks), _kib(before),
                               _kib(after), f"{before / after:.1f}x")  # fmt: skip
        report.add_row("all three", "", "", _kib(total_before), _kib(total_after),
                       f"{total_before / total_after:.1f}x")  # fmt: skip
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            rollups = timeseries.refresh_rollups(conn)
            runs = conn.scalar(text("SELECT sum(runs) FROM benchmark_results_daily"))
        assert runs == len(datasets[BenchmarkResult.__table__]), runs
        engine.dispose()
    console.print(report)
    console.print(f"load (upserts over the wire, PGlite): {load_s:.1f} s; rollups: {rollups}")


def _kib(size: int) -> str:
    return f"{size / 1024:,.0f} KiB"


if __name__ == "__main__":
    main()
