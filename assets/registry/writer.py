"""The sync's write side: a source's rows committed chunk by chunk, and stage timings."""

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from assets.registry import changes, store


class RowWriter:
    """Commits a source's rows as they become final, each chunk (its rows and the records it
    quarantined) in a short transaction of its own: no transaction stays open while the
    registry is asked for details, and every chunk is idempotent, so what a failed run wrote
    stays true and the next run skips it as unchanged.

    A row whose values all equal the stored ones is not sent at all: PostgreSQL would skip it
    too (the upsert's IS DISTINCT FROM guard), but only after the rows had been serialised, sent
    and looked up, which made a run over an unchanged 100,000-model registry spend most of its
    time writing nothing."""

    def __init__(
        self, engine: Engine, source: str, held: Mapping[str, changes.Stored], now: datetime
    ) -> None:
        self._engine = engine
        self._source = source
        self._held = held
        self._now = now
        self.seen: set[str] = set()  # ids given, written or not
        self.rows: dict[str, dict[str, Any]] = {}  # the rows written, by id
        self.written = 0  # rows the database inserted or changed
        self.quarantined = 0
        self.newest: datetime | None = None  # the latest lastModified given (the watermark)

    def commit(self, rows: Sequence[dict[str, Any]], rejected: Sequence[dict] = ()) -> None:
        """Write `rows` and quarantine `rejected` ({"record", "reason"}) in one transaction."""
        self.seen.update(row["id"] for row in rows)
        moments = [row["last_modified"] for row in rows if row["last_modified"]]
        if moments:
            self.newest = max(moments if self.newest is None else [*moments, self.newest])
        to_write = [{**row, "removed_at": None} for row in rows
                    if not changes.unchanged(row, self._held.get(row["id"]))]  # fmt: skip
        quarantined = [changes.quarantine_row(item, self._source, self._now) for item in rejected]
        if not to_write and not quarantined:
            return
        with self._engine.begin() as conn:
            written = store.upsert_models(conn, to_write, self._now)
            store.quarantine(conn, quarantined)
        self.written += written
        self.quarantined += len(quarantined)
        self.rows.update((row["id"], row) for row in to_write)


class Clock:
    """Adds the seconds since the last lap to `timings[stage]`."""

    def __init__(self, timings: dict[str, float]) -> None:
        self._timings = timings
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self._timings[stage] = self._timings.get(stage, 0.0) + now - self._last
        self._last = now
