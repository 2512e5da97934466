"""What a sync changes, decided from a listing and what the catalog holds (pure functions).

- new: an id the catalog does not hold (or holds only from a non-registry source, such as a
  benchmark import, or as removed);
- changed: a revision change, `sha` or `lastModified` differ from the stored row;
- details are fetched only for new and changed models, and for models whose details an earlier
  run could not read (`details_pending`), unless the listing already carried the revision and
  its parameter counts; pending ones are retried on every run, listed this time or not;
- unchanged: every value the sync writes equals the stored one; such a row is not sent to the
  database at all (a daily run over a large registry changes few rows);
- removed: held by this source, not removed, and missing from a *complete* listing.
"""

import hashlib
import json
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Row values that come from a model's details, kept from the stored row when a listing without
# them reports an unchanged model (the listing does not send parameter counts reliably).
DETAIL_EXTRA = ("parameters_by_dtype",)
PENDING = "details_pending"
# The columns a sync writes (parse_model's keys but `id`), in the order of `Stored.content`.
CONTENT = ("source", "author", "pipeline_tag", "library_name", "license", "gated", "private",
           "num_parameters", "sha", "last_modified", "downloads", "likes", "tags", "base_models",
           "extra")  # fmt: skip


@dataclass(frozen=True)
class Stored:
    """What the catalog holds of a model id, as far as a sync needs it."""

    source: str
    sha: str | None
    last_modified: datetime | None
    removed: bool
    num_parameters: int | None = None
    detail_extra: Mapping[str, Any] | None = None
    details_pending: bool = False
    # The stored values of CONTENT (None: not read, so never taken as unchanged).
    content: tuple[Any, ...] | None = None


@dataclass
class Plan:
    new: list[str]
    changed: list[str]
    # Held by another registry source (the earlier source in the configuration keeps it).
    shadowed: list[str]
    needs_details: list[str]


def plan(
    rows: Iterable[Mapping[str, Any]],
    stored: Mapping[str, Stored],
    source: str,
    registry_sources: set[str],
) -> Plan:
    new, changed, shadowed, pending = [], [], [], []
    # Listed with a revision and its parameter counts: the details would add nothing.
    listed_in_full: set[str] = set()
    for row in rows:
        model_id = row["id"]
        if row["sha"] and row["num_parameters"] is not None:
            listed_in_full.add(model_id)
        held = stored.get(model_id)
        if held is None or held.removed or held.source not in registry_sources:
            new.append(model_id)
        elif held.source != source:
            shadowed.append(model_id)
        elif (held.sha, held.last_modified) != (row["sha"], row["last_modified"]):
            changed.append(model_id)
        elif held.details_pending:
            pending.append(model_id)
    wanted = [i for i in (*new, *changed, *pending) if i not in listed_in_full]
    return Plan(new, changed, shadowed, wanted)


def unlisted_pending(stored: Mapping[str, Stored], source: str, listed: set[str]) -> list[str]:
    """Models `source` holds, details pending (deferred by `max_detail_fetches`, or failed),
    that this listing did not carry. A listing stopped at the watermark carries only models
    modified since the last sync, and the watermark moves past a deferred one: without these,
    its details would wait for its next revision or the next complete listing."""
    return sorted(model_id for model_id, held in stored.items()
                  if held.source == source and not held.removed and held.details_pending
                  and model_id not in listed)  # fmt: skip


def held_row(model_id: str, held: Stored) -> dict[str, Any]:
    """The stored row of a model, as a sync writes it (`held.content` must have been read)."""
    if held.content is None:
        raise ValueError(f"the stored values of {model_id!r} were not read")
    return {"id": model_id, **dict(zip(CONTENT, held.content, strict=True))}


def with_details(
    row: Mapping[str, Any], detailed: Mapping[str, Any], blank: Mapping[str, Any]
) -> dict[str, Any]:
    """A stored `row` completed by a model's details alone (no listing record this run).
    `detailed` is the details parsed as a record, `blank` a record of the id alone parsed: a
    column equal to the blank one was not in the details (downloads, likes: the listing's
    fields), so it keeps its stored value rather than becoming empty."""
    columns = {c: v for c, v in detailed.items() if c != "extra" and v != blank[c]}
    extra = {k: v for k, v in (row["extra"] or {}).items() if k != PENDING}
    return {**row, **columns, "extra": {**extra, **detailed["extra"]}}


