"""Precompute every ranking (task x GPU x profile) and Pareto front (task x GPU x axis pair).

The version of a set is the hash of its content: re-running on unchanged data yields the same
version (nothing new is written), and any change yields a new one.
"""

import hashlib
import itertools
from collections.abc import Iterator
from typing import Any

import orjson
import pandas as pd

from assets.recommendations.engine import pareto, rank

ANY_GPU = "any"
TOP_K = 50
# Axes offered for Pareto fronts (each pair is precomputed).
PARETO_AXES = (
    "latency_p95_ms", "throughput_per_gpu", "cost_spot_per_million",
    "cost_on_demand_per_million", "energy_per_output_j", "memory_gb", "quality",
)  # fmt: skip


def groups(frame: pd.DataFrame) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """(task, gpu, candidates) for every GPU of a task, and for all its GPUs together."""
    for task, by_task in frame.groupby("task", sort=True):
        for gpu, by_gpu in by_task.groupby("gpu", sort=True):
            yield str(task), str(gpu), by_gpu
        yield str(task), ANY_GPU, by_task


def build(frame: pd.DataFrame, profiles: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """Rows for the `recommendations` table (without their version)."""
    rows: list[dict[str, Any]] = []
    configs = dict(zip(frame["result_key"], frame["config"], strict=True))
    for task, gpu, candidates in groups(frame):
        context = {"task": task, "gpu": gpu, "output_unit": _unit(candidates)}
        for profile, weights in profiles.items():
            body = rank(candidates, weights, top_k=TOP_K)
            for item in body["items"]:  # which configuration (batch size, parallelism) it is
                item["config"] = configs[item["result_key"]]
            payload = {**context, "profile": profile, "weights": weights, **body}
            rows.append({"kind": "ranking", "task": task, "gpu": gpu, "key": profile,
                         "payload": payload})  # fmt: skip
        axes = [a for a in PARETO_AXES if a in candidates and candidates[a].notna().any()]
        for x, y in itertools.permutations(axes, 2):
            payload = {**context, **pareto(candidates, x, y)}
            rows.append({"kind": "pareto", "task": task, "gpu": gpu, "key": f"{x}:{y}",
                         "payload": payload})  # fmt: skip
    return rows


def index(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What the version holds: the valid tasks, GPUs per task, profiles and axes."""
    tasks: dict[str, set[str]] = {}
    profiles, axes = set(), set()
    for row in rows:
        tasks.setdefault(row["task"], set()).add(row["gpu"])
        if row["kind"] == "ranking":
            profiles.add(row["key"])
        else:
            axes.update(row["key"].split(":"))
    return {
        "tasks": sorted(tasks),
        "gpus": sorted({g for gpus in tasks.values() for g in gpus}),
        "gpus_by_task": {t: sorted(g) for t, g in sorted(tasks.items())},
        "profiles": sorted(profiles),
        "axes": sorted(axes),
    }


def content_version(rows: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda r: (r["kind"], r["task"], r["gpu"], r["key"])):
        digest.update(orjson.dumps(row, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()[:16]


def _unit(candidates: pd.DataFrame) -> str:
    units = candidates["output_unit"].dropna().unique()
    return str(units[0]) if len(units) == 1 else "mixed"
