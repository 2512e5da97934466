"""One registry source synced into the catalog: list, validate, plan, fetch details, write.

Plain Python over a SQLAlchemy engine, so the Dagster asset, the benchmark and the tests all
run the same code.

Transactions: rows are committed a chunk at a time (assets/registry/writer.py), while the next
details are fetched, so no transaction stays open through minutes of requests to the registry
(holding back vacuum and row locks). Every chunk is an idempotent upsert of true facts, so a
source that fails midway (an endpoint that stays down) keeps what it wrote, and the next run
skips those rows as unchanged. What needs the whole listing comes last, in one short
transaction after everything else succeeded: marking removals and recording the run as a
success (with its watermark). A failed run marks nothing removed, leaves the watermark where
the last successful run put it, and records its error.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from assets.registry import changes, store
from assets.registry.parsing import parse_model, parse_models
from assets.registry.writer import Clock, RowWriter
from resources.registry import RegistrySource

# Rows committed together (while the next details are fetched).
CHUNK = 2000


@dataclass
class SyncReport:
    source: str
    listed: int = 0
    new: list[dict[str, Any]] = field(default_factory=list)  # the new rows (for the UI table)
    changed: int = 0
    updated: int = 0  # rows rewritten for other values (downloads, likes, tags...)
    removed: int = 0
    quarantined: int = 0
    shadowed: int = 0
    details_fetched: int = 0
    details_failed: int = 0
    details_deferred: int = 0
    complete: bool = False
    partial_reason: str | None = None
    error: str | None = None
    # Seconds per stage (read, listing, parse, details, write): the run's metadata and the bench.
    timings: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        return {
            "listed": self.listed, "new": len(self.new), "changed": self.changed,
            "updated": self.updated, "removed": self.removed, "quarantined": self.quarantined,
            "shadowed": self.shadowed, "details_fetched": self.details_fetched,
            "details_failed": self.details_failed, "details_deferred": self.details_deferred,
            "complete": self.complete,
        }  # fmt: skip


def sync_source(
    engine: Engine,
    source: RegistrySource,
    registry_sources: Sequence[str],
    now: datetime | None = None,
) -> SyncReport:
    """Sync one source; an exception is recorded in the sync state, then raised again."""
    now = now or datetime.now(UTC)
    report = SyncReport(source.name)
    try:
        return _sync(engine, source, set(registry_sources), now, report)
    except Exception as error:
        written = report.changed + report.updated + len(report.new)
        why = f"{type(error).__name__}: {error} ({written} rows written before it failed)"
        with engine.begin() as conn:
            store.record_failure(conn, source.name, now, why)
        raise


def _sync(engine: Engine, source: RegistrySource, registry_sources: set[str], now,
          report: SyncReport) -> SyncReport:  # fmt: skip
    clock = Clock(report.timings)
    with engine.begin() as conn:
        state = store.sync_state(conn, source.name) or {}
        held = store.stored_models(conn)
    clock.lap("read")
    listing = source.listing(watermark=state.get("watermark"))
    records = list(listing)  # raises where the listing fails: nothing is written then
    # Under min_downloads: only models this source already holds, so their counts stay current.
    records += [r for r in listing.below_threshold if _held_by(held.get(r["id"]), source.name)]
    clock.lap("listing")
    rows, rejected = parse_models(records, source.name, source.allowed_fields)
    report.listed, report.complete = len(records), listing.complete
    report.partial_reason = listing.partial_reason
    plan = changes.plan(rows, held, source.name, registry_sources)
    report.shadowed = len(plan.shadowed)
    shadowed = set(plan.shadowed)
    by_id = {row["id"]: changes.carry_over(row, held.get(row["id"]))
             for row in rows if row["id"] not in shadowed}  # fmt: skip
    own = [i for i, h in held.items() if h.source == source.name and not h.removed]
    gone = changes.removals(own, listing.seen, listing.complete)
    wanted = []
    if source.wants_details:
        # Also the pending models this listing left out (a watermark listing lists recent
        # changes only): every run retries them, so none waits on a complete listing.
        unlisted = changes.unlisted_pending(held, source.name, listing.seen.union(gone))
        by_id.update((i, changes.held_row(i, held[i])) for i in unlisted)
        wanted = [*plan.needs_details, *unlisted]
    cap = getattr(source, "max_detail_fetches", None)
    fetch, later = (wanted, []) if cap is None else (wanted[:cap], wanted[cap:])
    report.details_deferred = len(later)
    for model_id in later:
        by_id[model_id] = changes.mark_pending(by_id[model_id], "deferred: max_detail_fetches")
    clock.lap("parse")
    writer = RowWriter(engine, source.name, held, now)
    try:
        # First what the listing made final, then the rows completed by their details.
        writer.commit([], rejected)
        waiting = set(fetch)
        final = [row for model_id, row in by_id.items() if model_id not in waiting]
        for start in range(0, len(final), CHUNK):
            writer.commit(final[start : start + CHUNK])
        clock.lap("write")
        if fetch:
            _write_details(writer, source, records, fetch, by_id, report)
            clock.lap("details")
    finally:  # also when a chunk failed: the counts say what the failed run left written
        _tally(report, writer, plan)
    # Only now, every chunk written: what needs the complete listing, one short transaction.
    with engine.begin() as conn:
        report.removed = store.mark_removed(conn, source.name, gone, now)
        store.record_success(conn, source.name, now, report.counts(), listing.complete,
                             writer.newest)  # fmt: skip
    clock.lap("write")
    return report


def _held_by(stored: changes.Stored | None, source: str) -> bool:
    return stored is not None and stored.source == source and not stored.removed


def _tally(report: SyncReport, writer: RowWriter, plan: changes.Plan) -> None:
    report.quarantined = writer.quarantined
    report.new = [writer.rows[i] for i in plan.new if i in writer.rows]
    report.changed = sum(1 for i in plan.changed if i in writer.rows)
    # Whatever else was rewritten changed in value only: popularity, tags, card...
    report.updated = max(0, writer.written - len(report.new) - report.changed)


def _write_details(writer: RowWriter, source, records, wanted: list[str], by_id,
                   report: SyncReport) -> None:  # fmt: skip
    """Fetch details for `wanted` and commit those models, re-parsed with them, chunk by
    chunk; a model whose details fail keeps its listing values and is marked for the next run,
    and a detail record that fails validation is quarantined (the model goes with it)."""
    asked = set(wanted)
    listed: dict[str, dict] = {}
    for record in records:  # the first record of an id, as parse_models keeps
        if isinstance(record, dict) and isinstance(record.get("id"), str) and record["id"] in asked:
            listed.setdefault(record["id"], record)
    for details in source.detail_chunks(wanted, CHUNK):
        report.details_fetched += len(details.records)
        report.details_failed += len(details.failed)
        # A model this listing left out (unlisted_pending): its details alone, on its stored row.
        merged = [changes.merge_details(listed.get(i, {"id": i}), d)
                  for i, d in details.records.items()]  # fmt: skip
        rows, invalid = parse_models(merged, source.name, source.allowed_fields)
        rows = [row if row["id"] in listed else _on_stored(by_id[row["id"]], row, source)
                for row in rows]  # fmt: skip
        rows += [changes.mark_pending(by_id[i], why) for i, why in details.failed.items()]
        writer.commit(rows, invalid)


def _on_stored(stored: dict, detailed: dict, source) -> dict:
    blank = parse_model({"id": detailed["id"]}, source.name, source.allowed_fields)
    return changes.with_details(stored, detailed, blank)
