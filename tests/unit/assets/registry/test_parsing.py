"""Registry parsing: the real Hub export end to end, bad records, and malformed files."""

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assets.common.errors import DataFileError
from assets.registry.hub_history import read_export
from assets.registry.parsing import (
    MAX_PARAMETERS,
    InvalidRecord,
    parse_model,
    parse_models,
    snapshot_rows,
)
from resources.db.tables import MlModel, ModelSnapshot
from resources.registry import SNAPSHOT_FILE, SnapshotSource
from resources.settings import Settings

EXPORT = Settings(database_url=None, redis_url=None).data_dir / "hf_hub" / SNAPSHOT_FILE
# The catalog sets these itself on upsert.
MODEL_COLUMNS = {c.name for c in MlModel.__table__.columns} - {"first_seen", "updated_at"}
MODEL_COLUMNS -= {"removed_at"}
SNAPSHOT_COLUMNS = {c.name for c in ModelSnapshot.__table__.columns}
HEADER = "snapshot_date,trending,id,author,downloads,likes,gated\n"


@pytest.fixture(scope="module")
def snapshot() -> SnapshotSource:
    return SnapshotSource(path=str(EXPORT))


def test_the_real_export_gives_276_models(snapshot: SnapshotSource) -> None:
    rows, rejected = parse_models(snapshot.listing(), snapshot.name)
    assert (len(rows), rejected) == (276, [])
    assert all(set(row) == MODEL_COLUMNS for row in rows)
    by_id = {row["id"]: row for row in rows}
    uae = by_id["WhereIsAI/UAE-Large-V1"]  # its latest row: 2026-05-07, rank 99
    assert (uae["downloads"], uae["likes"], uae["source"]) == (1280064, 237, "hf-hub-snapshot")
    assert uae["last_modified"] == datetime(2025, 7, 29, 13, 33, 12, tzinfo=UTC)
    assert uae["extra"] == {"snapshotDate": "2026-05-07", "trendingRank": 99}
    # The export says "False" for every gated and private flag, and counts parameters from 2025
    # on: 52 models carry a count on their latest row.
    assert not any(row["gated"] or row["private"] for row in rows)
    assert sum(row["num_parameters"] is not None for row in rows) == 52
    assert by_id["mixedbread-ai/mxbai-embed-large-v1"]["num_parameters"] == 335141888
    json.dumps([row["extra"] for row in rows], allow_nan=False)  # JSONB-safe


def test_the_real_history_has_one_row_per_model_and_day(snapshot) -> None:
    history = snapshot.history()
    assert set(history.columns) == SNAPSHOT_COLUMNS - {"source"}
    rows = snapshot_rows(history, snapshot.name)
    assert len(rows) == len(history) == 111_873  # no (model_id, snapshot_date) repeats
    assert set(rows[0]) == SNAPSHOT_COLUMNS
    assert len({row["model_id"] for row in rows}) == 276
    assert len({row["snapshot_date"] for row in rows}) == 721
    first = rows[0]
    assert isinstance(first["snapshot_date"], date) and type(first["downloads"]) is int


def test_a_day_listed_twice_keeps_its_best_rank() -> None:
    history = pd.DataFrame(
        {
            "model_id": ["a/x", "a/x", "a/x", "b/y"],
            "snapshot_date": [date(2025, 1, day) for day in (1, 1, 2, 1)],
            "downloads": pd.array([10, 12, 11, None], dtype="Int64"),
            "likes": pd.array([1, 1, 1, 0], dtype="Int64"),
            "trending_rank": pd.array([7, 3, 5, 1], dtype="Int64"),
        }
    )
    rows = snapshot_rows(history, "test")
    assert [(r["model_id"], r["snapshot_date"].day, r["trending_rank"]) for r in rows] == [
        ("a/x", 1, 3), ("a/x", 2, 5), ("b/y", 1, 1)
    ]  # fmt: skip
    assert rows[2]["downloads"] is None
    with pytest.raises(ValueError, match="trending_rank"):
        snapshot_rows(history.drop(columns="trending_rank"), "test")


