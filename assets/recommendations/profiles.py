"""Named weight profiles (`balanced`, `latency-critical`, ...), defined in profiles.yaml beside
this module so that changing a profile is a reviewed one-line diff, not a code change."""

import math
from importlib import resources
from pathlib import Path

import yaml

from assets.recommendations.criteria import CRITERIA


def load_profiles(path: Path | None = None) -> dict[str, dict[str, float]]:
    """Profile name -> {criterion: weight}, validated; `path` defaults to the packaged YAML.

    A ValueError names the profile at fault: an unknown criterion, a weight that is not a
    finite number >= 0, or a profile whose weights are all 0.
    """
    if path is None:
        text = resources.files(__package__).joinpath("profiles.yaml").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    if not isinstance(document, dict) or not document:
        raise ValueError("profiles: expected a mapping of profile name to weights")
    return {str(name): _validated(str(name), weights) for name, weights in document.items()}


def _validated(name: str, weights: object) -> dict[str, float]:
    if not isinstance(weights, dict) or not weights:
        raise ValueError(f"profile {name!r}: expected a mapping of criterion to weight")
    unknown = sorted(set(map(str, weights)) - set(CRITERIA))
    if unknown:
        raise ValueError(f"profile {name!r}: unknown criteria {unknown}; known: {sorted(CRITERIA)}")
    for criterion, weight in weights.items():
        # bool is an int to Python, and YAML reads `yes` as True: refuse it explicitly.
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ValueError(f"profile {name!r}: weight of {criterion} is not a number: {weight!r}")
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"profile {name!r}: weight of {criterion} must be >= 0, got {weight}")
    if not any(weights.values()):
        raise ValueError(f"profile {name!r}: every weight is 0")
    return {str(criterion): float(weight) for criterion, weight in weights.items()}
