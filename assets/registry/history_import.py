"""Popularity history into `model_snapshots`: the asset's writes, what a live source's last
sync observed, and a one-off import of an exported history (the bundled 721 days of the Hub, or
a user's own export in the same format: snapshot_date, trending, id, downloads, likes; see
hub_history.py)."""

from collections.abc import Mapping, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from assets.registry import hub_history, store
from assets.registry.parsing import snapshot_rows
from resources.db.tables import MlModel, ModelSnapshot
from resources.db.upsert import upsert

_SNAPSHOTS = ModelSnapshot.__table__
_BATCH = 10_000


def upsert_history(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Upsert snapshot rows (unchanged ones are not rewritten); the table's date span after."""
    written = sum(
        upsert(conn, _SNAPSHOTS, rows[start : start + _BATCH])
        for start in range(0, len(rows), _BATCH)
    )
    first, last = conn.execute(
        select(func.min(_SNAPSHOTS.c.snapshot_date), func.max(_SNAPSHOTS.c.snapshot_date))
    ).one()
    return {"rows_written": written, "first_day": str(first), "last_day": str(last)}


def observed_counts(conn: Connection, source: str) -> tuple[list[dict[str, Any]], str | None]:
    """(rows, None): a live source's counts as its last successful sync listed them, one row per
    model it holds, dated the day of that sync; or ([], why not) where that sync did not refresh
    every count.

    A count is only as fresh as the listing that carried it. A sync that stopped at the
    watermark (`stop_at_watermark`) or at a `limit` re-listed some models only; the others still
    hold older counts, which would enter the series as that day's. So only a complete sync is
    snapshotted (a source synced with stop_at_watermark needs a complete sync now and then, such
    as a weekly schedule without it, for its popularity series), and a snapshot taken days after
    the sync is dated when the counts were observed, not when it ran. Nor is one followed by a
    failed attempt: the chunks it committed before failing rewrote some of the counts.
    """
    state = store.sync_state(conn, source)
    if not state or state["last_success_at"] is None:
        return [], "no successful sync yet"
    synced = state["last_success_at"]
    if state["last_complete_at"] != synced:
        return [], f"its last sync ({synced:%Y-%m-%d %H:%M} UTC) listed only part of the source"
    # A sync that failed after it had committed some chunks: those rows hold its newer counts.
    attempted = state["last_attempt_at"]
    if attempted != synced:
        return [], (f"a later sync failed ({attempted:%Y-%m-%d %H:%M} UTC) after the last "
                    "successful one: the counts may mix both listings")  # fmt: skip
    m = MlModel.__table__.c
    query = select(m.id, m.downloads, m.likes).where(m.source == source, m.removed_at.is_(None))
    day = synced.astimezone(UTC).date()
    return [
        {"model_id": model_id, "snapshot_date": day, "downloads": downloads, "likes": likes,
         "trending_rank": None, "source": source}
        for model_id, downloads, likes in conn.execute(query)
    ], None  # fmt: skip


def import_history(engine: Engine, path: str | Path, source: str) -> dict[str, Any]:
    """Import an exported daily history file (CSV, optionally gzipped) as `source`.

    Idempotent: importing the same file again writes nothing. A malformed file raises
    DataFileError naming the file and line, before anything is written. Reports how many of
    the imported models the catalog does not hold (`orphan_models`): their series are stored,
    and the `model_snapshots` check flags them until a registry sync lists those models.
    """
    rows = snapshot_rows(hub_history.daily_history(hub_history.read_export(path)), source)
    models = sorted({row["model_id"] for row in rows})
    with engine.begin() as conn:
        summary = upsert_history(conn, rows)
        known = set(conn.execute(select(MlModel.id).where(MlModel.id.in_(models))).scalars())
    return {"rows": len(rows), "models": len(models), "orphan_models": len(models) - len(known),
            **summary}  # fmt: skip
