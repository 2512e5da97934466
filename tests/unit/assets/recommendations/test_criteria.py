import pytest

from assets.recommendations.criteria import CRITERIA, criterion


def test_the_catalogue_of_criteria() -> None:
    directions = {name: c.direction for name, c in CRITERIA.items()}
    assert directions == {
        "quality": "benefit",
        "latency_p95_ms": "cost",
        "throughput_per_gpu": "benefit",
        "memory_gb": "cost",
        "energy_per_output_j": "cost",
        "cost_spot_per_million": "cost",
        "cost_on_demand_per_million": "cost",
    }
    assert all(c.unit and c.label for c in CRITERIA.values())


def test_unknown_criterion_lists_the_known_ones() -> None:
    assert criterion("quality").is_benefit
    with pytest.raises(ValueError, match="latency_p95_ms"):
        criterion("latency")
