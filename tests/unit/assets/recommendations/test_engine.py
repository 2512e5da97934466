import json

import numpy as np
import pandas as pd
import pytest

from assets.recommendations.engine import Constraints, apply_constraints, pareto, rank
from assets.recommendations.pareto import pareto_mask
from assets.recommendations.topsis import topsis

WEIGHTS = {"latency_p95_ms": 2.0, "throughput_per_gpu": 1.0, "cost_spot_per_million": 1.0}


@pytest.fixture
def frame() -> pd.DataFrame:
    rows = [
        # key, model, gpu, n, p50, p95, throughput, spot, memory, quality, license
        ("a", "m/small", "H100", 1, 8.0, 10.0, 3000.0, 0.20, 16.0, 55.0, "mit"),
        ("b", "m/small", "B200", 1, 5.0, 7.0, 5000.0, 0.25, 16.0, 55.0, "mit"),
        ("c", "m/medium", "H100", 2, 15.0, 20.0, 1500.0, 0.60, 60.0, 70.0, "apache-2.0"),
        ("d", "m/large", "B200", 4, 25.0, 40.0, 800.0, 1.50, 300.0, 80.0, "llama3"),
        ("e", "m/large", "H100", 8, 30.0, 45.0, 500.0, np.nan, 300.0, 80.0, "llama3"),
        ("f", "m/tiny", "H100", 1, np.nan, 6.0, 6000.0, 0.10, 4.0, np.nan, "mit"),
    ]
    columns = [
        "result_key",
        "model_id",
        "gpu",
        "num_gpus",
        "latency_p50_ms",
        "latency_p95_ms",
        "throughput_per_gpu",
        "cost_spot_per_million",
        "memory_gb",
        "quality",
        "license",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["cost_on_demand_per_million"] = frame["cost_spot_per_million"] * 2.5
    frame["energy_per_output_j"] = np.nan  # no energy measured: must be dropped, not crash
    frame["provenance"] = [{"source": "mlenergy-v3", "measured": False}] * len(frame)
    return frame


def test_constraints_explain_what_each_removed_in_order(frame: pd.DataFrame) -> None:
    limits = Constraints(
        max_latency_p95_ms=30, max_ttft_p95_ms=100, max_cost_per_million=0.5, min_quality=60
    )
    feasible, explanation = apply_constraints(frame, limits)
    assert [e["constraint"] for e in explanation] == [
        "max_latency_p95_ms",
        "max_ttft_p95_ms",
        "max_cost_per_million",
        "min_quality",
    ]
    latency, ttft, cost, quality = explanation
    assert (latency["removed"], latency["examples"]) == (2, ["m/large"])
    # No TTFT column: the SLO cannot be checked, and the answer says it was not applied.
    assert (ttft["applied"], ttft["removed"]) == (False, 0)
    assert (cost["removed"], cost["examples"], cost["limit"]) == (1, ["m/medium"], 0.5)
    # "f" has no quality: it cannot be shown to meet the minimum, so it goes.
    assert (quality["removed"], quality["examples"]) == (3, ["m/small", "m/tiny"])
    assert list(feasible["result_key"]) == []


def test_cost_limit_follows_the_chosen_pricing(frame: pd.DataFrame) -> None:
    on_demand = Constraints(max_cost_per_million=0.5, pricing="on_demand")
    feasible, explanation = apply_constraints(frame, on_demand)
    assert explanation[0]["column"] == "cost_on_demand_per_million"
    assert list(feasible["result_key"]) == ["a", "f"]  # 0.5 and 0.25 $/1M on demand
    with pytest.raises(ValueError, match="pricing"):
        Constraints(pricing="reserved")


def test_empty_feasible_set_says_why(frame: pd.DataFrame) -> None:
    answer = rank(frame, WEIGHTS, Constraints(max_memory_gb=100, licenses=("llama3",)))
    assert answer["items"] == [] and answer["feasible"] == 0 and answer["candidates"] == 6
    memory, licenses = answer["excluded"]
    assert (memory["constraint"], memory["removed"]) == ("max_memory_gb", 2)
    assert (licenses["limit"], licenses["removed"]) == (["llama3"], 4)
    json.dumps(answer, allow_nan=False)


def test_ranking_follows_topsis_and_reports_margins(frame: pd.DataFrame) -> None:
    answer = rank(frame, WEIGHTS, stability_draws=0)
    used = [c["name"] for c in answer["criteria"]]
    assert used == list(WEIGHTS)
    assert sum(c["weight"] for c in answer["criteria"]) == pytest.approx(1.0)
    matrix = frame[used].to_numpy().copy()
    matrix[4, 2] = np.nanmax(matrix[:, 2])  # "e" has no spot cost: the worst one is imputed
    scores = topsis(matrix, np.array(list(WEIGHTS.values())), np.array([False, True, False]))
    expected = frame["result_key"].to_numpy()[np.argsort(-scores, kind="stable")]
    items = answer["items"]
    assert [i["result_key"] for i in items] == list(expected)
    assert [i["rank"] for i in items] == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose([i["score"] for i in items], np.sort(scores)[::-1])
    for item, following in zip(items, items[1:], strict=False):
        assert item["margin_to_next"] == pytest.approx(item["score"] - following["score"])
        assert item["margin_to_next"] >= 0
    assert items[-1]["margin_to_next"] is None
    for item in items:
        assert sum(item["contributions"].values()) + 0.5 == pytest.approx(item["score"])


def test_top_k_keeps_the_margin_of_its_last_item(frame: pd.DataFrame) -> None:
    full = rank(frame, WEIGHTS, stability_draws=0)["items"]
    top = rank(frame, WEIGHTS, top_k=2, stability_draws=0)["items"]
    assert [i["result_key"] for i in top] == [i["result_key"] for i in full[:2]]
    assert top[1]["margin_to_next"] == pytest.approx(full[1]["score"] - full[2]["score"])


def test_missing_values_are_flagged_and_dropped_criteria_listed(frame: pd.DataFrame) -> None:
    weights = {**WEIGHTS, "energy_per_output_j": 1.0, "memory_gb": 0.0}
    answer = rank(frame, weights, stability_draws=0)
    assert answer["dropped_criteria"] == [
        {"name": "energy_per_output_j", "reason": "no values among the feasible candidates"},
        {"name": "memory_gb", "reason": "weight is 0"},
    ]
    by_key = {i["result_key"]: i for i in answer["items"]}
    assert by_key["e"]["missing"] == ["cost_spot_per_million"]
    assert by_key["e"]["values"]["cost_spot_per_million"] is None
    assert by_key["e"]["values"]["energy_per_output_j"] is None
    assert by_key["a"]["missing"] == []
    assert by_key["a"]["values"]["memory_gb"] == 16.0


def test_output_is_strict_json_even_with_nan_and_inf(frame: pd.DataFrame) -> None:
    frame.loc[0, "throughput_per_gpu"] = np.inf
    frame.loc[1, "latency_p95_ms"] = np.nan
    for answer in (rank(frame, WEIGHTS), pareto(frame, "latency_p95_ms", "throughput_per_gpu")):
        json.dumps(answer, allow_nan=False)


def test_stability_is_deterministic_per_seed(frame: pd.DataFrame) -> None:
    first = rank(frame, WEIGHTS, stability_draws=50, seed=7, noise=0.3)
    again = rank(frame, WEIGHTS, stability_draws=50, seed=7, noise=0.3)
    other = rank(frame, WEIGHTS, stability_draws=50, seed=8, noise=0.3)
    assert first == again
    stability = [i["rank_stability"] for i in first["items"]]
    assert stability != [i["rank_stability"] for i in other["items"]]
    for item, s in zip(first["items"], stability, strict=True):
        assert 1 <= s["rank_p5"] <= s["rank_p95"] <= len(frame)
        assert 0 <= s["top1_share"] <= 1 and 0 <= s["same_rank_share"] <= 1
        assert s["rank_p5"] <= item["rank"] or s["same_rank_share"] < 1
    assert sum(s["top1_share"] for s in stability) == pytest.approx(1.0)


def test_without_noise_ranks_move_only_by_latency_spread(frame: pd.DataFrame) -> None:
    # No latency weight: nothing is drawn, so every draw reproduces the nominal ranking.
    steady = rank(frame, {"throughput_per_gpu": 1.0, "memory_gb": 1.0}, noise=0.0)
    for item in steady["items"]:
        assert item["rank_stability"] == {
            "rank_p5": item["rank"],
            "rank_p95": item["rank"],
            "same_rank_share": 1.0,
            "top1_share": float(item["rank"] == 1),
        }


def test_latency_is_drawn_between_p50_and_p95(frame: pd.DataFrame) -> None:
    answer = rank(frame, {"latency_p95_ms": 1.0}, noise=0.0, stability_draws=400)
    stability = {i["result_key"]: i["rank_stability"] for i in answer["items"]}
    # "f" (p95 6 ms, no p50) stays at 6 ms; "b" is drawn from [5, 7] ms, so each wins half.
    assert [i["result_key"] for i in answer["items"][:2]] == ["f", "b"]
    assert 0.4 < stability["f"]["top1_share"] < 0.6
    assert stability["f"]["top1_share"] + stability["b"]["top1_share"] == pytest.approx(1.0)
    # "a" ([8, 10] ms) never meets them; "d" ([25, 40]) and "e" ([30, 45]) overlap.
    assert stability["a"]["same_rank_share"] == 1.0
    assert (stability["d"]["rank_p5"], stability["d"]["rank_p95"]) == (5, 6)


def test_ties_rank_by_result_key_whatever_the_row_order(frame: pd.DataFrame) -> None:
    twins = pd.concat([frame.iloc[[0]].assign(result_key="z"), frame], ignore_index=True)
    answer = rank(twins, WEIGHTS, stability_draws=10)
    shuffled = rank(twins.sample(frac=1, random_state=3), WEIGHTS, stability_draws=10)
    keys = [i["result_key"] for i in answer["items"]]
    assert keys.index("a") + 1 == keys.index("z")
    assert answer == shuffled


@pytest.mark.parametrize(
    "weights, message",
    [
        ({"speed": 1.0}, "unknown criterion"),
        ({"quality": -1.0}, ">= 0"),
        ({"quality": np.nan}, ">= 0"),
    ],
)
def test_rejects_bad_weights(frame: pd.DataFrame, weights: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rank(frame, weights)


def test_pareto_front_on_two_axes(frame: pd.DataFrame) -> None:
    frame = pd.concat([frame, frame.iloc[[1]].assign(result_key="b2")], ignore_index=True)
    answer = pareto(frame, "cost_spot_per_million", "throughput_per_gpu")
    assert answer["x"] == {
        "name": "cost_spot_per_million",
        "unit": "$/1M outputs",
        "direction": "cost",
    }
    assert answer["missing"] == 1  # "e" has no spot cost
    front = [p["result_key"] for p in answer["front"]]
    assert front == ["f"]  # cheapest and fastest
    frame.loc[5, "throughput_per_gpu"] = 100.0  # now "f" only wins on cost
    answer = pareto(frame, "cost_spot_per_million", "throughput_per_gpu")
    front = [p["result_key"] for p in answer["front"]]
    assert front == ["f", "a", "b", "b2"]  # sorted by x; an identical copy is on the front too
    complete = frame.dropna(subset=["cost_spot_per_million"])
    expected = pareto_mask(
        complete[["cost_spot_per_million", "throughput_per_gpu"]].to_numpy(),
        np.array([False, True]),
    )
    assert sorted(front) == sorted(complete["result_key"][expected])
    assert len(answer["front"]) + len(answer["dominated"]) == len(complete)
    assert set(answer["front"][0]) == {"result_key", "model_id", "gpu", "num_gpus", "x", "y"}
    xs = [p["x"] for p in answer["dominated"]]
    assert xs == sorted(xs)
