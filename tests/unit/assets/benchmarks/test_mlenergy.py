import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assets.benchmarks.mlenergy import parse_leaderboard, parse_task_file
from assets.common.errors import DataFileError
from resources.settings import get_settings

MLENERGY = get_settings().data_dir / "benchmarks" / "mlenergy_v3"
WHEN = datetime(2026, 2, 16, tzinfo=UTC)


def test_real_leaderboard_parses_every_configuration():
    rows = parse_leaderboard(MLENERGY)
    assert len(rows) == 1858
    # Repeated measurements of one configuration are kept as distinct results.
    assert len({r["result_key"] for r in rows}) == 1858
    assert {r["gpu"] for r in rows} == {"H100-SXM-80GB", "B200-180GB"}
    assert {r["output_unit"] for r in rows} == {"token", "image", "video"}


def test_llm_row_follows_the_canonical_metrics():
    rows = parse_task_file(MLENERGY / "tasks" / "lm-arena-chat.json", WHEN)
    row = next(r for r in rows if r["model_id"] == "Qwen/Qwen3-14B" and r["gpu"] == "B200-180GB"
               and r["concurrency"] == 8)  # fmt: skip
    assert row["itl_ms_p50"] == pytest.approx(7.15609549661167)
    assert row["itl_ms_p95"] == pytest.approx(9.683607009355912)
    assert row["output_throughput"] == pytest.approx(1086.7107231801174)
    assert row["throughput_per_gpu"] == pytest.approx(1086.7107231801174)
    assert row["tokens_per_s_per_user"] == pytest.approx(1000 / 7.15609549661167)
    assert row["energy_per_output_j"] == pytest.approx(0.6993091867226764)
    # Not published: stays NULL, never guessed.
    assert "ttft_ms_p95" not in row
    assert row["metric_definitions"]["itl"].startswith("ML.ENERGY")
    assert row["source"] == "mlenergy-v3" and row["measured_at"] == WHEN


def test_multi_gpu_throughput_is_per_gpu():
    rows = parse_task_file(MLENERGY / "tasks" / "lm-arena-chat.json", WHEN)
    row = next(r for r in rows if r["num_gpus"] > 1)
    assert row["throughput_per_gpu"] == pytest.approx(row["output_throughput"] / row["num_gpus"])


def test_keys_are_stable_across_parses():
    first = parse_task_file(MLENERGY / "tasks" / "gpqa.json", WHEN)
    second = parse_task_file(MLENERGY / "tasks" / "gpqa.json", WHEN)
    assert [r["result_key"] for r in first] == [r["result_key"] for r in second]


def _write(tmp_path: Path, configurations: list[dict]) -> Path:
    path = tmp_path / "task.json"
    body = ",\n".join("    " + json.dumps(c) for c in configurations)
    path.write_text('{\n  "task": "t",\n  "configurations": [\n' + body + "\n  ]\n}\n")
    return path


def test_bad_configuration_names_file_and_line(tmp_path):
    good = json.loads((MLENERGY / "tasks" / "lm-arena-chat.json").read_text())["configurations"][0]
    bad = {**good, "p95_itl_ms": None}
    path = _write(tmp_path, [good, good | {"max_num_seqs": 16}, bad])
    with pytest.raises(DataFileError) as error:
        parse_task_file(path, WHEN)
    assert str(error.value).startswith(f"{path}:6:")
    assert "p95_itl_ms" in str(error.value)


def test_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "task.json"
    path.write_text('{\n  "task": "t",\n  "configurations": [\n    {"a": 1,,}\n  ]\n}\n')
    with pytest.raises(DataFileError) as error:
        parse_task_file(path, WHEN)
    assert f"{path}:4:" in str(error.value)


def test_negative_values_are_rejected(tmp_path):
    good = json.loads((MLENERGY / "tasks" / "gpqa.json").read_text())["configurations"][0]
    path = _write(tmp_path, [{**good, "output_throughput_tokens_per_sec": -1.0}])
    with pytest.raises(DataFileError, match="non-negative"):
        parse_task_file(path, WHEN)


def test_models_of_the_leaderboard_become_catalog_rows():
    from assets.benchmarks.mlenergy import parse_models

    rows = {r["id"]: r for r in parse_models(MLENERGY)}
    assert len(rows) == 46
    qwen = rows["Qwen/Qwen3-235B-A22B-Instruct-2507"]
    assert qwen["num_parameters"] == 235_000_000_000
    assert qwen["author"] == "Qwen" and qwen["source"] == "mlenergy-v3"
    assert qwen["extra"]["architecture"] == "MoE"
