"""Price every benchmark result: $ per 1M outputs at on-demand and spot prices."""

from dataclasses import dataclass
from typing import Any

import pandas as pd

from assets.costs.cost import (
    cost_per_million,
    spot_effective_price,
    spot_price_from_on_demand,
    spot_saving_pct,
)


@dataclass(frozen=True)
class SpotPolicy:
    """How spot prices are derived when no spot feed exists, and what interruptions cost."""

    discount: float
    interruptions_per_hour: float
    restart_overhead_minutes: float


def result_costs(
    results: pd.DataFrame, windows: pd.DataFrame, spot: SpotPolicy
) -> list[dict[str, Any]]:
    """Rows for `result_costs`: one per result whose GPU has an on-demand price in the window.

    `results`: result_key, measured_at, gpu, num_gpus, output_throughput.
    `windows`: the output of `cost.price_window` (gpu, pricing, p50, p90, window_end).
    """
    on_demand = windows[windows["pricing"] == "on-demand"].set_index("gpu")
    spot_feed = windows[windows["pricing"] == "spot"].set_index("gpu")
    priced = results[results["gpu"].isin(on_demand.index)].copy()
    if priced.empty:
        return []
    p50 = priced["gpu"].map(on_demand["p50"])
    has_feed = priced["gpu"].isin(spot_feed.index)
    spot_list = (
        priced["gpu"]
        .map(spot_feed["p50"])
        .where(has_feed, spot_price_from_on_demand(p50, spot.discount))
    )
    spot_price = spot_effective_price(
        spot_list, spot.interruptions_per_hour, spot.restart_overhead_minutes
    )
    on_demand_cost = cost_per_million(p50, priced["num_gpus"], priced["output_throughput"])
    spot_cost = cost_per_million(spot_price, priced["num_gpus"], priced["output_throughput"])
    saving = spot_saving_pct(on_demand_cost, spot_cost)
    source = has_feed.map(
        {True: "spot feed p50", False: f"on-demand p50 x (1 - {spot.discount:g}) (estimated)"}
    )
    frame = pd.DataFrame(
        {
            "result_key": priced["result_key"],
            "measured_at": priced["measured_at"],
            "gpu": priced["gpu"],
            "price_window_end": priced["gpu"].map(on_demand["window_end"]),
            "on_demand_usd_per_gpu_hour": p50,
            "on_demand_usd_per_gpu_hour_p90": priced["gpu"].map(on_demand["p90"]),
            "spot_usd_per_gpu_hour": spot_price,
            "usd_per_million_on_demand": on_demand_cost,
            "usd_per_million_spot": spot_cost,
            "spot_saving_pct": saving,
            "price_source": "marketplace median; spot: " + source,
        }
    )
    return [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
