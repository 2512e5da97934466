"""Percentiles without numpy (the client mode runs with the standard library only)."""

from collections.abc import Sequence

PERCENTILES = (50, 90, 95, 99)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile with linear interpolation between closest ranks.

    The same definition as numpy's default (`method="linear"`), which `vllm bench serve` and
    optimum-benchmark use, so our numbers compare with theirs. None for no values.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within [0, 100], got {q}")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float], prefix: str) -> dict[str, float | None]:
    """`{prefix}_p50` ... `{prefix}_p99` for the stored percentiles."""
    return {f"{prefix}_p{q}": percentile(values, q) for q in PERCENTILES}


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None
