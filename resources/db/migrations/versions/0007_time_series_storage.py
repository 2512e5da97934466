"""time-series storage: TimescaleDB or native partitions (#8)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

`benchmark_results`, `model_snapshots`, `gpu_prices` and the new raw per-request timings table
`benchmark_request_timings` become TimescaleDB hypertables where the extension can be created
(and is the community edition: compression, retention and continuous aggregates are not in the
Apache build), and monthly range-partitioned tables with a default partition otherwise. Their
primary keys already lead with, or include, the time column. Either way each gets a BRIN index on
its time column (declared in `resources.db.tables`, so the schema is the same on both paths).

The daily rollups have the same names and columns on both paths: continuous aggregates
(real-time) on TimescaleDB, materialized views refreshed by the pipeline natively
(`resources.db.timeseries.refresh_rollups`).

Retention applies only to `benchmark_request_timings` (one row per request of a benchmark run, for
re-deriving percentiles; the raw files themselves live in the object store): 90 days, then
dropped by TimescaleDB's policy or, natively, by the pipeline dropping expired partitions.
`benchmark_results` and the popularity and price series are history the catalog keeps.

Converting an existing table (either way, and back on downgrade) renames it, creates the new
one with the same columns, copies the rows, drops the old one and re-creates its constraints,
indexes and grants under their original names; it runs in the migration's one transaction.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

# The partition DDL is shared with the pipeline so both name and bound partitions one way.
from resources.db.timeseries import (
    DEFAULT_PARTITION,
    MONTHS_AHEAD,
    Partitioned,
    add_months,
    create_month_partition,
    month_start,
)

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_log = logging.getLogger("alembic.runtime.migration")


@dataclass(frozen=True)
class _Series:
    table: str
    column: str
    is_date: bool
    chunk: str  # TimescaleDB chunk interval
    segment_by: str  # compression: one compressed batch per value of these columns ...
    order_by: str  # ... its rows sorted so (min, max) per batch skips batches on filters
    compress_after: str


# Segments want hundreds of rows per chunk: benchmark results are few per model, so they
# segment by task and GPU (what recommendations read) and order by model (what a model page
# reads); daily popularity gets 90-day chunks so a model's segment holds 90 rows.
_SERIES = (
    _Series("benchmark_results", "measured_at", False, "30 days", "task, gpu",
            "model_id, measured_at DESC", "30 days"),
    _Series("model_snapshots", "snapshot_date", True, "90 days", "model_id",
            "snapshot_date DESC", "90 days"),
    _Series("gpu_prices", "observed_at", False, "7 days", "gpu",
            "provider, region, pricing, observed_at DESC", "7 days"),
    _Series("benchmark_request_timings", "sent_at", False, "1 day", "result_key",
            "request_index, sent_at DESC", "7 days"),
)  # fmt: skip
_RAW = "benchmark_request_timings"  # created here, so dropped (not converted back) on downgrade
_RETENTION = {_RAW: "90 days"}

# The rollups: {bucket} is time_bucket on TimescaleDB and date_trunc in UTC natively (the
# same days: time_bucket aligns days to UTC midnight). Latency: the median of the runs' p50s
# and the 95th percentile of their p95s; throughput: the median and the low tail (p05).
_P = "percentile_cont({q}) WITHIN GROUP (ORDER BY {c}) AS {a}"
_BENCHMARK_METRICS = (
    [
        _P.format(q=q, c=f"{m}_ms_p{p}", a=f"{m}_ms_p{p}")
        for m in ("ttft", "tpot", "itl", "e2e")
        for q, p in ((0.5, 50), (0.95, 95))
    ]
    + [
        _P.format(q=q, c=c, a=f"{c}_p{p}")
        for c in ("output_throughput", "throughput_per_gpu")
        for q, p in ((0.5, 50), (0.05, "05"))
    ]
    + [_P.format(q=0.5, c="energy_per_output_j", a="energy_per_output_j_p50")]
)
_BENCHMARK_KEYS = "source, task, model_id, gpu, num_gpus, config"
_ROLLUPS = {
    "benchmark_results_daily": (
        "measured_at",
        f"SELECT {{bucket}} AS day, {_BENCHMARK_KEYS}, count(*) AS runs, "
        + ", ".join(_BENCHMARK_METRICS)
        + f" FROM benchmark_results GROUP BY {{bucket}}, {_BENCHMARK_KEYS}",
        f"day, {_BENCHMARK_KEYS}",
        "model_id, gpu, day",
    ),
    "model_snapshots_daily": (
        "snapshot_date",
        "SELECT {bucket} AS day, model_id, count(*) AS snapshots, max(downloads) AS downloads, "
        "max(likes) AS likes FROM model_snapshots GROUP BY {bucket}, model_id",
        "day, model_id",
        "model_id, day",
    ),
}
_NATIVE_BUCKET = {"measured_at": "date_trunc('day', measured_at, 'UTC')"}


def upgrade() -> None:
    _create_benchmark_request_timings()
    timescale = _enable_timescale()
    if timescale:
        _log.info("time series: TimescaleDB hypertables")
        for series in _SERIES:
            _to_hypertable(series)
    else:
        _log.info("time series: native monthly partitions (no usable TimescaleDB)")
        for series in _SERIES:
            _rebuild(series.table, partition=series)
    for series in _SERIES:
        # Natively a per-partition index; on a hypertable a per-chunk one, which also stands in
        # for the time index that `create_default_indexes => false` leaves out.
        op.execute(
            f"CREATE INDEX ix_{series.table}_{series.column}_brin "
            f"ON {series.table} USING brin ({series.column})"
        )
    _create_rollups(timescale=timescale)


def downgrade() -> None:
    for name in _ROLLUPS:
        # One statement for both kinds: a continuous aggregate is dropped as a materialized view.
        op.execute(f"DROP MATERIALIZED VIEW IF EXISTS {name}")
    op.execute(f"DROP TABLE {_RAW}")
    for series in (s for s in _SERIES if s.table != _RAW):
        op.execute(f"DROP INDEX IF EXISTS ix_{series.table}_{series.column}_brin")
        _rebuild(series.table, partition=None)
    # The extension stays: it is database-wide and something else may have come to use it.


def _create_benchmark_request_timings() -> None:
    op.create_table(
        _RAW,
        sa.Column("result_key", sa.String(64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_index", sa.Integer(), nullable=False),
        # The run's `benchmark_results.measured_at`: with result_key, the run it belongs to.
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("ttft_ms", sa.Float(), nullable=True),
        sa.Column("tpot_ms", sa.Float(), nullable=True),
        sa.Column("e2e_ms", sa.Float(), nullable=True),
        # Gaps between streamed chunks (ms), pooled into ITL percentiles per run (DESIGN §5).
        sa.Column("itl_ms", sa.ARRAY(sa.Float()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint(
            "result_key", "sent_at", "request_index", name="pk_benchmark_request_timings"
        ),
    )


def _enable_timescale() -> bool:
    conn = op.get_bind()
    available = "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    if conn.scalar(sa.text(available)) is None:
        return False
    try:
        # A savepoint: where CREATE EXTENSION fails (not preloaded, no privilege) the migration
        # goes on natively instead of aborting.
        with conn.begin_nested():
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
    except DBAPIError as error:
        _log.warning("timescaledb is available but cannot be created: %s", error.orig)
        return False
    edition = conn.scalar(sa.text("SELECT current_setting('timescaledb.license', true)"))
    return edition != "apache"


def _to_hypertable(series: _Series) -> None:
    table = series.table
    op.execute(
        f"SELECT create_hypertable('{table}', by_range('{series.column}', "
        f"INTERVAL '{series.chunk}'), migrate_data => true, create_default_indexes => false)"
    )
    op.execute(
        f"ALTER TABLE {table} SET (timescaledb.compress, "
        f"timescaledb.compress_segmentby = '{series.segment_by}', "
        f"timescaledb.compress_orderby = '{series.order_by}')"
    )
    op.execute(f"SELECT add_compression_policy('{table}', INTERVAL '{series.compress_after}')")
    if table in _RETENTION:
        op.execute(f"SELECT add_retention_policy('{table}', INTERVAL '{_RETENTION[table]}')")


def _create_rollups(*, timescale: bool) -> None:
    for name, (column, select, unique, lookup) in _ROLLUPS.items():
        if timescale:
            body = select.format(bucket=f"time_bucket(INTERVAL '1 day', {column})")
            op.execute(
                f"CREATE MATERIALIZED VIEW {name} WITH (timescaledb.continuous, "
                f"timescaledb.materialized_only = false) AS {body} WITH NO DATA"
            )
            # The pipeline refreshes after each load; the policy covers writes in between.
            op.execute(
                f"SELECT add_continuous_aggregate_policy('{name}', "
                "start_offset => INTERVAL '35 days', end_offset => INTERVAL '1 hour', "
                "schedule_interval => INTERVAL '1 hour')"
            )
        else:
            body = select.format(bucket=_NATIVE_BUCKET.get(column, column))
            op.execute(f"CREATE MATERIALIZED VIEW {name} AS {body} WITH DATA")
            # REFRESH ... CONCURRENTLY needs a unique index over plain columns.
            op.execute(f"CREATE UNIQUE INDEX ux_{name} ON {name} ({unique})")
        op.execute(f"CREATE INDEX ix_{name}_lookup ON {name} ({lookup})")


def _rebuild(table: str, *, partition: _Series | None) -> None:
    """Re-create `table` (range-partitioned by month on `partition.column`, or plain) with its
    rows, constraints, indexes and grants."""
    conn = op.get_bind()
    referenced = conn.execute(
        sa.text(
            "SELECT conname, conrelid::regclass::text FROM pg_constraint "
            "WHERE confrelid = CAST(:t AS regclass) AND contype = 'f'"
        ),
        {"t": table},
    ).all()
    if referenced:
        raise RuntimeError(f"{table} is referenced by foreign keys {referenced}: drop them first")
    constraints = conn.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u', 'f', 'x') "
            "ORDER BY contype, conname"
        ),
        {"t": table},
    ).all()
    indexes = (
        conn.execute(
            sa.text(
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = CAST(:t AS regclass) AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                "ORDER BY i.indexrelid"
            ),
            {"t": table},
        )
        .scalars()
        .all()
    )
    grants = conn.execute(
        sa.text(
            "SELECT privilege_type, grantee FROM information_schema.role_table_grants "
            "WHERE table_schema = current_schema() AND table_name = :t AND grantee <> current_user"
        ),
        {"t": table},
    ).all()
    old = f"{table}__old"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    clause = f" PARTITION BY RANGE ({partition.column})" if partition else ""
    op.execute(
        f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS){clause}"
    )
    if partition is not None:
        _create_partitions(old, partition)
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    op.execute(f"DROP TABLE {old}")  # frees its constraint and index names
    for name, definition in constraints:
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for definition in indexes:
        op.execute(definition)
    for privilege, grantee in grants:
        who = "PUBLIC" if grantee == "PUBLIC" else f'"{grantee}"'
        op.execute(f"GRANT {privilege} ON {table} TO {who}")


def _create_partitions(source: str, series: _Series) -> None:
    """The default partition, and a monthly one for every month `source` has rows in up to
    `MONTHS_AHEAD` months from now (later rows go to the default partition)."""
    default = DEFAULT_PARTITION.format(table=series.table)
    op.execute(f"CREATE TABLE {default} PARTITION OF {series.table} DEFAULT")
    first = month_start(datetime.now(UTC).date())
    horizon = add_months(first, MONTHS_AHEAD + 1)
    column = (
        f"{series.column}::timestamp" if series.is_date else f"({series.column} AT TIME ZONE 'UTC')"
    )
    months = set(
        op.get_bind()
        .execute(
            sa.text(
                f"SELECT DISTINCT date_trunc('month', {column})::date FROM {source} "
                f"WHERE date_trunc('month', {column})::date < :horizon"
            ),
            {"horizon": horizon},
        )
        .scalars()
    )
    months |= {add_months(first, n) for n in range(MONTHS_AHEAD + 1)}
    partitioned = Partitioned(series.table, series.column, series.is_date)
    for month in sorted(months):
        create_month_partition(op.get_bind(), partitioned, month)
