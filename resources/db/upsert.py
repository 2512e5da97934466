"""Idempotent bulk upserts on a table's natural key."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, literal_column, or_
from sqlalchemy.dialects.postgresql import insert


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    update: Iterable[str] | None = None,
) -> int:
    """Insert `rows`, updating the given columns (default: all non-key columns) on conflict.

    Rows whose values are unchanged are not rewritten (an `IS DISTINCT FROM` guard), so a re-run
    leaves the table as it was. Returns the number of rows inserted or changed.
    """
    if not rows:
        return 0
    keys = [c.name for c in table.primary_key.columns]
    # One statement for all rows needs one set of columns: a column a row lacks is NULL.
    columns = list(dict.fromkeys(c for row in rows for c in row))
    rows = [{c: row.get(c) for c in columns} for row in rows]
    to_update = [c for c in (update if update is not None else columns) if c not in keys]
    stmt = insert(table)
    if to_update:
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=keys,
            set_={c: excluded[c] for c in to_update},
            where=or_(*(table.c[c].is_distinct_from(excluded[c]) for c in to_update)),
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    # RETURNING makes SQLAlchemy batch the rows into multi-row VALUES ("insertmanyvalues") and
    # tells exactly which rows were written.
    return len(conn.execute(stmt.returning(literal_column("1")), rows).all())
