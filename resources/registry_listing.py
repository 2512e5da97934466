"""What every registry source returns: a listing that knows whether it was complete, and
per-model details.

A listing is complete only when it went to its natural end: not capped by a limit, not stopped
at a watermark, not cut by an error (an error raises out of the iteration, so `complete` stays
False). Only a complete listing may mark models as removed: a model missing from a partial one
may simply be on a page that was never read.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


class Listing:
    """Iterate once for the records to ingest; then `complete`, `seen`, `partial_reason`, and
    `below_threshold`: the records under `min_downloads`, which join the catalog only if it
    already holds them (their counts are kept current; the threshold decides who joins)."""

    def __init__(self, items: Iterable[Any], min_downloads: int = 0) -> None:
        self._items = items
        self._min_downloads = min_downloads
        self.complete = False
        self.partial_reason: str | None = None
        # Every id the source listed, also those under `min_downloads` (still listed, not gone).
        self.seen: set[str] = set()
        self.below_threshold: list[dict[str, Any]] = []

    def __iter__(self) -> Iterator[Any]:
        for item in self._items:
            if isinstance(item, tuple):  # a ("partial", reason) marker from the source
                self.partial_reason = item[1]
                continue
            model_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(model_id, str) and model_id:
                self.seen.add(model_id)
                if self._min_downloads and _downloads(item) < self._min_downloads:
                    self.below_threshold.append(item)
                    continue
            yield item
        self.complete = self.partial_reason is None


def _downloads(item: dict[str, Any]) -> float:
    value = item.get("downloads")
    # A malformed count is not filtered here: the record goes on and is quarantined for it.
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 1e300


@dataclass
class Details:
    """Per-model records by id, and the ids whose details could not be read (why)."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
