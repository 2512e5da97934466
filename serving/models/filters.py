"""The /models listing's query: filters, sort order, page cursors and LIKE escaping (pure)."""

import base64
import binascii
import datetime as dt
import hashlib
from dataclasses import astuple, dataclass
from enum import StrEnum
from typing import Any

import orjson

# Deeper than this, OFFSET reads and throws away too many rows: clients page with `cursor`.
MAX_OFFSET = 10_000


class Sort(StrEnum):
    """Sort key; a leading `-` sorts descending.

    Ties break on id in the same direction, so `-downloads` is exactly `downloads` reversed and
    one (column, id) index serves both. Missing values sort last either way, in ascending id order.
    """

    downloads = "downloads"
    downloads_desc = "-downloads"
    likes = "likes"
    likes_desc = "-likes"
    last_modified = "last_modified"
    last_modified_desc = "-last_modified"
    id = "id"
    id_desc = "-id"

    @property
    def field(self) -> str:
        return self.value.removeprefix("-")

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")


SortValue = int | dt.datetime | None


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: its last row's sort value (None: missing) and id."""

    value: SortValue
    id: str


class Pricing(StrEnum):
    """Which price a cost limit reads: spot or on-demand GPU hours."""

    spot = "spot"
    on_demand = "on_demand"


@dataclass(frozen=True)
class BenchFilters:
    """Limits on a model's benchmark results: one latest measurement must meet all of them.

    `measured` alone asks for any result; each other limit implies it.
    """

    gpu: str | None = None
    max_p95_ms: float | None = None
    max_cost_per_mtok: float | None = None
    pricing: Pricing = Pricing.spot
    measured: bool = False

    @property
    def active(self) -> bool:
        limits = (self.gpu, self.max_p95_ms, self.max_cost_per_mtok)
        return self.measured or any(v is not None for v in limits)


@dataclass(frozen=True)
class ModelFilters:
    task: str | None = None
    author: str | None = None
    license: str | None = None
    min_params: int | None = None
    max_params: int | None = None
    q: str | None = None
    include_removed: bool = False
    sort: Sort = Sort.downloads_desc
    limit: int = 50
    offset: int = 0
    after: Cursor | None = None
    bench: BenchFilters | None = None
    # Registry names (`models.source`), canonical: see `source_names`. Empty: every source.
    sources: tuple[str, ...] = ()
    gated: bool | None = None
    # The registry's last change (`last_modified`, the Hub's "Updated") at or after this.
    updated_since: dt.datetime | None = None

    def digest(self) -> str:
        """What a cursor remembers of the query: every filter, not the sort or the page size."""
        key: list[Any] = [
            self.task, self.author, self.license, self.min_params, self.max_params, self.q,
            self.include_removed,
        ]  # fmt: skip
        # The later filters are appended only when set: cursors issued before them stay valid.
        if self.bench is not None:
            key.append(list(astuple(self.bench)))
        registry = {"sources": list(self.sources), "gated": self.gated,
                    "updated_since": self.updated_since}  # fmt: skip
        if any(v not in (None, []) for v in registry.values()):
            key.append(registry)
        return hashlib.blake2b(orjson.dumps(key), digest_size=6).hexdigest()


MAX_SOURCES = 20
# `source`: a comma list of up to MAX_SOURCES names (a name longer than the column's 64
# characters is not refused: it matches nothing).
MAX_SOURCE_TEXT = 1_000


def source_names(text: str) -> tuple[str, ...]:
    """`source=hf-hub, manifest` as the sorted distinct names ("hf-hub", "manifest").

    A comma list rather than a repeated parameter: every other filter is one value, and a
    repeated key would silently keep only its last value there. Sorted, so the same sources in
    another order are the same listing (and continue the same cursor). Raises ValueError for an
    empty name or more than MAX_SOURCES names.
    """
    names = [name.strip() for name in text.split(",")]
    if any(not name for name in names):
        raise ValueError("source names must not be empty (e.g. source=hf-hub,manifest)")
    unique = tuple(sorted(set(names)))
    if len(unique) > MAX_SOURCES:
        raise ValueError(f"at most {MAX_SOURCES} sources, not {len(unique)}")
    return unique


class CursorError(ValueError):
    """A cursor that cannot continue this listing; the message says why, for the client."""


# A checksum, not a signature: it catches edited or truncated cursors. A forged one could only
# name a position that plain paging reaches anyway, so no secret is needed.
_CHECK = b"model-catalog/models-cursor/v1"
_CHECK_CHARS = 12
_MAX_TOKEN = 2048


def encode_cursor(f: ModelFilters, value: SortValue, last_id: str) -> str:
    """The opaque `next_cursor` after a row with sort value `value` and id `last_id`."""
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    body = orjson.dumps([f.sort.value, f.digest(), value, last_id])
    token = _checksum(body).encode() + body
    return base64.urlsafe_b64encode(token).rstrip(b"=").decode()


def decode_cursor(token: str, f: ModelFilters) -> Cursor:
    """The position `token` names, checked against the listing `f` it is meant to continue."""
    body = _unwrap(token)
    try:
        sort, digest, value, last_id = orjson.loads(body)
    except (orjson.JSONDecodeError, TypeError, ValueError):
        raise CursorError("cursor is not one this API issued") from None
    if sort != f.sort.value:
        raise CursorError(
            f"cursor belongs to sort {sort!r}, not {f.sort.value!r}: "
            "drop it to start from the first page"
        )
    if digest != f.digest():
        raise CursorError(
            "cursor belongs to a listing with other filters: drop it to start from the first page"
        )
    if not isinstance(last_id, str) or not last_id:
        raise CursorError("cursor is not one this API issued")
    return Cursor(_sort_value(f.sort, value), last_id)


def _checksum(body: bytes) -> str:
    return hashlib.blake2b(body, key=_CHECK, digest_size=_CHECK_CHARS // 2).hexdigest()


def _unwrap(token: str) -> bytes:
    if len(token) > _MAX_TOKEN:
        raise CursorError("cursor is too long to be one this API issued")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise CursorError("cursor is not valid base64url") from None
    check, body = raw[:_CHECK_CHARS], raw[_CHECK_CHARS:]
    if check != _checksum(body).encode():
        raise CursorError("cursor is damaged (checksum mismatch): use `next_cursor` unchanged")
    return body


def _sort_value(sort: Sort, value: Any) -> SortValue:
    """The decoded sort value, of the type the sort column holds."""
    if value is None:
        return None
    if sort.field in ("downloads", "likes") and type(value) is int:
        return value
    if sort.field == "last_modified" and isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    raise CursorError("cursor is not one this API issued")


LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (escape character: backslash)."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def contains_pattern(text: str) -> str:
    return f"%{escape_like(text)}%"
