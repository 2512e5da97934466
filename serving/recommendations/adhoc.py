"""Ad-hoc rankings (POST /recommendations/query) over an in-memory candidate matrix.

The matrix (`load_candidates`, one row per benchmark configuration) is read from PostgreSQL once
and kept for as long as the same recommendations version is active: a query never scans the
benchmark tables. Whether the version changed is asked at most every `check_s` seconds (one
indexed single-row query), so a switch is seen within seconds and costs one reload.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import Connection

from assets.recommendations.engine import Constraints, rank
from assets.recommendations.frames import load_candidates
from serving.db import Database
from serving.errors import NotFound, Unavailable
from serving.recommendations import repository
from serving.recommendations.schemas import RankingQuery

logger = logging.getLogger(__name__)

CHECK_S = 2.0  # how stale the active version may be: a switch is rare, a query is not


class Matrix(NamedTuple):
    version: str | None
    by_task: dict[str, pd.DataFrame]  # each task's candidates
    configs: dict[str, Any]  # result_key -> the configuration it ran (as precompute adds it)


def build(version: str | None, frame: pd.DataFrame) -> Matrix:
    if frame.empty:
        return Matrix(version, {}, {})
    by_task = {str(task): rows for task, rows in frame.groupby("task", sort=True)}
    return Matrix(version, by_task, dict(zip(frame["result_key"], frame["config"], strict=True)))


def load(conn: Connection) -> Matrix:
    """The active version and its candidates, read in one transaction."""
    return build(repository.active_version(conn), load_candidates(conn))


def answer(matrix: Matrix, query: RankingQuery, seed: int = 0) -> dict[str, Any]:
    """rank() over the task's candidates on the requested GPUs, items with their `config`."""
    candidates = matrix.by_task.get(query.task)
    if candidates is None:
        tasks = sorted(matrix.by_task)
        raise NotFound(
            f"unknown task {query.task!r} (valid: {', '.join(tasks) or 'none'})",
            {"requested": {"task": query.task}, "version": matrix.version,
             "valid": {"tasks": tasks}},
        )  # fmt: skip
    valid_gpus = sorted(candidates["gpu"].unique())
    gpus = valid_gpus if query.gpus is None else sorted(set(query.gpus))
    unknown = [gpu for gpu in gpus if gpu not in valid_gpus]
    if unknown:
        raise NotFound(
            f"unknown gpu {', '.join(map(repr, unknown))} for task {query.task!r} "
            f"(valid: {', '.join(valid_gpus)})",
            {"requested": {"task": query.task, "gpus": gpus}, "version": matrix.version,
             "valid": {"gpus": valid_gpus}},
        )  # fmt: skip
    if query.gpus is not None:
        candidates = candidates[candidates["gpu"].isin(gpus)]
    limits = query.constraints.model_dump()
    if limits["licenses"] is not None:
        limits["licenses"] = tuple(limits["licenses"])
    body = rank(
        candidates,
        query.weights,
        Constraints(**limits),
        top_k=query.top_k,
        stability_draws=query.stability_draws,
        seed=seed,
    )
    for item in body["items"]:
        item["config"] = matrix.configs.get(item["result_key"])
    return {"task": query.task, "gpus": gpus, "weights": query.weights, **body}


class CandidateStore:
    """The matrix of the active version, loaded on first use and reloaded when it changes."""

    def __init__(self, check_s: float = CHECK_S, clock: Callable[[], float] = time.monotonic):
        self._check_s = check_s
        self._clock = clock
        self._matrix: Matrix | None = None
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()  # one load at a time; the others wait for its result

    async def get(self, db: Database) -> Matrix:
        if self._matrix is not None and self._clock() - self._checked_at < self._check_s:
            return self._matrix
        async with self._lock:
            if self._matrix is not None and self._clock() - self._checked_at < self._check_s:
                return self._matrix  # another request checked while this one waited
            if self._matrix is not None:
                try:
                    version = await db.run(repository.active_version)
                except Unavailable:
                    # Fail open: the matrix we hold is still a valid answer, if maybe stale.
                    self._checked_at = self._clock()
                    return self._matrix
                if version == self._matrix.version:
                    self._checked_at = self._clock()
                    return self._matrix
            matrix = await db.run(load)
            logger.info(
                "candidate matrix of version %s: %d tasks, %d candidates",
                matrix.version,
                len(matrix.by_task),
                sum(len(rows) for rows in matrix.by_task.values()),
            )
            self._matrix, self._checked_at = matrix, self._clock()
            return matrix
