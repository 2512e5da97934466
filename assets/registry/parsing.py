"""Registry records (Hub `/api/models` JSON) to rows of the `models` and `model_snapshots` tables.

Pure functions: a record that cannot be trusted raises `InvalidRecord` with the reason, and
`parse_models` sets it aside so one bad record never stops a sync.
"""

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

# No published model comes near 10 trillion parameters: a larger count is a broken one.
MAX_PARAMETERS = 10**13
# Column widths in resources/db/tables.py: a longer value would fail the whole upsert.
_MAX_LENGTH = {"id": 512, "author": 256, "pipeline_tag": 128, "library_name": 128, "sha": 64}
_MAX_COUNT = {"downloads": 2**63 - 1, "likes": 2**31 - 1, "safetensors.total": 2**63 - 1}
# Fields read into columns, then repeats of other fields or ones too big to keep per model.
_NOT_EXTRA = {"id", "author", "sha", "lastModified", "downloads", "likes", "pipeline_tag",
              "library_name", "tags", "gated", "private", "cardData", "safetensors",
              "_id", "modelId", "siblings"}  # fmt: skip
# Booleans as some exports print them; gated is also one of the Hub's modes (a gated model).
_TEXT_BOOLS = {"False": False, "True": True, "false": False, "true": True}
_GATED_MODES = ("auto", "manual")
# The Hub's kinds of derivation (`base_model:<relation>:<id>` tags, `base_model_relation`).
RELATIONS = ("finetune", "quantized", "adapter", "merge")
SNAPSHOT_COLUMNS = ["model_id", "snapshot_date", "downloads", "likes", "trending_rank"]


class InvalidRecord(ValueError):
    """A registry record that cannot become a row; the message says why."""


# PostgreSQL's text and JSONB cannot hold U+0000: one such character would fail a whole batch.
_NUL = "\x00"
# How json.dumps writes it: "\u0000" after an even number of backslashes (an odd number is a
# text that spells the escape).
_NUL_ESCAPED = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def _nul(where: str) -> InvalidRecord:
    return InvalidRecord(f"{where} contains a NUL character, which PostgreSQL text cannot hold")


def parse_model(
    record: Mapping[str, Any], source: str, allowed_fields: frozenset[str] | None = None
) -> dict[str, Any]:
    """One `models` row from one Hub-shaped record (see resources/registry.py). With
    `allowed_fields` (a manifest's schema), a field outside it makes the record invalid."""
    if not isinstance(record, Mapping):
        raise InvalidRecord(f"record is a {type(record).__name__}, not an object")
    model_id = _text(record, "id")
    if not model_id or not model_id.strip():
        raise InvalidRecord("missing or empty id")
    if allowed_fields is not None:
        unknown = sorted(str(key) for key in record if key not in allowed_fields)
        if unknown:
            raise InvalidRecord(f"unknown field(s): {', '.join(unknown)}")
    card = record.get("cardData") or {}
    safetensors = record.get("safetensors") or {}
    if not isinstance(card, Mapping) or not isinstance(safetensors, Mapping):
        raise InvalidRecord("cardData and safetensors must be objects")
    parameters = _count(safetensors.get("total"), "safetensors.total")
    if parameters is not None and not 0 < parameters <= MAX_PARAMETERS:
        raise InvalidRecord(f"absurd parameter count {parameters}")
    tags = record.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise InvalidRecord("tags must be a list of strings")
    if any(_NUL in tag for tag in tags):
        raise _nul("a tag")
    extra = {k: v for k, v in record.items() if k not in _NOT_EXTRA}
    if record.get("gated") in _GATED_MODES:
        extra["gated_mode"] = record["gated"]
    if safetensors.get("parameters"):
        extra["parameters_by_dtype"] = safetensors["parameters"]
    base_models, relations = lineage(card, tags)
    if relations:
        extra["base_model_relations"] = relations
    license_ = _license(card, tags)
    if (license_ and _NUL in license_) or any(_NUL in base for base in base_models):
        raise _nul("cardData")
    return {
        "id": model_id,
        "source": source,
        # Legacy ids without an owner ("gpt2") have no author; an owned id names its author.
        "author": _text(record, "author") or (model_id.split("/")[0] if "/" in model_id else None),
        "pipeline_tag": _text(record, "pipeline_tag"),
        "library_name": _text(record, "library_name"),
        "license": license_,
        "gated": _flag(record.get("gated"), "gated", _GATED_MODES),
        "private": _flag(record.get("private"), "private"),
        "num_parameters": parameters,
        "sha": _text(record, "sha"),
        "last_modified": _timestamp(record.get("lastModified")),
        "downloads": _count(record.get("downloads"), "downloads"),
        "likes": _count(record.get("likes"), "likes"),
        "tags": tags,
        "base_models": base_models,
        "extra": _extra(extra),
    }


