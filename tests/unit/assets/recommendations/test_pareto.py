import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from paretoset import paretoset

from assets.recommendations.pareto import pareto_mask
from resources.settings import get_settings

MLENERGY_CHAT = (
    get_settings().data_dir / "benchmarks" / "mlenergy_v3" / "tasks" / "lm-arena-chat.json"
)


def reference(matrix: np.ndarray, benefit: np.ndarray, distinct: bool) -> np.ndarray:
    # Always float input: paretoset's numba path compiles once per dtype (~5 s each).
    sense = ["max" if b else "min" for b in benefit]
    return paretoset(matrix.astype(float), sense=sense, distinct=distinct)


def b200_frame() -> pd.DataFrame:
    configs = json.loads(MLENERGY_CHAT.read_text())["configurations"]
    frame = pd.DataFrame([c for c in configs if c["gpu_model"] == "B200"])
    frame["throughput_per_gpu"] = frame["output_throughput_tokens_per_sec"] / frame["num_gpus"]
    return frame[
        ["p95_itl_ms", "throughput_per_gpu", "energy_per_token_joules", "total_params_billions"]
    ].astype(float)


@pytest.mark.parametrize("distinct", [False, True])
@pytest.mark.parametrize(
    "columns",
    [[0, 1, 2, 3], [0, 1], [1, 3], [3], [0, 1, 3]],
    ids=["4d", "2d", "2d-ties", "1d", "3d"],
)
def test_matches_paretoset_on_mlenergy_b200(columns: list[int], distinct: bool) -> None:
    frame = b200_frame().iloc[:, columns]
    benefit = np.array([False, True, False, False])[columns]
    expected = paretoset(frame, sense=["max" if b else "min" for b in benefit], distinct=distinct)
    ours = pareto_mask(frame.to_numpy(), benefit, distinct=distinct)
    np.testing.assert_array_equal(ours, expected)
    assert 0 < ours.sum() < len(frame)  # a real front, not everything or nothing


# Values from a handful of integers: many ties and identical rows. Up to 300 rows, so several
# of pareto_mask's blocks are processed.
tied_problems = st.integers(1, 6).flatmap(
    lambda m: st.tuples(
        arrays(
            float, st.tuples(st.integers(1, 300), st.just(m)), elements=st.integers(0, 4).map(float)
        ),
        arrays(bool, m),
        st.booleans(),
    )
)


@settings(max_examples=300, deadline=None)
@given(tied_problems)
def test_matches_paretoset_with_ties_and_duplicates(problem: tuple) -> None:
    matrix, benefit, distinct = problem
    ours = pareto_mask(matrix, benefit, distinct=distinct)
    np.testing.assert_array_equal(ours, reference(matrix, benefit, distinct))


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 2000),
    st.integers(1, 6),
    st.floats(-0.9, 0.9),
)
def test_matches_paretoset_on_correlated_continuous_data(
    seed: int, n: int, m: int, correlation: float
) -> None:
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=(n, 1))
    matrix = correlation * shared + np.sqrt(1 - correlation**2) * rng.normal(size=(n, m))
    benefit = rng.random(m) < 0.5
    for distinct in (False, True):
        ours = pareto_mask(matrix, benefit, distinct=distinct)
        np.testing.assert_array_equal(ours, reference(matrix, benefit, distinct))


def test_duplicates_of_a_front_point() -> None:
    matrix = np.array([[1.0, 5.0], [1.0, 5.0], [2.0, 2.0], [3.0, 6.0], [3.0, 6.0]])
    benefit = np.array([False, False])
    np.testing.assert_array_equal(pareto_mask(matrix, benefit), [True, True, True, False, False])
    np.testing.assert_array_equal(
        pareto_mask(matrix, benefit, distinct=True), [True, False, True, False, False]
    )


def test_equal_x_with_worse_y_is_dominated() -> None:
    matrix = np.array([[1.0, 3.0], [1.0, 2.0], [0.5, 9.0]])
    np.testing.assert_array_equal(
        pareto_mask(matrix, np.array([False, False])), [False, True, True]
    )


def test_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        pareto_mask(np.array([[1.0, np.nan], [2.0, 1.0]]), np.array([True, False]))
