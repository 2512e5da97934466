import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from assets.common.errors import DataFileError
from assets.costs.prices import (
    MARKETPLACE_MEDIAN,
    ROW_KEYS,
    SOURCE,
    FilePriceSource,
    PriceSource,
    parse_price_dir,
    parse_price_file,
)
from resources.settings import get_settings

PRICE_DIR = get_settings().data_dir / "gpu_prices" / "tugot17_gpu_price_tracker"
# First snapshot of H100_80GB_SXM5.jsonl, cut down to what the parser reads.
SNAPSHOT = {
    "timestamp": "2025-10-19T21:01:58.727366+00:00",
    "gpu_type": "H100_80GB",
    "socket_type": "SXM5",
    "price_stats": {"min": 1.0, "median": 1.99, "mean": 2.13},
    "by_provider": {
        "runpod": {"count": 4, "min": 2.69, "avg": 2.7},
        "primecompute": {"count": 4, "min": 1.0, "avg": 1.4},
    },
}


@pytest.fixture(scope="module")
def real_rows():
    return parse_price_dir(PRICE_DIR)


def test_all_seven_files_parse_with_exact_row_counts(real_rows):
    # Snapshots plus provider entries per file, counted once from the raw files (957 snapshots
    # per file, 752 for GH200).
    assert Counter(row["gpu"] for row in real_rows) == {
        "A100-PCIE-80GB": 6768,
        "H100-SXM-80GB": 6409,
        "A100-SXM-80GB": 5613,
        "H100-PCIE-80GB": 4226,
        "H200-SXM-141GB": 4205,
        "B200-180GB": 3507,
        "GH200-96GB": 1722,
    }
    medians = Counter(row["gpu"] for row in real_rows if row["provider"] == MARKETPLACE_MEDIAN)
    assert set(medians.values()) == {957, 752}


def test_real_rows_follow_the_row_contract(real_rows):
    assert all(tuple(row) == ROW_KEYS for row in real_rows)
    assert all(row["observed_at"].tzinfo is not None for row in real_rows)
    assert all(row["usd_per_gpu_hour"] > 0 for row in real_rows)
    assert {(r["region"], r["pricing"], r["source"]) for r in real_rows} == {
        ("global", "on-demand", SOURCE)
    }
    keys = [(r["observed_at"], r["gpu"], r["provider"]) for r in real_rows]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_provider_row_is_the_cheapest_offer_not_the_average(real_rows):
    first = datetime(2025, 10, 19, 21, 1, 58, 727366, tzinfo=UTC)
    prices = {
        r["provider"]: r["usd_per_gpu_hour"]
        for r in real_rows
        if r["observed_at"] == first and r["gpu"] == "H100-SXM-80GB"
    }
    assert prices["runpod"] == 2.69  # avg is 2.70
    assert prices["primecompute"] == 1.0  # avg is 1.40
    assert prices[MARKETPLACE_MEDIAN] == 1.99


def _jsonl(tmp_path, *records, name="prices.jsonl"):
    path = tmp_path / name
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n")
    return path


def _with(**changes):
    record = json.loads(json.dumps(SNAPSHOT))
    for dotted, value in changes.items():
        *parents, key = dotted.split("__")
        target = record
        for parent in parents:
            target = target[parent]
        if value is ...:
            del target[key]
        else:
            target[key] = value
    return record


def test_small_file_parses_and_skips_blank_lines(tmp_path):
    rows = parse_price_file(_jsonl(tmp_path, SNAPSHOT, "", _with(timestamp="2025-10-19T22:00Z")))
    assert len(rows) == 6
    assert {r["provider"] for r in rows} == {"runpod", "primecompute", MARKETPLACE_MEDIAN}


