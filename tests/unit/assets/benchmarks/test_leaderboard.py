import pytest

from assets.benchmarks.leaderboard import parse_leaderboard_dir, parse_snapshot
from assets.common.errors import DataFileError
from resources.settings import get_settings

BOARD = get_settings().data_dir / "leaderboards" / "open_llm_leaderboard_2023"


def test_all_real_snapshots_parse_despite_varying_headers():
    rows, skipped = parse_leaderboard_dir(BOARD)
    assert len({r["snapshot_date"] for r in rows}) == 18
    assert all("/" in r["model_id"] for r in rows)
    assert all(0 <= r["average"] <= 100 for r in rows if r["average"] is not None)
    assert skipped > 0  # ids like "llama-65b" cannot be joined to a Hub id


def test_one_known_row(tmp_path):
    rows, _ = parse_snapshot(BOARD / "20231031.csv")
    first = next(r for r in rows if r["model_id"] == "ValiantLabs/ShiningValiant")
    assert first["average"] == 74.17 and first["mmlu"] == 71.0


def test_bad_score_names_file_and_line(tmp_path):
    path = tmp_path / "20230101.csv"
    path.write_text(
        "\ufeffModel,Average,ARC(25-shot),HellaSwag(10-shot),MMLU(5-shot),TruthfulQA(0-shot)\n"
        "a/b,50,50,50,50,50\n"
        "c/d,50,abc,50,50,50\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError, match=r"20230101.csv:3: score 'abc'"):
        parse_snapshot(path)
