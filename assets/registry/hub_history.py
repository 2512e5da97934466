"""The Hub popularity export: one CSV row per model per day (see shared/data/README.md).

`read_export` checks the file and locates every problem by line; `latest_records` turns it into
Hub `/api/models` records, `daily_history` into the daily popularity series.
"""

import csv
import gzip
from pathlib import Path

import pandas as pd

from assets.common.errors import DataFileError

# Columns without which neither the model list nor the daily series can be built.
REQUIRED = ("snapshot_date", "trending", "id", "downloads", "likes")
_COUNTS = ("trending", "downloads", "likes")
# The export writes booleans as pandas prints them; the Hub's own gated modes pass through.
_BOOLS = {"False": False, "True": True, "false": False, "true": True}


def read_export(path: str | Path) -> pd.DataFrame:
    """All rows, indexed by their line in the file (header = line 1), with `snapshot_date` as a
    `datetime.date` and the counts as nullable integers; other columns stay text.

    Raises DataFileError (file and line) for a missing column, a ragged row, an empty id, a
    snapshot_date that is not YYYY-MM-DD, or a count that is not a non-negative integer.
    """
    path = Path(path)
    header, rows, lines = _read_rows(path)
    frame = pd.DataFrame(rows, columns=header, index=pd.Index(lines, name="line"))
    _fail_where(path, frame, frame["id"].str.strip() == "", "empty id")
    dates = pd.to_datetime(frame["snapshot_date"], format="%Y-%m-%d", errors="coerce")
    not_a_date = "snapshot_date {snapshot_date!r} is not a YYYY-MM-DD date"
    _fail_where(path, frame, dates.isna(), not_a_date)
    frame["snapshot_date"] = dates.dt.date
    for column in _COUNTS:
        text = frame[column]
        number = pd.to_numeric(text.where(text != ""), errors="coerce")
        # >= 2**63 would not fit the integer columns (or the cast below).
        bad = (text != "") & (number.isna() | (number % 1 != 0) | (number < 0) | (number >= 2**63))
        _fail_where(path, frame, bad, f"{column} {{{column}!r}} is not a non-negative integer")
        frame[column] = number.astype("Int64")
    return frame


def latest_records(export: pd.DataFrame) -> list[dict]:
    """One Hub-shaped record per model, from its latest row (the best-ranked one on a tie)."""
    ordered = export.sort_values(
        ["id", "snapshot_date", "trending"], ascending=[True, False, True], na_position="last"
    )
    latest = ordered.drop_duplicates("id", keep="first")
    return [_record(row) for row in latest.to_dict("records")]


def daily_history(export: pd.DataFrame) -> pd.DataFrame:
    """The daily series: model_id, snapshot_date, downloads (rolling 30 days), likes and
    trending_rank."""
    columns = {"id": "model_id", "snapshot_date": "snapshot_date", "downloads": "downloads"}
    columns |= {"likes": "likes", "trending": "trending_rank"}
    return export[list(columns)].rename(columns=columns).reset_index(drop=True)


def _read_rows(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    # The csv module, not pandas, so a quoted field spanning lines cannot shift line numbers.
    opener = gzip.open if path.suffix == ".gz" else open
    # utf-8-sig: a byte-order mark would otherwise glue itself to the first column's name.
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise DataFileError(path, 1, "empty file: no header")
        missing = [column for column in REQUIRED if column not in header]
        if missing:
            raise DataFileError(path, 1, f"missing column(s): {', '.join(missing)}")
        rows, lines = [], []
        start = reader.line_num + 1
        for row in reader:
            if row and len(row) != len(header):
                raise DataFileError(path, start, f"expected {len(header)} fields, found {len(row)}")
            if row:  # a blank line carries no data
                rows.append(row)
                lines.append(start)
            start = reader.line_num + 1
    return header, rows, lines


def _fail_where(path: Path, frame: pd.DataFrame, bad: pd.Series, reason: str) -> None:
    if bad.any():
        line = int(bad.idxmax())
        raise DataFileError(path, line, reason.format(**frame.loc[line].to_dict()))


def _record(row: dict) -> dict:
    parameters = _number(row.get("numParameters", ""))
    record = {
        "id": row["id"],
        "author": row.get("author") or None,
        "downloads": _int(row["downloads"]),
        "likes": _int(row["likes"]),
        "pipeline_tag": row.get("pipeline_tag") or None,
        "gated": _flag(row.get("gated", "")),
        "private": _flag(row.get("private", "")),
        "lastModified": row.get("lastModified") or None,
        # The Hub always sends the per-dtype split beside the total; the export has no split.
        "safetensors": None if parameters is None else {"parameters": {}, "total": parameters},
        # Not Hub fields: they say which day of the export the record describes.
        "snapshotDate": row["snapshot_date"].isoformat(),
        "trendingRank": _int(row["trending"]),
        "inference": row.get("inference") or None,
    }
    return {key: value for key, value in record.items() if value is not None}


def _int(value) -> int | None:
    return None if pd.isna(value) else int(value)


def _flag(text: str) -> bool | str | None:
    # Unknown strings pass through for `parse_model` to accept ("manual") or reject.
    return _BOOLS.get(text, text or None)


def _number(text: str) -> int | str | None:
    """numParameters is written as a float ("136731648.0"); Hub JSON has an integer."""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else text
