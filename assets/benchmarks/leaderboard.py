"""Open LLM Leaderboard (v1) snapshots → `model_quality` rows.

The snapshots' headers differ (`ARC (25-shot)` vs `ARC(25-shot)`), files start with a UTF-8 BOM,
and `Parameters` is a 0-100 rescaled value, not a count, so it is not read. Rows without a Hub
id (`org/name`) cannot be joined to anything and are counted, not stored.
"""

import csv
import re
from datetime import date
from pathlib import Path
from typing import Any

from assets.common.errors import DataFileError

SOURCE = "open-llm-leaderboard-v1"
_SCORES = {"average": "average", "arc": "arc", "hellaswag": "hellaswag", "mmlu": "mmlu",
           "truthfulqa": "truthfulqa"}  # fmt: skip


def _column(header: str) -> str:
    """'ARC (25-shot)' and 'ARC(25-shot)' -> 'arc'."""
    return re.sub(r"\(.*\)", "", header).strip().lower()


def parse_snapshot(path: Path) -> tuple[list[dict[str, Any]], int]:
    """(rows, skipped) for one snapshot file named YYYYMMDD.csv."""
    try:
        day = date(int(path.stem[:4]), int(path.stem[4:6]), int(path.stem[6:8]))
    except ValueError as error:
        raise DataFileError(path, None, "file name is not a YYYYMMDD date") from error
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [_column(h) for h in next(reader, [])]
        if "model" not in header or not set(_SCORES) <= set(header):
            raise DataFileError(path, 1, f"expected model and {sorted(_SCORES)}, got {header}")
        rows, seen, skipped = [], set(), 0
        for line, values in enumerate(reader, start=2):
            if len(values) != len(header):
                raise DataFileError(path, line, f"{len(values)} fields, header has {len(header)}")
            record = dict(zip(header, values, strict=True))
            model_id = record["model"].strip()
            if "/" not in model_id or model_id in seen:
                skipped += 1
                continue
            seen.add(model_id)
            row = {"model_id": model_id, "source": SOURCE, "snapshot_date": day}
            for name, column in _SCORES.items():
                row[column] = _score(path, line, record[name])
            rows.append(row)
    return rows, skipped


def parse_leaderboard_dir(directory: Path) -> tuple[list[dict[str, Any]], int]:
    rows, skipped = [], 0
    for path in sorted(directory.glob("*.csv")):
        parsed, dropped = parse_snapshot(path)
        rows.extend(parsed)
        skipped += dropped
    return rows, skipped


def _score(path: Path, line: int, value: str) -> float | None:
    if value.strip() == "":
        return None
    try:
        score = float(value)
    except ValueError as error:
        raise DataFileError(path, line, f"score {value!r} is not a number") from error
    if not 0 <= score <= 100:
        raise DataFileError(path, line, f"score {score} outside 0..100")
    return score
