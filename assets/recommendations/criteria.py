"""The criteria a recommendation can weigh, each with its unit and the direction that is better.

A criterion's `name` is also the column that carries it in the candidate frames (DESIGN §7).
"""

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Criterion:
    name: str
    label: str
    unit: str
    direction: Literal["benefit", "cost"]

    @property
    def is_benefit(self) -> bool:
        return self.direction == "benefit"


CRITERIA: dict[str, Criterion] = {
    c.name: c
    for c in (
        Criterion("quality", "Quality (leaderboard average)", "score 0-100", "benefit"),
        Criterion("latency_p95_ms", "Latency p95 (the task's latency metric)", "ms", "cost"),
        Criterion("throughput_per_gpu", "Throughput per GPU", "outputs/s/GPU", "benefit"),
        Criterion("memory_gb", "Memory (measured peak, else weights)", "GB", "cost"),
        Criterion("energy_per_output_j", "Energy per output", "J/output", "cost"),
        Criterion("cost_spot_per_million", "Cost per 1M outputs (spot)", "$/1M outputs", "cost"),
        Criterion(
            "cost_on_demand_per_million", "Cost per 1M outputs (on-demand)", "$/1M outputs", "cost"
        ),
    )
}

# The p50 of the same latency metric: not weighed, but it bounds the latency noise that the
# rank-stability draws sample from.
LATENCY_P50_COLUMN = "latency_p50_ms"


def criterion(name: str) -> Criterion:
    """The criterion called `name`; a ValueError lists the known names otherwise."""
    try:
        return CRITERIA[name]
    except KeyError:
        raise ValueError(f"unknown criterion {name!r}; known: {sorted(CRITERIA)}") from None
