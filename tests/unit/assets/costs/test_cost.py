import math
import warnings
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assets.costs.cost import (
    WINDOW_COLUMNS,
    cost_per_million,
    price_window,
    spot_effective_price,
    spot_price_from_on_demand,
    spot_saving_pct,
)
from assets.costs.prices import MARKETPLACE_MEDIAN


def test_cost_per_million_by_hand():
    # $2/h for 1 GPU at 1000 tok/s: 3.6M tokens per hour cost $2 -> $0.5556 per 1M.
    assert cost_per_million(2.0, 1, 1000) == pytest.approx(0.555556, rel=1e-6)
    # 8 x $2.69 = $21.52/h at 5000 tok/s = 18M tokens/h -> $1.19556 per 1M.
    assert cost_per_million(2.69, 8, 5000) == pytest.approx(1.195556, rel=1e-6)
    assert isinstance(cost_per_million(2, 1, 1000), float)


@pytest.mark.parametrize("throughput", [0, 0.0, -5.0, math.nan])
def test_no_throughput_gives_nan_without_warnings(throughput):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(cost_per_million(2.0, 1, throughput))


def test_cost_is_vectorised_over_arrays_and_series():
    costs = cost_per_million(np.array([2.0, 2.0, 4.0]), np.array([1, 2, 1]), [1000, 1000, 0])
    np.testing.assert_allclose(costs, [0.555556, 1.111111, np.nan], rtol=1e-5)
    index = pd.Index(["llama", "qwen"])
    series = cost_per_million(
        pd.Series([2.0, 3.0], index=index), 1, pd.Series([1000.0, np.nan], index=index)
    )
    assert list(series.index) == ["llama", "qwen"]
    assert series["llama"] == pytest.approx(0.555556, rel=1e-5)
    assert np.isnan(series["qwen"])


@given(
    price=st.floats(0.01, 100),
    gpus=st.integers(1, 64),
    throughput=st.floats(0.1, 1e6),
)
def test_cost_times_tokens_gives_back_the_hourly_bill(price, gpus, throughput):
    tokens_per_hour = throughput * 3600
    bill = cost_per_million(price, gpus, throughput) * tokens_per_hour / 1e6
    assert bill == pytest.approx(price * gpus, rel=1e-9)


def test_spot_effective_price_by_hand():
    # 0.5 interruptions/h x 12 min = 6 min lost per hour: 0.9 useful hours for $1.
    assert spot_effective_price(1.0, 0.5, 12) == pytest.approx(1 / 0.9)
    assert spot_effective_price(1.0, 0, 30) == 1.0
    np.testing.assert_allclose(
        spot_effective_price(np.array([1.0, 2.0]), np.array([1.0, 2.0]), 15), [4 / 3, 4.0]
    )


@pytest.mark.parametrize(
    ("rate", "overhead", "message"),
    [
        (6, 10, "restarts consume every spot hour"),  # exactly 60 min lost per hour
        (10, 10, "restarts consume every spot hour"),
        (-1, 10, "must be >= 0"),
        (1, -10, "must be >= 0"),
    ],
)
def test_spot_effective_price_rejects_useless_or_negative_inputs(rate, overhead, message):
    with pytest.raises(ValueError, match=message):
        spot_effective_price(1.0, rate, overhead)


def test_spot_price_estimate_and_saving():
    assert spot_price_from_on_demand(2.0, 0.6) == pytest.approx(0.8)
    np.testing.assert_allclose(spot_price_from_on_demand(np.array([1.0, 3.0]), 0.5), [0.5, 1.5])
    for discount in (-0.1, 1.0):
        with pytest.raises(ValueError, match=r"\[0, 1\)"):
            spot_price_from_on_demand(2.0, discount)
    assert spot_saving_pct(10.0, 4.0) == pytest.approx(60.0)
    assert spot_saving_pct(10.0, 12.0) == pytest.approx(-20.0)
    assert math.isnan(spot_saving_pct(0.0, 4.0))
    np.testing.assert_allclose(spot_saving_pct(np.array([2.0, np.nan]), 1.0), [50.0, np.nan])


END = datetime(2025, 11, 10, tzinfo=UTC)


def _prices(gpu, values, provider=MARKETPLACE_MEDIAN, hours_before_end=None):
    hours = hours_before_end or range(len(values))
    return [
        {
            "observed_at": END - timedelta(hours=h),
            "gpu": gpu,
            "provider": provider,
            "pricing": "on-demand",
            "usd_per_gpu_hour": v,
        }
        for h, v in zip(hours, values, strict=True)
    ]


def test_price_window_percentiles_by_hand():
    rows = (
        _prices("H100-SXM-80GB", [1.0, 2.0, 3.0, 4.0, 5.0])
        + _prices("H100-SXM-80GB", [0.5] * 5, provider="cheapco")  # ignored: median rows exist
        + _prices("H100-SXM-80GB", [9.0], hours_before_end=[48])  # exactly at start: outside
        + _prices("H100-SXM-80GB", [9.0], hours_before_end=[-1])  # after end: outside
        + _prices("L4", [1.0, 3.0], provider="a")  # no median rows: median across providers
        + _prices("L4", [2.0, 5.0], provider="b")
        + _prices("T4", [0.3], hours_before_end=[100])  # nothing in the window: absent
    )
    window = price_window(pd.DataFrame(rows), END, days=2).set_index("gpu")
    assert list(window.reset_index().columns) == WINDOW_COLUMNS
    h100 = window.loc["H100-SXM-80GB"]
    assert (h100.p50, h100.p90, h100.n) == (3.0, pytest.approx(4.6), 5)
    assert h100.window_start == pd.Timestamp(END - timedelta(days=2))
    assert h100.window_end == pd.Timestamp(END)
    l4 = window.loc["L4"]  # snapshots: median(1, 2) = 1.5 and median(3, 5) = 4
    assert (l4.p50, l4.p90, l4.n) == (pytest.approx(2.75), pytest.approx(3.75), 2)
    assert "T4" not in window.index


def test_price_window_validates_its_arguments():
    frame = pd.DataFrame(_prices("L4", [1.0]))
    with pytest.raises(ValueError, match="time-zone aware"):
        price_window(frame, datetime(2025, 11, 10), days=7)
    with pytest.raises(ValueError, match="days must be positive"):
        price_window(frame, END, days=0)
    assert price_window(frame.iloc[:0], END, days=7).columns.tolist() == WINDOW_COLUMNS
