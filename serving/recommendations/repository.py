"""Every query on `recommendations` and `recommendation_versions`."""

from typing import NamedTuple

import orjson
from sqlalchemy import Connection, select

from resources.db.tables import Recommendation, RecommendationVersion


class StoredPayload(NamedTuple):
    version: str
    body: bytes


def _active_version():
    # Normally exactly one row is active; the newest wins if a switch is caught half-way.
    return (
        select(RecommendationVersion.version)
        .where(RecommendationVersion.active.is_(True))
        .order_by(RecommendationVersion.created_at.desc())
        .limit(1)
    )


def active_version(conn: Connection) -> str | None:
    return conn.scalar(_active_version())


def payload(conn: Connection, kind: str, task: str, gpu: str, key: str) -> StoredPayload | None:
    """The stored JSON of the active version, serialised as the cache publisher does it.

    (orjson over the JSONB value: the fallback bytes equal the bytes cached in Redis.)
    """
    row = conn.execute(
        select(Recommendation.version, Recommendation.payload).where(
            Recommendation.version == _active_version().scalar_subquery(),
            Recommendation.kind == kind,
            Recommendation.task == task,
            Recommendation.gpu == gpu,
            Recommendation.key == key,
        )
    ).first()
    return StoredPayload(row[0], orjson.dumps(row[1])) if row is not None else None


def choices(conn: Connection) -> tuple[str | None, dict]:
    """(active version, its valid values) from one DISTINCT query, shaped like the index."""
    version = active_version(conn)
    rows = conn.execute(
        select(Recommendation.kind, Recommendation.task, Recommendation.gpu, Recommendation.key)
        .where(Recommendation.version == version)
        .distinct()
    ).all()
    gpus_by_task: dict[str, set[str]] = {}
    for r in rows:
        gpus_by_task.setdefault(r.task, set()).add(r.gpu)
    return version, {
        "tasks": sorted(gpus_by_task),
        "gpus": sorted({r.gpu for r in rows}),
        "gpus_by_task": {task: sorted(gpus) for task, gpus in sorted(gpus_by_task.items())},
        "profiles": sorted({r.key for r in rows if r.kind == "ranking"}),
        "axes": sorted({a for r in rows if r.kind == "pareto" for a in r.key.split(":")}),
    }
