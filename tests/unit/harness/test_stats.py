"""modelcat_harness.stats: percentiles that agree with numpy's default definition."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from modelcat_harness.stats import mean, percentile, summary

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=50), st.sampled_from([0, 1, 50, 90, 95, 99, 100]))
def test_percentile_matches_numpy_linear(values: list[float], q: int) -> None:
    assert percentile(values, q) == pytest.approx(np.percentile(values, q), rel=1e-9, abs=1e-9)


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([10.0, 20.0], 90) == pytest.approx(19.0)
    assert percentile([7.0], 99) == 7.0


def test_no_values_give_none_not_zero() -> None:
    assert percentile([], 50) is None
    assert mean([]) is None
    assert summary([], "ttft_ms") == dict.fromkeys(
        ["ttft_ms_p50", "ttft_ms_p90", "ttft_ms_p95", "ttft_ms_p99"]
    )


def test_percentile_outside_0_100_is_an_error() -> None:
    with pytest.raises(ValueError, match="within"):
        percentile([1.0], 101)
