"""What the serving cache holds for one version, as Redis key -> response bytes."""

import hashlib

import orjson
from sqlalchemy import Connection, select

from resources.cache_keys import data_key
from resources.db.tables import Recommendation, RecommendationVersion
from serving.snapshots import hot_payloads

_RECS = Recommendation.__table__
_VERSIONS = RecommendationVersion.__table__


def cache_entries(conn: Connection) -> tuple[str, dict[str, bytes]]:
    """(version, entries) for everything the API serves from Redis.

    The version is the hash of the content, so an unchanged catalog republishes the same version.
    """
    active = conn.execute(
        select(_VERSIONS.c.version, _VERSIONS.c.summary).where(_VERSIONS.c.active)
    ).one_or_none()
    if active is None:
        raise LookupError("no active recommendations version: materialize recommendations first")
    rec_version, summary = active
    parts: list[tuple[tuple[str, ...], bytes]] = [
        (("index",), orjson.dumps({**summary, "recommendations_version": rec_version}))
    ]
    rows = conn.execute(
        select(_RECS.c.kind, _RECS.c.task, _RECS.c.gpu, _RECS.c.key, _RECS.c.payload)
        .where(_RECS.c.version == rec_version)
    ).all()  # fmt: skip
    for kind, task, gpu, key, payload in rows:
        prefix = (
            ("rec", task, gpu, key) if kind == "ranking" else ("pareto", task, gpu, *key.split(":"))
        )
        parts.append((prefix, orjson.dumps(payload)))
    parts.extend(hot_payloads(conn))
    digest = hashlib.sha256()
    for key, body in sorted(parts):
        digest.update(":".join(key).encode() + b"\0" + body)
    version = digest.hexdigest()[:16]
    return version, {data_key(version, *key): body for key, body in parts}
