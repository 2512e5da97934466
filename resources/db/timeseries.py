"""Time-series storage at run time: TimescaleDB where the database has it, native partitions else.

Migration 0007 picks the layout once per database. Either way the daily rollups are relations
with the same names and columns (a continuous aggregate, or a materialized view), so readers
never ask which. The pipeline calls, on every run:

- `ensure_partitions` (native only): next months' partitions before rows arrive, and a partition
  for any month whose rows fell into the default partition, which then move into it;
- `drop_expired_partitions` (native only): the retention of raw per-request records, which
  TimescaleDB enforces with its own retention policy;
- `analyze_partitioned` (native only): planner statistics on the partitioned parents, which
  autovacuum never gathers;
- `refresh_rollups`: the daily rollups brought up to date.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, text

TIME_SERIES_TABLES = (
    "benchmark_results",
    "model_snapshots",
    "gpu_prices",
    "benchmark_request_timings",
)
ROLLUPS = ("benchmark_results_daily", "model_snapshots_daily")
MONTHS_AHEAD = 3
# How long raw per-request records stay (TimescaleDB: the retention policy of migration 0007).
RETENTION = {"benchmark_request_timings": timedelta(days=90)}
DEFAULT_PARTITION = "{table}_default"
_PARTITIONS_LOCK_ID = 7_351_030  # beside resources.db.migrate's 7_351_029
_MONTH_PARTITION = re.compile(r"^(?P<table>\w+)_p(?P<year>\d{4})_(?P<month>\d{2})$")


@dataclass(frozen=True)
class Partitioned:
    """A range-partitioned time-series table and its partition key."""

    table: str
    column: str
    is_date: bool  # a `date` key, else `timestamptz` (bounds are then written in UTC)


def has_timescale(conn: Connection) -> bool:
    """True where the time-series tables are TimescaleDB hypertables (migration 0007 decided)."""
    if conn.scalar(text("SELECT to_regclass('timescaledb_information.hypertables')")) is None:
        return False
    query = text(
        "SELECT 1 FROM timescaledb_information.hypertables "
        "WHERE hypertable_schema = current_schema() AND hypertable_name = 'benchmark_results'"
    )
    return conn.scalar(query) is not None


def refresh_rollups(conn: Connection) -> dict[str, int]:
    """Bring every daily rollup up to date; returns each one's row count.

    On TimescaleDB `conn` must be in autocommit mode (`refresh_continuous_aggregate` refuses to
    run in a transaction block). Natively the views refresh CONCURRENTLY: readers keep reading.
    """
    timescale = has_timescale(conn)
    counts = {}
    for name in ROLLUPS:
        if timescale:
            # The whole range: a re-import may rewrite old days, and real-time aggregation
            # already answers for what is newer than the last refresh.
            refresh = "CALL refresh_continuous_aggregate(CAST(:name AS regclass), NULL, NULL)"
            conn.execute(text(refresh), {"name": name})
        else:
            conn.execute(text(f'REFRESH MATERIALIZED VIEW CONCURRENTLY "{name}"'))
        counts[name] = conn.scalar(text(f'SELECT count(*) FROM "{name}"'))
    return counts


def partitioned_tables(conn: Connection) -> list[Partitioned]:
    """The time-series tables that are natively range-partitioned here (none on TimescaleDB)."""
    query = text(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
        "FROM pg_partitioned_table p "
        "JOIN pg_class c ON c.oid = p.partrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
        "WHERE n.nspname = current_schema() AND p.partstrat = 'r' "
        "AND c.relname = ANY(:tables) ORDER BY c.relname"
    )
    rows = conn.execute(query, {"tables": list(TIME_SERIES_TABLES)}).all()
    return [Partitioned(table, column, kind == "date") for table, column, kind in rows]


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y_%m}"


def create_month_partition(conn: Connection, series: Partitioned, month: date) -> str | None:
    """Create `series.table`'s partition for `month` (its first day); None if it exists.

    Rows of that month already in the default partition move into the new one: PostgreSQL
    refuses a partition whose range the default partition holds rows of.
    """
    name = month_partition_name(series.table, month)
    if conn.scalar(text("SELECT to_regclass(:name)"), {"name": name}) is not None:
        return None
    low, high = _bound(month, series.is_date), _bound(add_months(month, 1), series.is_date)
    table, column = f'"{series.table}"', f'"{series.column}"'
    default = '"' + DEFAULT_PARTITION.format(table=series.table) + '"'
    conn.execute(
        text(f'CREATE TABLE "{name}" (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
    )
    conn.execute(
        text(
            f"WITH moved AS (DELETE FROM {default} WHERE {column} >= {low} AND {column} < {high} "
            f'RETURNING *) INSERT INTO "{name}" SELECT * FROM moved'
        )
    )
    # Attaching builds the parent's indexes and primary key on the new partition.
    conn.execute(
        text(f'ALTER TABLE {table} ATTACH PARTITION "{name}" FOR VALUES FROM ({low}) TO ({high})')
    )
    return name


def ensure_partitions(
    conn: Connection, *, today: date | None = None, months_ahead: int = MONTHS_AHEAD
) -> list[str]:
    """Create this month's and the next `months_ahead` months' partitions of every natively
    partitioned time-series table, and one for each month up to then whose rows fell into the
    default partition. Returns the partitions created; nothing to do on TimescaleDB.

    Rows past that horizon stay in the default partition: a far-future date is likelier a data
    error than a plan, and a partition per such month would only pile up.
    """
    first = month_start(today or datetime.now(UTC).date())
    horizon = add_months(first, months_ahead + 1)
    _lock(conn)
    created = []
    for series in partitioned_tables(conn):
        months = {add_months(first, n) for n in range(months_ahead + 1)}
        months |= _months_in_default(conn, series, horizon)
        for month in sorted(months):
            name = create_month_partition(conn, series, month)
            if name is not None:
                created.append(name)
    return created


def drop_expired_partitions(conn: Connection, *, today: date | None = None) -> list[str]:
    """Drop the monthly partitions whose every row is older than its table's retention
    (`RETENTION`); returns their names. Nothing to do on TimescaleDB (its policy does it)."""
    today = today or datetime.now(UTC).date()
    partitioned = {series.table for series in partitioned_tables(conn)}
    _lock(conn)
    dropped = []
    for table, keep in RETENTION.items():
        if table not in partitioned:
            continue
        children = text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:table AS regclass) ORDER BY c.relname"
        )
        for name in conn.execute(children, {"table": table}).scalars():
            match = _MONTH_PARTITION.match(name)
            if match is None or match["table"] != table:
                continue  # the default partition
            end = add_months(date(int(match["year"]), int(match["month"]), 1), 1)
            if end <= today - keep:
                conn.execute(text(f'DROP TABLE "{name}"'))
                dropped.append(name)
    return dropped


def analyze_partitioned(conn: Connection) -> list[str]:
    """ANALYZE every natively partitioned time-series table; returns the tables analysed.

    Autovacuum analyses the partitions but never a partitioned parent ("autovacuum does not
    process partitioned tables"), and the planner estimates joins on the parent (the listing's
    benchmark filters join on `model_id` across every partition) from the parent's own
    statistics: without them it guesses, e.g. 200 distinct values per column. Run after every
    load, once the rows have moved into their partitions. Nothing to do on TimescaleDB, whose
    hypertables autovacuum analyses like any table. Allowed inside a transaction (VACUUM is not).
    """
    tables = [series.table for series in partitioned_tables(conn)]
    for table in tables:
        # On a partitioned table ANALYZE samples across the partitions for the parent's
        # statistics and analyses each partition too: bounded by the sample size per table.
        conn.execute(text(f'ANALYZE "{table}"'))
    return tables


def _lock(conn: Connection) -> None:
    # Two runs creating the same partition at once: the second would fail on the name.
    conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PARTITIONS_LOCK_ID})


def _bound(month: date, is_date: bool) -> str:
    # A timestamptz literal without an offset would be read in the session's time zone.
    return f"'{month.isoformat()}'" if is_date else f"'{month.isoformat()} 00:00:00+00'"


def _months_in_default(conn: Connection, series: Partitioned, horizon: date) -> set[date]:
    column = f'"{series.column}"'
    as_utc = f"{column}::timestamp" if series.is_date else f"({column} AT TIME ZONE 'UTC')"
    default = DEFAULT_PARTITION.format(table=series.table)
    query = text(
        f"SELECT DISTINCT date_trunc('month', {as_utc})::date FROM \"{default}\" "
        f"WHERE {column} < {_bound(horizon, series.is_date)}"
    )
    return set(conn.execute(query).scalars())