def test_a_full_hub_record() -> None:
    row = parse_model(
        {
            "_id": "65f0", "id": "org/m", "sha": "abc", "downloads": "12.0", "likes": 3,
            "lastModified": "2024-04-18T23:20:55.000Z", "gated": "auto", "private": False,
            "tags": ["license:mit", "base_model:org/base", "base_model:quantized:org/base"],
            "safetensors": {"parameters": {"BF16": 7}, "total": 7}, "siblings": [{"x": 1}],
            "createdAt": datetime(2024, 1, 1, tzinfo=UTC), "trendingScore": float("nan"),
        },
        "hf-hub",
    )  # fmt: skip
    assert row["author"] == "org" and row["license"] == "mit" and row["base_models"] == ["org/base"]
    assert (row["gated"], row["private"]) == (True, False)
    assert (row["downloads"], row["num_parameters"]) == (12, 7)
    assert row["last_modified"].tzinfo is not None
    # Kept: the gated mode, the dtype split, the lineage relation, createdAt as text;
    # dropped: _id, siblings, NaN.
    assert row["extra"] == {
        "gated_mode": "auto", "parameters_by_dtype": {"BF16": 7},
        "base_model_relations": {"org/base": "quantized"},
        "createdAt": "2024-01-01T00:00:00+00:00",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"downloads": 1}, "missing or empty id"),
        ({"id": "  "}, "missing or empty id"),
        ({"id": 42}, "id is a int"),
        ({"id": "a/b", "downloads": "lots"}, "downloads 'lots' is not a number"),
        ({"id": "a/b", "downloads": 1.5}, "not a non-negative integer"),
        ({"id": "a/b", "downloads": -3}, "not a non-negative integer"),
        ({"id": "a/b", "likes": True}, "likes is a boolean"),
        ({"id": "a/b", "likes": 2**31}, "likes 2147483648 does not fit its column"),
        ({"id": "a/b", "downloads": float("inf")}, "downloads inf is not a finite number"),
        ({"id": "a/b", "safetensors": {"total": 0}}, "absurd parameter count 0"),
        ({"id": "a/b", "safetensors": {"total": MAX_PARAMETERS + 1}}, "absurd parameter count"),
        ({"id": "a/b", "gated": "sometimes"}, "gated is 'sometimes'"),
        ({"id": "a/b", "private": "yes"}, "private is 'yes'"),
        ({"id": "a/b", "lastModified": "yesterday"}, "not an ISO 8601 timestamp"),
        ({"id": "a/b", "tags": "nlp"}, "tags must be a list of strings"),
        ({"id": "a/b", "cardData": ["mit"]}, "cardData and safetensors must be objects"),
        ({"id": "a/" + "x" * 511}, "id is longer than 512"),
        ("a/b", "record is a str"),
        # PostgreSQL text and JSONB cannot hold NUL: wherever it is, the record is set aside.
        ({"id": "a/b\x00"}, "id contains a NUL character"),
        ({"id": "a/b", "sha": "\x00"}, "sha contains a NUL character"),
        ({"id": "a/b", "tags": ["nlp", "x\x00"]}, "a tag contains a NUL character"),
        ({"id": "a/b", "cardData": {"license": "mit\x00"}}, "cardData contains a NUL"),
        ({"id": "a/b", "cardData": {"base_model": ["x\x00/y"]}}, "cardData contains a NUL"),
        ({"id": "a/b", "createdAt": "2024\x00"}, "field 'createdAt' contains a NUL"),
        ({"id": "a/b", "widget": [{"text": "\x00"}]}, "field 'widget' contains a NUL"),
        ({"id": "a/b", "k\x00": 1}, r"field 'k\\x00' contains a NUL"),
    ],
)
def test_bad_records_are_rejected_with_a_reason(record, reason: str) -> None:
    with pytest.raises(InvalidRecord, match=reason):
        parse_model(record, "hf-hub")