def test_bad_json_on_line_3_names_file_and_line(tmp_path):
    path = _jsonl(tmp_path, SNAPSHOT, SNAPSHOT, '{"timestamp": ')
    with pytest.raises(DataFileError) as caught:
        parse_price_file(path)
    assert str(caught.value).startswith(f"{path}:3: invalid JSON")
    assert (caught.value.path, caught.value.line) == (str(path), 3)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (_with(price_stats__median=...), "missing field 'price_stats.median'"),
        (_with(by_provider__runpod__min=...), "missing field 'by_provider.runpod.min'"),
        (_with(gpu_type=...), "missing field 'gpu_type'"),
        (_with(by_provider={}), "by_provider must be a non-empty object"),
        (_with(by_provider__runpod__min=0), "price must be a positive number, got 0"),
        (_with(by_provider__runpod__min=-1.5), "price must be a positive number"),
        (_with(price_stats__median="cheap"), "price must be a positive number, got 'cheap'"),
        (_with(price_stats__median=True), "price must be a positive number, got True"),
        (_with(timestamp="2025-10-19T21:01:58"), "timestamp without a time zone"),
        (_with(timestamp="yesterday"), "not an ISO timestamp"),
        (_with(gpu_type="Z9000_80GB"), "cannot map GPU name"),
        ("[1, 2]", "a line must hold a JSON object"),
    ],
)
def test_malformed_snapshot_fails_the_whole_file(tmp_path, bad, reason):
    path = _jsonl(tmp_path, SNAPSHOT, bad)
    with pytest.raises(DataFileError) as caught:
        parse_price_file(path)
    assert str(caught.value).startswith(f"{path}:2: ")
    assert reason in str(caught.value)


def test_price_dir_needs_files_and_rejects_duplicate_keys(tmp_path):
    with pytest.raises(DataFileError, match="no \\*.jsonl price files"):
        parse_price_dir(tmp_path)
    _jsonl(tmp_path, SNAPSHOT, name="a.jsonl")
    _jsonl(tmp_path, _with(socket_type="SXM"), name="b.jsonl")  # same GPU, same snapshot
    with pytest.raises(DataFileError, match="already given by a.jsonl"):
        parse_price_dir(tmp_path)


CSV_HEADER = "observed_at,gpu,provider,region,pricing,usd_per_gpu_hour"


def test_file_source_reads_a_canonical_csv(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text(
        f"{CSV_HEADER}\n"
        "2025-11-02T10:00:00+00:00,H100 SXM5 80 GB,aws,us-east-1,spot,3.1\n"
        "2025-11-01T10:00:00+00:00,NVIDIA L4,gcp,europe-west4,on-demand,0.7\n"
    )
    source: PriceSource = FilePriceSource(path)
    rows = source.fetch()
    assert [(r["gpu"], r["pricing"], r["usd_per_gpu_hour"]) for r in rows] == [
        ("L4", "on-demand", 0.7),
        ("H100-SXM-80GB", "spot", 3.1),
    ]
    assert rows[0]["source"] == "file:prices.csv"
    assert tuple(rows[0]) == ROW_KEYS


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("2025-11-01T10:00:00+00:00,L4,gcp,eu,on-demand,0", "price must be a positive number"),
        ("2025-11-01T10:00:00+00:00,L4,gcp,eu,reserved,0.7", "pricing must be one of"),
        ("2025-11-01T10:00:00+00:00,L4,gcp,eu,on-demand", "missing field 'usd_per_gpu_hour'"),
        ("2025-11-01T10:00:00+00:00,L4,, eu,on-demand,0.7", "provider must be a non-empty"),
    ],
)
def test_malformed_csv_row_names_file_and_line(tmp_path, line, reason):
    path = tmp_path / "prices.csv"
    good = "2025-11-01T10:00:00+00:00,L4,gcp,eu,on-demand,0.7"
    path.write_text(f"{CSV_HEADER}\n{good}\n{line}\n")
    with pytest.raises(DataFileError, match=f":3: .*{reason}"):
        FilePriceSource(path).fetch()


def test_file_source_reads_a_directory_and_canonical_jsonl(tmp_path):
    row = {
        "observed_at": "2025-11-01T10:00:00Z",
        "gpu": "A100-SXM-80GB",
        "provider": "lambdalabs",
        "region": "us-west-1",
        "pricing": "on-demand",
        "usd_per_gpu_hour": 1.29,
        "source": "lambda-api",
    }
    single = FilePriceSource(_jsonl(tmp_path, row)).fetch()
    assert single[0]["source"] == "lambda-api"
    assert single[0]["observed_at"] == datetime(2025, 11, 1, 10, tzinfo=UTC)
    both = FilePriceSource(tmp_path).fetch()  # prices.jsonl is the only file in the folder
    assert both == single
