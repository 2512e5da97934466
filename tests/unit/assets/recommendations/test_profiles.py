from pathlib import Path

import pytest

from assets.recommendations.criteria import CRITERIA
from assets.recommendations.profiles import load_profiles


def test_packaged_profiles_load_and_name_known_criteria() -> None:
    profiles = load_profiles()
    required = {"balanced", "latency-critical", "cost-efficient", "energy-efficient", "throughput"}
    assert required <= set(profiles)
    for weights in profiles.values():
        assert set(weights) <= set(CRITERIA)
        assert all(w >= 0 for w in weights.values()) and any(weights.values())
    # Each specialised profile puts most weight on what it is named after.
    leading = {
        "latency-critical": "latency_p95_ms",
        "cost-efficient": "cost_spot_per_million",
        "energy-efficient": "energy_per_output_j",
        "throughput": "throughput_per_gpu",
    }
    for name, criterion in leading.items():
        assert max(profiles[name], key=profiles[name].get) == criterion


@pytest.mark.parametrize(
    "body, message",
    [
        ("fast:\n  speed: 1\n", "profile 'fast': unknown criteria \\['speed'\\]"),
        ("cheap:\n  cost_spot_per_million: -1\n", "profile 'cheap': weight of cost_spot"),
        ("cheap:\n  cost_spot_per_million: .nan\n", "profile 'cheap': weight of cost_spot"),
        ("odd:\n  quality: yes\n", "profile 'odd': weight of quality is not a number"),
        ("flat:\n  quality: 0\n  memory_gb: 0\n", "profile 'flat': every weight is 0"),
        ("empty:\n", "profile 'empty': expected a mapping"),
        ("- quality\n", "expected a mapping of profile name"),
    ],
)
def test_invalid_profiles_name_the_profile(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text("ok:\n  quality: 1\n" + body if not body.startswith("-") else body)
    with pytest.raises(ValueError, match=message):
        load_profiles(path)