def test_parse_models_keeps_the_rest_and_says_why() -> None:
    records = [{"id": "a/1"}, {"id": "a/2", "downloads": "x"}, {"id": "a/1", "likes": 9}, {}]
    rows, rejected = parse_models(records, "hf-hub")
    assert [row["id"] for row in rows] == ["a/1"] and rows[0]["likes"] is None
    assert [item["reason"] for item in rejected] == [
        "downloads 'x' is not a number", "duplicate id 'a/1'", "missing or empty id"
    ]  # fmt: skip
    assert rejected[1]["record"] == {"id": "a/1", "likes": 9}


def test_a_text_that_spells_the_nul_escape_is_kept() -> None:
    row = parse_model({"id": "a/b", "widget": [{"text": "\\u0000", "odd": "\\\\u0000"}]}, "s")
    assert row["extra"]["widget"] == [{"text": "\\u0000", "odd": "\\\\u0000"}]


def test_a_timestamp_without_offset_is_utc() -> None:
    row = parse_model({"id": "a/b", "lastModified": "2024-05-01T10:00:00"}, "s")
    assert row["last_modified"] == datetime(2024, 5, 1, 10, tzinfo=UTC)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=4,
)
_KEYS = ["id", "author", "downloads", "likes", "gated", "private", "tags", "cardData",
         "safetensors", "lastModified", "sha", "pipeline_tag", "library_name", "other"]  # fmt: skip


@given(st.dictionaries(st.sampled_from(_KEYS), _JSON, max_size=6))
def test_any_json_record_parses_or_is_rejected(record: dict) -> None:
    try:
        row = parse_model(record, "hf-hub")
    except InvalidRecord:
        return
    assert set(row) == MODEL_COLUMNS
    json.dumps(row["extra"], allow_nan=False)
    assert not any("\x00" in text for text in _texts(row))  # what PostgreSQL cannot store


def _texts(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [*value, *(t for item in value.values() for t in _texts(item))]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    return []


def _write(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("", 1, "empty file: no header"),
        ("snapshot_date,trending,id,likes\n", 1, "missing column(s): downloads"),
        (
            HEADER + "2025-01-01,1,a/b,a,5,0,False\n2025-13-01,2,a/c,a,5,0,False\n",
            3,
            "snapshot_date '2025-13-01' is not a YYYY-MM-DD date",
        ),
        (
            HEADER + "2025-01-01,1,a/b,a,5,0,False\n\n2025-01-01,2,a/c,a,many,0,False\n",
            4,
            "downloads 'many' is not a non-negative integer",
        ),
        (
            HEADER + '2025-01-01,1,a/b,"two\nlines",5,0,False\n2025-01-01,2,,a,5,0,False\n',
            4,
            "empty id",
        ),
        (HEADER + "2025-01-01,1,a/b,a,5,0\n", 2, "expected 7 fields, found 6"),
        (
            HEADER + "2025-01-01,1,a/b,a,1e30,0,False\n",
            2,
            "downloads '1e30' is not a non-negative integer",
        ),
    ],
)
def test_a_malformed_export_names_file_and_line(tmp_path, text, line, reason) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(DataFileError) as caught:
        read_export(path)
    assert str(caught.value) == f"{path}:{line}: {reason}"


def test_a_small_gzipped_export_reads(tmp_path: Path) -> None:
    text = HEADER + "2025-01-01,2,a/b,a,5,,manual\n2025-01-02,1,a/b,a,6,1,manual\n"
    resource = SnapshotSource(path=str(_write(tmp_path, text, "export.csv.gz")))
    (record,) = resource.listing()
    assert record == {
        "id": "a/b", "author": "a", "downloads": 6, "likes": 1, "gated": "manual",
        "snapshotDate": "2025-01-02", "trendingRank": 1,
    }  # fmt: skip
    assert parse_model(record, resource.name)["gated"] is True
    assert resource.history()["likes"].isna().tolist() == [True, False]
