"""Cost of serving: $ per 1M output tokens from a GPU price and a measured throughput (DESIGN §5).

Functions take scalars, numpy arrays or pandas Series alike (Series keep their index), so the
cost model runs over a whole results table at once.
"""

import numpy as np
import pandas as pd

from assets.costs.prices import MARKETPLACE_MEDIAN

SECONDS_PER_HOUR = 3600
WINDOW_COLUMNS = ["gpu", "pricing", "p50", "p90", "n", "window_start", "window_end"]


def cost_per_million(usd_per_gpu_hour, num_gpus, outputs_per_s):
    """$ per 1M outputs = $/GPU-h x GPUs x 1e6 / (outputs/s x 3600).

    A throughput of 0, NaN or below gives NaN (no measurement), never inf or an exception:
    one failed configuration must not break a vectorised run over thousands.
    """
    throughput = _positive_or_nan(outputs_per_s)
    cost = _floats(usd_per_gpu_hour) * _floats(num_gpus) * 1e6 / (throughput * SECONDS_PER_HOUR)
    return _scalar_or_same(cost)


def spot_effective_price(spot_usd_per_gpu_hour, interruptions_per_hour, restart_overhead_minutes):
    """Spot price per *useful* GPU-hour, charging each interruption its restart overhead.

    Model: interruptions arrive at ``interruptions_per_hour``; each costs
    ``restart_overhead_minutes`` of paid but useless time (new node, image pull, weight load,
    warm-up, lost in-flight work). An hour of spot then yields
    ``useful = 1 - interruptions_per_hour * overhead_hours`` hours of work, and the price per
    useful hour is ``price / useful``. First-order: it ignores interruptions that land during
    a restart and any queueing before a replacement node exists, so it flatters spot when
    ``useful`` is small. Raises ``ValueError`` for negative inputs, or when ``useful <= 0``:
    at that rate the job never makes progress and spot is useless.
    """
    price, rate, overhead = (
        _floats(value)
        for value in (spot_usd_per_gpu_hour, interruptions_per_hour, restart_overhead_minutes)
    )
    if np.any(np.asarray(rate) < 0) or np.any(np.asarray(overhead) < 0):
        raise ValueError("interruptions_per_hour and restart_overhead_minutes must be >= 0")
    useful = 1 - rate * overhead / 60
    if np.any(np.asarray(useful) <= 0):
        raise ValueError("restarts consume every spot hour at this interruption rate")
    return _scalar_or_same(price / useful)


def spot_price_from_on_demand(p50, discount):
    """An ESTIMATE of the spot price, ``p50 x (1 - discount)``, for GPUs without a spot feed.

    The tracked prices are marketplace on-demand offers, not hyperscaler spot prices; rows
    built from this must say they are estimated. ``discount`` is a fraction in [0, 1).
    """
    if np.any(np.asarray(discount) < 0) or np.any(np.asarray(discount) >= 1):
        raise ValueError("discount must be a fraction in [0, 1)")
    return _scalar_or_same(_floats(p50) * (1 - _floats(discount)))


def spot_saving_pct(on_demand_cost, spot_cost):
    """How much cheaper spot is, in % of on-demand (negative when spot costs more).

    NaN where the on-demand cost is 0, negative or NaN (no baseline to compare against).
    """
    baseline = _positive_or_nan(on_demand_cost)
    return _scalar_or_same(100 * (baseline - _floats(spot_cost)) / baseline)


def price_window(prices: pd.DataFrame, end, days: float) -> pd.DataFrame:
    """p50/p90 of the marketplace price per (gpu, pricing) over ``(end - days, end]``.

    One tick is noise (a single cheap offer comes and goes), so costs use percentiles over a
    window of per-snapshot prices: the ``marketplace-median`` rows where a GPU has them, else
    the median across providers at each snapshot. ``n`` counts snapshots. Columns
    ``WINDOW_COLUMNS``; a (gpu, pricing) with no price in the window is absent.
    """
    end = pd.Timestamp(end)
    if end.tzinfo is None:
        raise ValueError("end must be time-zone aware, like observed_at")
    if days <= 0:
        raise ValueError("days must be positive")
    start = end - pd.Timedelta(days=days)
    observed = pd.to_datetime(prices["observed_at"], utc=True)
    in_window = prices[(observed > start) & (observed <= end)]
    rows = []
    for (gpu, pricing), group in in_window.groupby(["gpu", "pricing"], sort=True):
        median_rows = group[group["provider"] == MARKETPLACE_MEDIAN]
        chosen = median_rows if len(median_rows) else group
        per_snapshot = chosen.groupby("observed_at")["usd_per_gpu_hour"].median()
        rows.append(
            {
                "gpu": gpu,
                "pricing": pricing,
                "p50": float(per_snapshot.quantile(0.5)),
                "p90": float(per_snapshot.quantile(0.9)),
                "n": len(per_snapshot),
                "window_start": start,
                "window_end": end,
            }
        )
    return pd.DataFrame(rows, columns=WINDOW_COLUMNS)


def _floats(value):
    """Series stay Series (index kept); everything else becomes float numpy (0-d for scalars)."""
    if isinstance(value, pd.Series):
        return value.astype(float)
    array = np.asarray(value, dtype=float)
    return array[()] if array.ndim == 0 else array


def _positive_or_nan(value):
    values = _floats(value)
    if isinstance(values, pd.Series):
        return values.where(values > 0)
    return _floats(np.where(values > 0, values, np.nan))


def _scalar_or_same(value):
    return float(value) if np.ndim(value) == 0 else value
