"""What a catalog export holds, and how it is laid out in the object store.

The serving snapshot (live models, the latest result per benchmark configuration with its cost,
the active recommendations) as one gzipped JSON Lines file per table under a dated, per-run
prefix, then a manifest (rows, bytes, SHA-256 per file), then `LATEST.json` pointing at it.
Objects are written once and never changed, so a reader that follows `LATEST.json` always finds
a complete export, whatever is being written at the time (S3 has no multi-object transactions).
"""

import gzip
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Select, select

from resources.db.tables import (
    BenchmarkResult,
    MlModel,
    Recommendation,
    RecommendationVersion,
    ResultCost,
)
from resources.object_store import EXPORTS_PREFIX

ROOT = f"{EXPORTS_PREFIX}catalog/"
LATEST_KEY = f"{ROOT}LATEST.json"
_BATCH = 2000  # rows fetched per round trip: memory stays flat however big the catalog grows

_MODELS = MlModel.__table__
_RESULTS = BenchmarkResult.__table__
_COSTS = ResultCost.__table__
_RECS = Recommendation.__table__
_VERSIONS = RecommendationVersion.__table__


@dataclass(frozen=True)
class ExportFile:
    name: str  # table name
    key: str  # object key
    rows: int
    bytes: int
    sha256: str


def export_prefix(day: date, run_id: str) -> str:
    """`exports/catalog/date=YYYY-MM-DD/run=<run>/`: dated for people and lifecycle rules."""
    return f"{ROOT}date={day.isoformat()}/run={run_id[:8]}/"


def active_version(conn: Connection) -> str | None:
    return conn.execute(select(_VERSIONS.c.version).where(_VERSIONS.c.active)).scalar()


def queries(version: str | None) -> dict[str, Select]:
    """One query per exported table, in a stable order (same data, same bytes)."""
    cost_columns = [c for c in _COSTS.c if c.name not in ("result_key", "measured_at", "gpu")]
    latest_results = (
        select(_RESULTS, *cost_columns)
        .outerjoin(
            _COSTS,
            (_COSTS.c.result_key == _RESULTS.c.result_key)
            & (_COSTS.c.measured_at == _RESULTS.c.measured_at),
        )
        .distinct(_RESULTS.c.result_key)
        .order_by(_RESULTS.c.result_key, _RESULTS.c.measured_at.desc())
    )
    return {
        "models": select(_MODELS).where(_MODELS.c.removed_at.is_(None)).order_by(_MODELS.c.id),
        "benchmark_results": latest_results,
        "recommendations": select(_RECS)
        .where(_RECS.c.version == version)
        .order_by(_RECS.c.kind, _RECS.c.task, _RECS.c.gpu, _RECS.c.key),
    }


def write_jsonl_gz(rows: Iterable[Mapping[str, Any]], path: Path) -> tuple[int, int, str]:
    """Write `rows` as gzipped JSON Lines; (rows, bytes, sha256). The gzip header carries no
    time or name, so unchanged data gives identical bytes (and the same ETag)."""
    count = 0
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) as out:
        for row in rows:
            out.write(orjson.dumps(dict(row), option=orjson.OPT_APPEND_NEWLINE))
            count += 1
    data = path.read_bytes()
    return count, len(data), hashlib.sha256(data).hexdigest()


def write_tables(
    conn: Connection, folder: Path, prefix: str, version: str | None
) -> list[ExportFile]:
    """Run every query on `conn` and write its file under `folder`."""
    files = []
    for name, query in queries(version).items():
        path = folder / f"{name}.jsonl.gz"
        result = conn.execution_options(yield_per=_BATCH).execute(query).mappings()
        rows, size, digest = write_jsonl_gz(result, path)
        files.append(ExportFile(name, f"{prefix}{path.name}", rows, size, digest))
    return files


def manifest(files: list[ExportFile], **about: Any) -> bytes:
    return orjson.dumps(
        {**about, "format": "jsonl.gz", "files": [asdict(f) for f in files]},
        option=orjson.OPT_INDENT_2,
    )


def problems(manifest_body: bytes, read: Any) -> list[str]:
    """What is wrong with an export, read back through `read(key) -> bytes` (empty: sound)."""
    found = []
    for entry in orjson.loads(manifest_body)["files"]:
        data = read(entry["key"])
        if len(data) != entry["bytes"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            found.append(f"{entry['key']}: bytes or checksum differ from the manifest")
        elif gzip.decompress(data).count(b"\n") != entry["rows"]:
            found.append(f"{entry['key']}: row count differs from the manifest")
    return found