def carry_over(row: dict[str, Any], held: Stored | None) -> dict[str, Any]:
    """The row, with the detail values of the stored row where the listing left them out."""
    if held is None or held.removed:
        return row
    if row["num_parameters"] is None and held.num_parameters is not None:
        row = {**row, "num_parameters": held.num_parameters}
    kept = {k: v for k, v in (held.detail_extra or {}).items() if k not in row["extra"]}
    if kept:
        row = {**row, "extra": {**row["extra"], **kept}}
    return row


def unchanged(row: Mapping[str, Any], held: Stored | None) -> bool:
    """Whether writing `row` would leave the stored row as it is. Python's `==` takes
    1 == 1.0 == True, which JSONB does not: `extra` is compared as sorted JSON text."""
    if held is None or held.removed or held.content is None:
        return False
    *values, extra = (row[column] for column in CONTENT)
    *stored, stored_extra = held.content
    return values == stored and _json_text(extra) == _json_text(stored_extra)


def _json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def merge_details(record: Mapping[str, Any], detail: Mapping[str, Any]) -> dict[str, Any]:
    """A listing record completed by the model's own record (its values win where present)."""
    return {**record, **{k: v for k, v in detail.items() if v is not None and k != "id"}}


def mark_pending(row: dict[str, Any], why: str) -> dict[str, Any]:
    """A row whose details could not be read: a later run fetches them again."""
    return {**row, "extra": {**row["extra"], PENDING: storable_text(why[:300])}}


def storable_text(text: str) -> str:
    """`text` as PostgreSQL can store it: text and JSONB cannot hold NUL (U+0000), so it
    becomes U+FFFD, the replacement character (an error message may quote a server's bytes)."""
    return text.replace("\x00", "\ufffd")


def removals(held_ids: Iterable[str], seen: set[str], complete: bool) -> list[str]:
    """Ids to mark removed: none at all unless the listing was complete."""
    return sorted(set(held_ids) - seen) if complete else []


def quarantine_row(item: Mapping[str, Any], source: str, now: datetime) -> dict[str, Any]:
    """A `registry_quarantine` row for a rejected record ({"record", "reason"})."""
    key, model_id = quarantine_key(item["record"])
    return {"source": source, "record_key": key, "model_id": model_id,
            "reason": storable_text(item["reason"][:2000]),
            "payload": json_payload(item["record"]), "first_seen": now, "last_seen": now,
            "times_seen": 1}  # fmt: skip


def quarantine_key(record: Any) -> tuple[str, str | None]:
    """(record_key, model_id): the id where the record has a usable one, else a payload hash."""
    model_id = record.get("id") if isinstance(record, Mapping) else None
    usable = isinstance(model_id, str) and model_id.strip() and "\x00" not in model_id
    if usable and len(model_id) <= 512:
        return model_id, model_id
    payload = json.dumps(json_payload(record), sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest(), None


def json_payload(record: Any) -> dict[str, Any]:
    """The raw record as JSONB can hold it (a non-object wrapped as {"value": ...}; NaN and
    infinities, which JSON lacks, as null; NUL as U+FFFD; anything else JSON lacks as its
    text)."""
    value = record if isinstance(record, Mapping) else {"value": record}
    return json.loads(json.dumps(_storable(value), default=str, allow_nan=False))


def _storable(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, Mapping):
        return {storable_text(str(k)): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


def quarantine_spike(
    listed: int,
    quarantined: int,
    previous: list[int],
    *,
    max_share: float,
    factor: float,
    minimum: int,
) -> str | None:
    """Why this run's quarantine is a spike, or None: more than `max_share` of the records, or
    more than `factor` x the median of previous runs; never under `minimum` records."""
    if quarantined < minimum:
        return None
    share = quarantined / max(listed, 1)
    if share > max_share:
        return f"{quarantined} of {listed} records quarantined ({share:.1%} > {max_share:.1%})"
    if previous:
        median = statistics.median(previous)
        if quarantined > factor * max(median, 1):
            return f"{quarantined} quarantined, over {factor:g}x the trailing median {median:g}"
    return None
