"""The registry sync's writes: models, removals, quarantine, sync state (each in the caller's
transaction, `conn`)."""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Text,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.types import NullType

from assets.registry.changes import CONTENT, DETAIL_EXTRA, PENDING, Stored, storable_text
from resources.db.tables import MlModel, RegistryQuarantine, RegistrySyncState

_MODELS = MlModel.__table__
_QUARANTINE = RegistryQuarantine.__table__
_STATE = RegistrySyncState.__table__
# Run summaries kept per source for the spike check's trailing median.
KEEP_RECENT = 30
_BATCH = 5000
_ARRAYS = ("tags", "base_models")


def stored_models(conn: Connection) -> dict[str, Stored]:
    """Every model the catalog holds (all sources: ownership decides who may write a row),
    with the values a sync writes, so an unchanged row need not be sent again."""
    m = _MODELS.c
    # The arrays as the driver returns them (lists of text): SQLAlchemy's ARRAY result
    # processor copies every list again (every column of 100,000 models: 2.4 s through it,
    # 1.2 s without).
    columns = [type_coerce(m[c], NullType()) if c in _ARRAYS else m[c] for c in CONTENT]
    query = select(m.id, m.removed_at.is_not(None), *columns)
    stored = {}
    for model_id, removed, *content in conn.execute(query):
        values = dict(zip(CONTENT, content, strict=True))
        extra = values["extra"] or {}
        stored[model_id] = Stored(
            values["source"], values["sha"], values["last_modified"], removed,
            values["num_parameters"],
            {k: extra[k] for k in DETAIL_EXTRA if k in extra} or None,
            PENDING in extra, tuple(content),
        )  # fmt: skip
    return stored


def upsert_models(conn: Connection, rows: Sequence[Mapping[str, Any]], now: datetime) -> int:
    """Insert or update `rows`; a row whose values are all unchanged is not touched (its
    `updated_at` stays), so a re-run writes nothing. Returns how many rows were written.

    Each batch goes as one JSON document read by `jsonb_to_recordset`, not as bound VALUES:
    SQLAlchemy's per-row parameter processing cost ~50 us of client CPU a row (5 s at 100,000
    models, on the thread that also fetches details), the JSON ~1 us, and the server
    parses it faster than 17 bound parameters a row (measured: 1.4 s against 3.2 s at 30,000).
    """
    if not rows:
        return 0
    columns = list(rows[0])
    record = func.jsonb_to_recordset(cast(bindparam("rows", type_=Text), JSONB))
    source = record.table_valued(*(column(c, _MODELS.c[c].type) for c in columns))
    source = source.render_derived(name="batch", with_types=True)
    stmt = insert(_MODELS).from_select(
        [*columns, "first_seen", "updated_at"],
        select(*(source.c[c] for c in columns), bindparam("now"), bindparam("now")),
    )
    changed = [c for c in columns if c != "id"]
    stmt = stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={**{c: stmt.excluded[c] for c in changed}, "updated_at": stmt.excluded.updated_at},
        where=or_(*(_MODELS.c[c].is_distinct_from(stmt.excluded[c]) for c in changed)),
    ).returning(literal_column("1"))
    written = 0
    for start in range(0, len(rows), _BATCH):
        batch = _json_rows(rows[start : start + _BATCH])
        written += len(conn.execute(stmt, {"rows": batch, "now": now}).all())
    return written


def _json_rows(rows: Sequence[Mapping[str, Any]]) -> str:
    try:
        return orjson.dumps(list(rows)).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits (in `extra`): the slow encoder
        return json.dumps(list(rows), default=lambda value: value.isoformat())


def mark_removed(conn: Connection, source: str, ids: Sequence[str], now: datetime) -> int:
    if not ids:
        return 0
    stmt = (
        update(_MODELS)
        .where(_MODELS.c.source == source, _MODELS.c.id.in_(ids), _MODELS.c.removed_at.is_(None))
        .values(removed_at=now, updated_at=now)
    )
    return conn.execute(stmt).rowcount


def quarantine(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Upsert quarantined records: a record seen again keeps its first_seen, counts up."""
    unique = list({(r["source"], r["record_key"]): r for r in rows}.values())
    if not unique:
        return 0
    stmt = insert(_QUARANTINE)
    q = _QUARANTINE.c
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "record_key"],
        set_={"model_id": stmt.excluded.model_id, "reason": stmt.excluded.reason,
              "payload": stmt.excluded.payload, "last_seen": stmt.excluded.last_seen,
              "times_seen": q.times_seen + 1},
    )  # fmt: skip
    for start in range(0, len(unique), _BATCH):
        conn.execute(stmt, unique[start : start + _BATCH])
    return len(unique)


def sync_state(conn: Connection, source: str) -> Mapping[str, Any] | None:
    row = conn.execute(select(_STATE).where(_STATE.c.source == source)).mappings().first()
    return dict(row) if row else None


def record_success(
    conn: Connection,
    source: str,
    now: datetime,
    counts: Mapping[str, Any],
    complete: bool,
    watermark: datetime | None,
) -> None:
    previous = sync_state(conn, source) or {}
    recent = [{"at": now.isoformat(), **counts}, *previous.get("recent", [])][:KEEP_RECENT]
    values = {
        "source": source, "last_attempt_at": now, "last_success_at": now,
        "last_complete_at": now if complete else previous.get("last_complete_at"),
        "watermark": max(filter(None, [watermark, previous.get("watermark")]), default=None),
        "last_error": None, "counts": dict(counts), "recent": recent,
    }  # fmt: skip
    _upsert_state(conn, values)


def record_failure(conn: Connection, source: str, now: datetime, error: str) -> None:
    previous = sync_state(conn, source)
    values = {"source": source, "last_attempt_at": now, "last_error": storable_text(error[:2000])}
    if previous is None:
        values |= {"counts": {}, "recent": []}
    _upsert_state(conn, values)


def _upsert_state(conn: Connection, values: Mapping[str, Any]) -> None:
    stmt = insert(_STATE).values(**values)
    updates = {k: stmt.excluded[k] for k in values if k != "source"}
    conn.execute(stmt.on_conflict_do_update(index_elements=["source"], set_=updates))


def registry_model_ids(conn: Connection, sources: Sequence[str]) -> list[str]:
    """Ids the registry sources hold and have not removed (the `models` partitions)."""
    m = _MODELS.c
    query = select(m.id).where(m.source.in_(sources), m.removed_at.is_(None)).order_by(m.id)
    return list(conn.execute(query).scalars())


def count_models(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(_MODELS)).scalar_one()
