"""Wall time of `modelcat pipeline run` on the embedded default, from empty state, on the real
data; then a second run on the same state, and the row counts after each (idempotence).

Baseline in the same run: the time to only parse the inputs (no database), so the ratio shows
what the storage and Dagster layers cost on top of reading the data.

    .venv/bin/python bench/bench_pipeline.py
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from resources import embedded  # noqa: E402
from resources.db.tables import Base  # noqa: E402
from resources.settings import get_settings  # noqa: E402

TABLES = [t.name for t in Base.metadata.sorted_tables]


def run_pipeline(home: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CATALOG_", "DAGSTER_"))}
    env["CATALOG_HOME"] = str(home)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "modelcat", "pipeline", "run"], cwd=REPO, env=env,
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - started


def row_counts(home: Path) -> dict[str, int]:
    engine = create_engine(embedded.start(home).database_url)
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in TABLES}
    engine.dispose()
    return counts


def parse_only() -> float:
    from assets.benchmarks.mlenergy import parse_leaderboard
    from assets.costs.prices import parse_price_dir
    from assets.registry.parsing import parse_models, snapshot_rows
    from resources.registry import build_registry

    data = get_settings().data_dir
    started = time.perf_counter()
    (source,) = build_registry(get_settings()).sources()
    parse_models(source.listing(), source.name)
    snapshot_rows(source.history(), source.name)
    parse_leaderboard(data / "benchmarks" / "mlenergy_v3")
    parse_price_dir(data / "gpu_prices" / "tugot17_gpu_price_tracker")
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="modelcat-bench-") as tmp:
        home = Path(tmp)
        baseline = parse_only()
        cold = run_pipeline(home)
        first = row_counts(home)
        warm = run_pipeline(home)
        second = row_counts(home)
        embedded.stop(home)
    print(f"{'measure':<44}{'seconds':>10}{'x parse-only':>14}")
    for name, value in (("parse inputs only (baseline)", baseline),
                        ("pipeline run, empty state (cold)", cold),
                        ("pipeline run again, same state (warm)", warm)):  # fmt: skip
        print(f"{name:<44}{value:>10.1f}{value / baseline:>14.1f}")
    print(f"\n{'table':<28}{'after run 1':>12}{'after run 2':>12}")
    for table in TABLES:
        print(f"{table:<28}{first[table]:>12}{second[table]:>12}")
    print("\nidempotent:", first == second)


if __name__ == "__main__":
    main()
