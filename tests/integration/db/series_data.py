"""Deterministic time-series rows for the storage tests, and the rollups they should give.

The expected rollups are computed here in Python (linear interpolation between closest ranks,
as PostgreSQL's percentile_cont does), independently of the SQL under test.
"""

import hashlib
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from alembic import command
from sqlalchemy import Connection, Engine, Table

from resources.db.migrate import alembic_config
from resources.db.upsert import upsert

MODELS = ("org/alpha-7b", "org/beta-70b")
GPUS = ("H100-SXM-80GB", "B200-180GB")
CONFIGS = ({"max_num_seqs": 64}, {"max_num_seqs": 256, "tensor_parallel": 2})
LATENCIES = ("ttft", "tpot", "itl", "e2e")


def benchmark_rows(days: list[date], runs_per_day: int = 5, seed: int = 7) -> list[dict[str, Any]]:
    """Runs of every model x GPU x config on each day, with some metrics missing (NULL)."""
    rng = random.Random(seed)
    rows = []
    for day in days:
        for model in MODELS:
            for gpu in GPUS:
                for config in CONFIGS:
                    identity = f"{model}|{gpu}|{sorted(config.items())}"
                    key = hashlib.sha256(identity.encode()).hexdigest()[:40]
                    for run in range(runs_per_day):
                        at = datetime(day.year, day.month, day.day, 1 + 4 * run, 7, tzinfo=UTC)
                        rows.append(_benchmark_row(rng, key, at, model, gpu, config))
    return rows


def _benchmark_row(rng, key, at, model, gpu, config) -> dict[str, Any]:
    row: dict[str, Any] = {
        "result_key": key, "measured_at": at, "source": "own", "task": "lm-arena-chat",
        "model_id": model, "gpu": gpu, "num_gpus": config.get("tensor_parallel", 1),
        "engine": "vllm", "config": config, "output_unit": "token",
        "metric_definitions": {}, "extra": {},
    }  # fmt: skip
    for metric in LATENCIES:
        base = rng.uniform(5, 200)
        missing = rng.random() < 0.15  # a run that did not report this metric
        for p, factor in ((50, 1.0), (90, 1.4), (95, 1.6), (99, 2.2)):
            row[f"{metric}_ms_p{p}"] = None if missing else round(base * factor, 3)
    row["output_throughput"] = round(rng.uniform(500, 9000), 2)
    row["throughput_per_gpu"] = row["output_throughput"] / row["num_gpus"]
    row["energy_per_output_j"] = round(rng.uniform(0.05, 2.0), 4)
    return row


def snapshot_rows(first: date, days: int) -> list[dict[str, Any]]:
    return [
        {"model_id": model, "snapshot_date": first + timedelta(days=n),
         "downloads": 1000 * (i + 1) + 37 * n, "likes": 3 * n + i, "trending_rank": i + 1,
         "source": "test"}
        for n in range(days)
        for i, model in enumerate(MODELS)
    ]  # fmt: skip


def expected_benchmark_rollup(rows: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """(day, model, gpu, config as JSON-ish tuple) -> runs and percentiles, NULLs ignored."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        key = (row["measured_at"].date(), row["model_id"], row["gpu"], _config_key(row["config"]))
        groups.setdefault(key, []).append(row)
    expected = {}
    for key, runs in groups.items():
        values: dict[str, Any] = {"runs": len(runs)}
        for metric in LATENCIES:
            values[f"{metric}_ms_p50"] = _percentile(runs, f"{metric}_ms_p50", 50)
            values[f"{metric}_ms_p95"] = _percentile(runs, f"{metric}_ms_p95", 95)
        for column in ("output_throughput", "throughput_per_gpu"):
            values[f"{column}_p50"] = _percentile(runs, column, 50)
            values[f"{column}_p05"] = _percentile(runs, column, 5)
        values["energy_per_output_j_p50"] = _percentile(runs, "energy_per_output_j", 50)
        expected[key] = values
    return expected


def rollup_key(row) -> tuple:
    return (_day(row.day), row.model_id, row.gpu, _config_key(row.config))


def upsert_batches(conn: Connection, table: Table, rows: list[dict], size: int = 40) -> int:
    """`upsert` in statements small enough for PGlite (see tests/support/timescale.py)."""
    return sum(upsert(conn, table, rows[i : i + size]) for i in range(0, len(rows), size))


def downgrade(engine: Engine, revision: str) -> None:
    """Alembic downgrade on one connection of `engine` (PGlite serves one at a time)."""
    with engine.begin() as conn:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def _percentile(runs: list[dict], column: str, q: float) -> float | None:
    values = [r[column] for r in runs if r[column] is not None]
    return float(np.percentile(values, q, method="linear")) if values else None


def _config_key(config: dict) -> tuple:
    return tuple(sorted(config.items()))


def _day(value) -> date:
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value
