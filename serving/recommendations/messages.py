"""What a 404 for an unknown recommendation says: which value is wrong, and the valid ones."""

from collections.abc import Mapping, Sequence
from typing import Any

# Which list of the index each request parameter is checked against.
_CHOICES = {"task": "tasks", "gpu": "gpus", "profile": "profiles", "x": "axes", "y": "axes"}
_KIND_NAMES = {"ranking": "ranking", "pareto": "Pareto front"}


def usable_index(index: Any) -> bool:
    """Whether a published index has the lists a 404 message needs."""
    return isinstance(index, dict) and all(
        isinstance(index.get(name), list) for name in set(_CHOICES.values())
    )


def valid_values(
    param: str, requested: Mapping[str, str], choices: Mapping[str, Any]
) -> Sequence[str]:
    """The valid values of `param`; for `gpu`, those of the requested task where it is known."""
    if param == "gpu":
        by_task = choices.get("gpus_by_task")
        if isinstance(by_task, dict) and requested.get("task") in by_task:
            return by_task[requested["task"]]
    return choices.get(_CHOICES[param], [])


def missing_message(
    kind: str, requested: Mapping[str, str], choices: Mapping[str, Any], version: str | None
) -> str:
    if version is None:
        return "no recommendations have been published yet"
    asked = ", ".join(f"{p}={v!r}" for p, v in requested.items())
    unknown = []
    for param, value in requested.items():
        valid = valid_values(param, requested, choices)
        if value not in valid:
            listed = ", ".join(valid) if valid else "none"
            unknown.append(f"unknown {param} {value!r} (valid: {listed})")
    head = f"no {_KIND_NAMES[kind]} in version {version} for {asked}: "
    if unknown:
        return head + "; ".join(unknown)
    return head + "each value exists, but not this combination"


def missing_detail(
    requested: Mapping[str, str], choices: Mapping[str, Any], version: str | None
) -> dict:
    valid = {_CHOICES[p]: list(valid_values(p, requested, choices)) for p in requested}
    return {"requested": dict(requested), "version": version, "valid": dict(sorted(valid.items()))}