def parse_models(
    records: Iterable[Mapping[str, Any]], source: str, allowed_fields: frozenset[str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows, rejected): every valid record once, and each other record with its reason.

    An id seen twice keeps its first record: a listing paged while the Hub's order shifts can
    repeat a model, and one INSERT ... ON CONFLICT cannot touch the same key twice.
    """
    rows: dict[str, dict[str, Any]] = {}
    rejected: list[dict[str, Any]] = []
    for record in records:
        try:
            row = parse_model(record, source, allowed_fields)
        except InvalidRecord as error:
            rejected.append({"record": record, "reason": str(error)})
            continue
        if row["id"] in rows:
            rejected.append({"record": record, "reason": f"duplicate id {row['id']!r}"})
        else:
            rows[row["id"]] = row
    return list(rows.values()), rejected


def snapshot_rows(history: pd.DataFrame, source: str) -> list[dict[str, Any]]:
    """`model_snapshots` rows, one per (model_id, snapshot_date).

    A model listed twice on one day keeps its best trending rank (the export lists a day's
    models in rank order, so that is where it first appeared); the real export has no such pair.
    """
    missing = [column for column in SNAPSHOT_COLUMNS if column not in history.columns]
    if missing:
        raise ValueError(f"history is missing column(s): {', '.join(missing)}")
    frame = history[SNAPSHOT_COLUMNS].sort_values(
        ["model_id", "snapshot_date", "trending_rank"], na_position="last", kind="stable"
    )
    frame = frame.drop_duplicates(["model_id", "snapshot_date"], keep="first")
    frame = frame.astype(object).where(frame.notna(), None).assign(source=source)
    # to_dict boxes numpy scalars as Python ints, which the database driver can adapt.
    return frame.to_dict("records")


def _text(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"{key} is a {type(value).__name__}, not a string")
    if _NUL in value:
        raise _nul(key)
    if len(value) > _MAX_LENGTH[key]:
        raise InvalidRecord(f"{key} is longer than {_MAX_LENGTH[key]} characters")
    return value


def _flag(value: Any, key: str, modes: tuple[str, ...] = ()) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and (value in _TEXT_BOOLS or value in modes):
        return _TEXT_BOOLS.get(value, True)
    expected = "a boolean or a gated mode" if modes else "a boolean"
    raise InvalidRecord(f"{key} is {value!r}, expected {expected}")


def _count(value: Any, key: str) -> int | None:
    """A non-negative integer, also from an integral float or string ("12", "12.0")."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidRecord(f"{key} is a boolean, not a count")
    try:
        # An int stays exact; anything else goes through float to accept "12.0".
        number = value if isinstance(value, int) else float(value)
    except (TypeError, ValueError):
        raise InvalidRecord(f"{key} {value!r} is not a number") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise InvalidRecord(f"{key} {value!r} is not a finite number")
    if number < 0 or number != int(number):
        raise InvalidRecord(f"{key} {value!r} is not a non-negative integer")
    if number > _MAX_COUNT[key]:
        raise InvalidRecord(f"{key} {value!r} does not fit its column")
    return int(number)


def _timestamp(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidRecord(f"lastModified {value!r} is not an ISO 8601 timestamp") from None
    # The Hub writes UTC ("...Z"); a timestamp without an offset is read as UTC too.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _license(card: Mapping[str, Any], tags: list[str]) -> str | None:
    value = card.get("license")
    if isinstance(value, list):  # a card may list several; the first is the one shown
        value = value[0] if value else None
    if isinstance(value, str) and value:
        return value[:128]
    tagged = (tag.removeprefix("license:") for tag in tags if tag.startswith("license:"))
    return next((name[:128] for name in tagged if name), None)


def lineage(card: Mapping[str, Any], tags: list[str]) -> tuple[list[str], dict[str, str]]:
    """(base model ids, {base id: relation}) from `base_model:` tags and the card.

    The Hub tags a child "base_model:<id>" and "base_model:<relation>:<id>", relation one of
    finetune / quantized / adapter / merge; a card may declare `base_model` (one or a list) and
    `base_model_relation`. Ids never contain ':'. A base without a stated relation has none
    in the map rather than a guess.
    """
    found: list[str] = []
    relations: dict[str, str] = {}
    for tag in tags:
        if not tag.startswith("base_model:"):
            continue
        parts = tag.split(":")
        if parts[-1]:
            found.append(parts[-1])
            if len(parts) == 3 and parts[1] in RELATIONS:
                relations.setdefault(parts[-1], parts[1])
    declared = card.get("base_model")
    found += declared if isinstance(declared, list) else [declared]
    bases = list(dict.fromkeys(m for m in found if isinstance(m, str) and m))
    stated = card.get("base_model_relation")
    if stated in RELATIONS:
        for base in bases:
            relations.setdefault(base, stated)
    return bases, {base: relations[base] for base in bases if base in relations}


def _extra(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields kept in the JSONB `extra` column: those JSON can hold; NUL makes it invalid."""
    extra = {}
    for key, value in fields.items():
        safe = _json_safe(value, key)
        if safe is None:
            continue
        if _NUL in key or (isinstance(safe, str) and _NUL in safe):
            raise _nul(f"field {key!r}")
        extra[key] = safe
    return extra


def _json_safe(value: Any, key: str) -> Any:
    """The value as JSON would store it (dates as ISO text), or None where JSONB cannot hold it
    (a nested value holding a NUL makes the record invalid)."""
    # Most values are plain scalars, which need no round trip (it was 40% of parsing a record).
    if value is None or isinstance(value, str | int):  # bool is an int
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        text = json.dumps(value, allow_nan=False, default=_isoformat)
    except (TypeError, ValueError):
        return None
    if "\\u0000" in text and _NUL_ESCAPED.search(text):
        raise _nul(f"field {key!r}")
    return json.loads(text)


def _isoformat(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
