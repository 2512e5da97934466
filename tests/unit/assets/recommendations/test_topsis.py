import json

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pymcdm.methods import TOPSIS
from pymcdm.normalizations import vector_normalization

from assets.recommendations.topsis import contributions, top_k, topsis
from resources.settings import get_settings

MLENERGY_CHAT = (
    get_settings().data_dir / "benchmarks" / "mlenergy_v3" / "tasks" / "lm-arena-chat.json"
)


def pymcdm_scores(matrix: np.ndarray, weights: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    # pymcdm wants weights summing to 1 and types 1 (benefit) / -1 (cost). Its validation only
    # warns (dominated alternatives, weight sums), so it is off and our inputs are made valid.
    method = TOPSIS(normalization_function=vector_normalization)
    types = np.where(benefit, 1, -1)
    return method(matrix, weights / weights.sum(), types, validation=False)


def b200_matrix() -> np.ndarray:
    configs = json.loads(MLENERGY_CHAT.read_text())["configurations"]
    rows = [
        (
            c["p95_itl_ms"],
            c["output_throughput_tokens_per_sec"] / c["num_gpus"],
            c["energy_per_token_joules"],
            c["total_params_billions"],
        )
        for c in configs
        if c["gpu_model"] == "B200"
    ]
    return np.array(rows, dtype=float)


B200_BENEFIT = np.array([False, True, False, False])


@pytest.mark.parametrize("weights", [[1, 1, 1, 1], [0.4, 0.3, 0.2, 0.1], [0.05, 0.05, 0.1, 0.8]])
def test_matches_pymcdm_on_mlenergy_b200(weights: list[float]) -> None:
    matrix = b200_matrix()
    assert matrix.shape[0] > 100  # the file is what the test thinks it is
    w = np.array(weights, dtype=float)
    ours, reference = topsis(matrix, w, B200_BENEFIT), pymcdm_scores(matrix, w, B200_BENEFIT)
    np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(
        np.argsort(-ours, kind="stable"), np.argsort(-reference, kind="stable")
    )


# Values on a 0.001 grid up to 1e6: exact ties and duplicates are common, but two different
# values never sit a few ulps apart, where the ranking would be decided by rounding.
problems = st.integers(1, 6).flatmap(
    lambda m: st.tuples(
        arrays(
            float,
            st.tuples(st.integers(2, 40), st.just(m)),
            elements=st.one_of(st.integers(1, 5), st.integers(1, 10**9)).map(lambda k: k / 1000),
        ),
        arrays(float, m, elements=st.floats(0.01, 1.0)),
        arrays(bool, m),
    )
)


@settings(max_examples=200, deadline=None)
@given(problems)
def test_matches_pymcdm_on_random_problems(problem: tuple) -> None:
    matrix, weights, benefit = problem
    # All rows equal: pymcdm divides 0 by 0; our convention (0.5) is tested separately.
    assume(np.ptp(matrix, axis=0).any())
    ours, reference = topsis(matrix, weights, benefit), pymcdm_scores(matrix, weights, benefit)
    np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-12)
    # Same ranking: in pymcdm's order our scores never increase (beyond rounding on near-ties).
    assert np.all(np.diff(ours[np.argsort(-reference, kind="stable")]) <= 1e-12)
    assert np.all((ours >= 0) & (ours <= 1))


@settings(max_examples=100, deadline=None)
@given(problems, st.floats(1e-3, 1e3))
def test_scores_ignore_the_unit_of_a_column(problem: tuple, factor: float) -> None:
    matrix, weights, benefit = problem
    rescaled = matrix.copy()
    rescaled[:, 0] *= factor
    np.testing.assert_allclose(
        topsis(rescaled, weights, benefit), topsis(matrix, weights, benefit), atol=1e-9
    )


@settings(max_examples=200, deadline=None)
@given(problems)
def test_contributions_add_up_to_the_score(problem: tuple) -> None:
    matrix, weights, benefit = problem
    shares = contributions(matrix, weights, benefit)
    assert shares.shape == matrix.shape
    np.testing.assert_allclose(
        0.5 + shares.sum(axis=1), topsis(matrix, weights, benefit), atol=1e-12
    )


def test_contribution_sign_follows_the_direction() -> None:
    matrix = np.array([[10.0, 1.0], [20.0, 1.0], [30.0, 2.0]])
    shares = contributions(matrix, np.array([1.0, 0.0]), np.array([False, True]))
    # Cost column: the cheapest row gains, the dearest loses; a zero weight explains nothing.
    assert shares[0, 0] > 0 > shares[2, 0]
    np.testing.assert_array_equal(shares[:, 1], 0.0)


def test_degenerate_inputs_give_no_nan() -> None:
    weights, benefit = np.array([1.0, 1.0]), np.array([True, False])
    np.testing.assert_array_equal(topsis(np.array([[3.0, 4.0]]), weights, benefit), [0.5])
    np.testing.assert_array_equal(topsis(np.full((3, 2), 7.0), weights, benefit), [0.5] * 3)
    with_zero_column = np.array([[1.0, 0.0], [2.0, 0.0], [4.0, 0.0]])
    scores = topsis(with_zero_column, weights, benefit)
    # A column of zeros carries no information: same as ranking on the other column alone.
    np.testing.assert_allclose(scores, topsis(with_zero_column[:, :1], weights[:1], benefit[:1]))
    assert not np.isnan(contributions(with_zero_column, weights, benefit)).any()


def test_tied_rows_get_tied_scores() -> None:
    matrix = np.array([[1.0, 5.0], [2.0, 3.0], [1.0, 5.0], [3.0, 1.0]])
    scores = topsis(matrix, np.array([0.5, 0.5]), np.array([True, False]))
    assert scores[0] == scores[2]


@pytest.mark.parametrize(
    "matrix, weights",
    [
        (np.array([[1.0, np.nan], [2.0, 1.0]]), np.array([1.0, 1.0])),
        (np.array([[1.0, np.inf], [2.0, 1.0]]), np.array([1.0, 1.0])),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([1.0, -1.0])),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([0.0, 0.0])),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([1.0])),
    ],
)
def test_rejects_invalid_input(matrix: np.ndarray, weights: np.ndarray) -> None:
    with pytest.raises(ValueError):
        topsis(matrix, weights, np.array([True, False]))


@settings(max_examples=200, deadline=None)
@given(
    arrays(float, st.integers(0, 200), elements=st.integers(0, 5).map(float)), st.integers(0, 250)
)
def test_top_k_is_the_stable_descending_order(scores: np.ndarray, k: int) -> None:
    # Few distinct values: ties at the cut-off must still be resolved by index.
    expected = np.argsort(-scores, kind="stable")[:k]
    np.testing.assert_array_equal(top_k(scores, k), expected)
