"""GPU rental prices in $/GPU-hour, as rows of the `gpu_prices` time series.

The real feed is tugot17's GPU price tracker: one JSON snapshot per line, about every 30
minutes, of marketplace offers for one GPU type. Each snapshot becomes

- one row per provider at that provider's **cheapest** $/GPU-h (`by_provider.<p>.min`): a buyer
  renting from a provider takes its cheapest listed offer, while the provider's `avg` mixes in
  offers nobody picks when a cheaper one of the same GPU is listed beside them;
- one row with provider ``marketplace-median`` (`price_stats.median` over all offers), the
  robust "going rate" that the cost model's price windows use.

A file is all or nothing: any bad line raises ``DataFileError`` naming file and line.
"""

import csv
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Protocol

from assets.common.errors import DataFileError
from assets.costs.gpus import UnknownGpuError, normalize_gpu_name

SOURCE = "tugot17-gpu-price-tracker"
MARKETPLACE_MEDIAN = "marketplace-median"
MARKETPLACE_REGION = "global"  # marketplace offers are listed without a region
PRICINGS = ("on-demand", "spot")
ROW_KEYS = ("observed_at", "gpu", "provider", "region", "pricing", "usd_per_gpu_hour", "source")
CSV_COLUMNS = ROW_KEYS[:-1]  # `source` is optional in hand-written files


class PriceSource(Protocol):
    """Anything that yields `gpu_prices` rows (keys ``ROW_KEYS``): files now, an API later."""

    def fetch(self) -> list[dict]: ...


class FilePriceSource:
    """Prices from a directory of tracker ``*.jsonl`` files, one ``.jsonl`` file, or a ``.csv``
    of canonical rows (columns ``CSV_COLUMNS``, optional ``source``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def fetch(self) -> list[dict]:
        if self.path.is_dir():
            return parse_price_dir(self.path)
        if self.path.suffix == ".csv":
            return sorted(read_price_csv(self.path), key=_order)
        return sorted(parse_price_file(self.path), key=_order)


def parse_price_dir(path: str | Path) -> list[dict]:
    """All ``*.jsonl`` files of a directory, sorted by (observed_at, gpu, provider)."""
    files = sorted(Path(path).glob("*.jsonl"))
    if not files:
        raise DataFileError(path, None, "no *.jsonl price files")
    rows, seen = [], {}
    for file in files:
        for row in parse_price_file(file):
            # A batch with a natural key twice would make the idempotent upsert ambiguous.
            key = tuple(row[k] for k in ("observed_at", "gpu", "provider", "region", "pricing"))
            if key in seen:
                raise DataFileError(file, None, f"price {key} already given by {seen[key]}")
            seen[key] = file.name
            rows.append(row)
    return sorted(rows, key=_order)


def parse_price_file(path: str | Path) -> list[dict]:
    """One ``.jsonl`` file: tracker snapshots, or canonical rows (lines with ``observed_at``)."""
    path = Path(path)
    rows: list[dict] = []
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:
                raise DataFileError(path, line, f"invalid JSON: {error.msg}") from None
            if not isinstance(record, dict):
                raise DataFileError(path, line, "a line must hold a JSON object")
            if "observed_at" in record:
                rows.append(_canonical_row(path, line, record, f"file:{path.name}"))
            else:
                rows.extend(_snapshot_rows(path, line, record))
    return rows


def read_price_csv(path: str | Path) -> list[dict]:
    """A hand-written or exported ``.csv`` of canonical rows."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in CSV_COLUMNS if name not in (reader.fieldnames or [])]
        if missing:
            raise DataFileError(path, 1, f"missing columns {missing}")
        return [_canonical_row(path, reader.line_num, r, f"file:{path.name}") for r in reader]


def _snapshot_rows(path: Path, line: int, record: dict) -> list[dict]:
    observed_at = _timestamp(path, line, _field(path, line, record, "timestamp"))
    raw_gpu = f"{_field(path, line, record, 'gpu_type')} {record.get('socket_type') or ''}"
    gpu = _gpu(path, line, raw_gpu)
    stats = _field(path, line, record, "price_stats")
    median = _price(path, line, _field(path, line, stats, "median", "price_stats"), "median")
    providers = _field(path, line, record, "by_provider")
    if not isinstance(providers, dict) or not providers:
        raise DataFileError(path, line, "by_provider must be a non-empty object")
    prices = {MARKETPLACE_MEDIAN: median}
    for provider, offer in providers.items():
        where = f"by_provider.{provider}"
        prices[provider] = _price(path, line, _field(path, line, offer, "min", where), where)
    return [
        _row(observed_at, gpu, provider, MARKETPLACE_REGION, "on-demand", price, SOURCE)
        for provider, price in prices.items()
    ]


def _canonical_row(path: Path, line: int, record: dict, default_source: str) -> dict:
    values = {key: _field(path, line, record, key) for key in CSV_COLUMNS}
    for key in ("provider", "region", "pricing"):
        if not isinstance(values[key], str) or not values[key].strip():
            raise DataFileError(path, line, f"{key} must be a non-empty string")
    if values["pricing"] not in PRICINGS:
        raise DataFileError(path, line, f"pricing must be one of {PRICINGS}")
    return _row(
        _timestamp(path, line, values["observed_at"]),
        _gpu(path, line, str(values["gpu"])),
        values["provider"].strip(),
        values["region"].strip(),
        values["pricing"],
        _price(path, line, values["usd_per_gpu_hour"], "usd_per_gpu_hour"),
        record.get("source") or default_source,
    )


def _row(observed_at, gpu, provider, region, pricing, price, source) -> dict:
    values = (observed_at, gpu, provider, region, pricing, price, source)
    return dict(zip(ROW_KEYS, values, strict=True))


def _order(row: dict) -> tuple:
    return row["observed_at"], row["gpu"], row["provider"], row["pricing"]


def _field(path: Path, line: int, record: object, key: str, where: str = ""):
    name = f"{where}.{key}" if where else key
    if not isinstance(record, dict) or record.get(key) is None:
        raise DataFileError(path, line, f"missing field {name!r}")
    return record[key]


def _timestamp(path: Path, line: int, value: object) -> datetime:
    try:
        observed_at = datetime.fromisoformat(str(value))
    except ValueError:
        raise DataFileError(path, line, f"not an ISO timestamp: {value!r}") from None
    if observed_at.tzinfo is None:
        raise DataFileError(path, line, f"timestamp without a time zone: {value!r}")
    return observed_at


def _price(path: Path, line: int, value: object, what: str) -> float:
    """A positive, finite $/GPU-h; bools and non-numbers are malformed, not prices."""
    try:
        price = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        price = math.nan
    if isinstance(value, bool) or not math.isfinite(price) or price <= 0:
        raise DataFileError(path, line, f"{what}: price must be a positive number, got {value!r}")
    return price


def _gpu(path: Path, line: int, raw: str) -> str:
    try:
        return normalize_gpu_name(raw)
    except UnknownGpuError as error:
        raise DataFileError(path, line, str(error)) from None
