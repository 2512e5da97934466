"""The memory-bandwidth roofline: synthetic bounds, and the real ML.ENERGY v3 results."""

import pytest

from assets.benchmarks.mlenergy import parse_leaderboard
from assets.benchmarks.roofline import check_rows, judge
from assets.costs.gpus import gpu_specs
from resources.settings import get_settings

MLENERGY = get_settings().data_dir / "benchmarks" / "mlenergy_v3"
BANDWIDTH = {g["name"]: g["memory_bandwidth_gbps"] for g in gpu_specs()}


def _row(**overrides) -> dict:
    # 8B bf16 on one H100: 3350e9 / 16e9 = 209.4 tokens/s per user at most.
    row = {"model_id": "m/a", "gpu": "H100-SXM-80GB", "num_gpus": 1, "output_unit": "token",
           "config": {"dtype": "bfloat16"}, "extra": {"num_parameters": 8e9},
           "tokens_per_s_per_user": 150.0}  # fmt: skip
    return row | overrides


def test_bound_is_bandwidth_over_weight_bytes():
    verdict = judge(_row(), 3350)
    assert verdict.verdict == "passed"
    assert verdict.bound_tokens_s == pytest.approx(3350e9 / 16e9)
    assert judge(_row(tokens_per_s_per_user=250.0), 3350).verdict == "failed"
    # fp8 halves the bytes: the same rate is now within the bound.
    assert judge(_row(tokens_per_s_per_user=250.0, config={"dtype": "fp8"}), 3350).verdict == (
        "passed"
    )


def test_data_parallel_replicas_add_no_bandwidth_per_user():
    tp2 = _row(num_gpus=2, tokens_per_s_per_user=300.0)
    assert judge(tp2, 3350).verdict == "passed"
    dp2 = tp2 | {"config": {"dtype": "bfloat16", "data_parallel": 2}}
    assert judge(dp2, 3350).verdict == "failed"


def test_moe_rows_use_activated_parameters_and_the_itl_when_no_rate_is_stored():
    moe = _row(extra={"total_params_billions": 30, "activated_params_billions": 3},
               tokens_per_s_per_user=None, itl_ms_p50=2.0)  # fmt: skip
    verdict = judge(moe, 3350)
    assert verdict.per_user_tokens_s == 500.0
    assert verdict.bound_tokens_s == pytest.approx(3350e9 / 6e9)


def test_unknown_inputs_are_skipped_and_counted():
    rows = [
        _row(),
        _row(gpu="CPU"),
        _row(extra={}),
        _row(config={}),
        _row(output_unit="image"),
        _row(extra={}, model_id="m/catalog"),
    ]
    summary = check_rows(rows, BANDWIDTH, {"m/catalog": 8_000_000_000})
    assert (summary.passed, summary.failed) == (2, 0)
    assert summary.skipped == {
        "no memory bandwidth for GPU 'CPU'": 1,
        "unknown model size": 1,
        "unknown weight precision": 1,
        "no decode rate (not a token result)": 1,
    }


def test_a_unit_bug_fails_and_is_reported_worst_first():
    rows = [_row(result_key="ok"), _row(result_key="x1000", tokens_per_s_per_user=150_000.0),
            _row(result_key="x2", tokens_per_s_per_user=420.0)]  # fmt: skip
    summary = check_rows(rows, BANDWIDTH)
    assert summary.failed == 2
    assert [v["result_key"] for v in summary.violations] == ["x1000", "x2"]


def test_every_real_mlenergy_llm_result_is_below_the_roofline():
    rows = parse_leaderboard(MLENERGY)
    summary = check_rows(rows, BANDWIDTH)
    # 838 LLM configurations are judged; the 1,020 diffusion rows have no decode rate.
    assert (summary.passed, summary.failed) == (838, 0)
    assert summary.skipped == {"no decode rate (not a token result)": 1020}
    # The best measured configuration reaches ~76% of the roofline: close, but not beyond.
    assert 0.5 < summary.max_utilisation < 1.0
