"""Backup and restore of the catalog, and the serving-cache rebuild that follows a restore.

PostgreSQL is the only store that must be backed up: the serving cache in Redis is derived from
it (`cache_entries` + `publish_version`, the code the pipeline's `serving_cache` asset runs), so
a restore rebuilds the cache instead of carrying a copy that could disagree with the tables.

A backup is a `pg_dump` custom-format archive plus a JSON manifest beside it (`<dump>.json`):
when it was taken, the schema revision, the active recommendations version, the row count of
every table and the archive's SHA-256. The counts and the archive come from one exported
snapshot, so they describe the same data even while the pipeline writes.
"""

import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

import orjson
import redis
from sqlalchemy import Connection, create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from assets.serving_cache.entries import cache_entries
from resources.cache import RedisResource
from resources.db.migrate import upgrade
from resources.db.tables import Base, RecommendationVersion

_VERSIONS = RecommendationVersion.__table__
_CHUNK = 1 << 20
_T = TypeVar("_T")
# (alembic revision, active recommendations version, rows per catalog table)
_Facts = tuple[str | None, str | None, dict[str, int]]


class RecoveryError(Exception):
    """A backup or restore that cannot go on; the message is one line for the operator."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    alembic_revision: str | None
    recommendations_version: str | None
    row_counts: dict[str, int]
    sha256: str
    dump_bytes: int
    server_version: str
    pg_dump_major: int


@dataclass
class Restored:
    manifest: Manifest
    cache_version: str
    cache_keys: int
    seconds: dict[str, float] = field(default_factory=dict)  # per step, in order


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".json")


def default_dump_path(home: Path, now: dt.datetime) -> Path:
    return home / "backups" / f"catalog-{now:%Y%m%dT%H%M%SZ}.dump"


def backup(database_url: str, output: Path) -> Manifest:
    """Dump the catalog database to `output` (custom format) and write its manifest beside it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")  # a failed dump never looks complete
    started = dt.datetime.now(dt.UTC)
    try:
        server_version, pg_dump_major, (revision, active, counts) = _dump(database_url, partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(output)
    manifest = Manifest(
        created_at=started.isoformat(timespec="seconds"),
        alembic_revision=revision,
        recommendations_version=active,
        row_counts=counts,
        sha256=_sha256(output),
        dump_bytes=output.stat().st_size,
        server_version=server_version,
        pg_dump_major=pg_dump_major,
    )
    manifest_path(output).write_bytes(orjson.dumps(asdict(manifest), option=orjson.OPT_INDENT_2))
    return manifest


def _dump(database_url: str, file: Path) -> tuple[str, int, _Facts]:
    """pg_dump into `file`; return (server version, pg_dump's major version, facts), the facts
    read in the snapshot pg_dump dumps."""
    engine = create_engine(database_url)
    try:
        # The transaction stays open until pg_dump has imported its snapshot.
        connection = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with connection as conn, conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            major, server_version = _server_version(conn)
            facts = _facts(conn)
            pg_dump_major, pg_dump = _pg_tool("pg_dump", major)
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={file}",
                  f"--dbname={_conninfo(database_url)}"], database_url)  # fmt: skip
    except SQLAlchemyError as error:
        raise RecoveryError(f"cannot read {_shown(database_url)}: {_first_line(error)}") from None
    finally:
        engine.dispose()
    return server_version, pg_dump_major, facts


def verify(dump: Path) -> Manifest:
    """The dump's manifest, once the dump's SHA-256 matches the one it records."""
    if not dump.is_file():
        raise RecoveryError(f"no backup at {dump}")
    path = manifest_path(dump)
    if not path.is_file():
        raise RecoveryError(f"no manifest {path}: a backup is the dump and its manifest")
    try:
        manifest = Manifest(**orjson.loads(path.read_bytes()))
    except (OSError, orjson.JSONDecodeError, TypeError) as error:
        raise RecoveryError(f"unreadable manifest {path}: {_first_line(error)}") from None
    if _sha256(dump) != manifest.sha256:
        raise RecoveryError(f"checksum mismatch: {dump} is not the archive its manifest describes "
                            "(damaged or replaced); refusing to restore it")  # fmt: skip
    return manifest


def restore(
    dump: Path,
    database_url: str,
    redis_url: str,
    *,
    overwrite: bool = False,
    keep_versions: int = 2,
    progress: Callable[[str], None] = lambda step: None,
) -> Restored:
    """Replace the database with the backup, check it, migrate it to head, rebuild the cache.

    Each step's duration is in the result, in order (`progress` hears each name as it starts).
    """
    seconds: dict[str, float] = {}

    def step(name: str, fn: Callable[[], _T]) -> _T:
        progress(name)
        started = time.perf_counter()
        result = fn()
        seconds[name] = time.perf_counter() - started
        return result

    manifest = step("verify checksum", lambda: verify(dump))
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            major = _server_version(conn)[0]
            step("clear target", lambda: _clear(conn, database_url, overwrite))
        # New enough for the target server and for the archive's format.
        _, pg_restore = _pg_tool("pg_restore", max(major, manifest.pg_dump_major))
        command = [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction",
                   "--exit-on-error", f"--dbname={_conninfo(database_url)}", str(dump)]  # fmt: skip
        step("pg_restore", lambda: _run(command, database_url))
        with engine.connect() as conn:
            step("compare row counts", lambda: _compare(manifest.row_counts, _facts(conn)[2]))
        step("migrate to head", lambda: upgrade(database_url))
    except SQLAlchemyError as error:
        raise RecoveryError(f"cannot use {_shown(database_url)}: {_first_line(error)}") from None
    finally:
        engine.dispose()
    try:
        version, keys = step(
            "rebuild serving cache", lambda: rebuild_cache(database_url, redis_url, keep_versions)
        )
    except RecoveryError as error:
        raise RecoveryError(f"database restored, but {error}") from None
    return Restored(manifest, version, keys, seconds)


def rebuild_cache(database_url: str, redis_url: str, keep_versions: int = 2) -> tuple[str, int]:
    """Publish the serving cache from PostgreSQL, as the `serving_cache` asset does; return the
    version (a hash of the content: the same data republishes the same version) and key count."""
    engine = create_engine(database_url)
    cache = RedisResource(url=redis_url, keep_versions=keep_versions)
    try:
        with engine.begin() as conn:
            version, entries = cache_entries(conn)
        cache.publish_version(version, entries, at=time.time())
    except LookupError as error:
        raise RecoveryError(f"cannot rebuild the serving cache: {error}") from None
    except SQLAlchemyError as error:
        raise RecoveryError(f"cannot read {_shown(database_url)}: {_first_line(error)}") from None
    except redis.RedisError as error:
        raise RecoveryError(f"Redis at {redis_url}: {_first_line(error)}") from None
    finally:
        cache.client.close()
        engine.dispose()
    return version, len(entries)


def _facts(conn: Connection) -> _Facts:
    """(alembic revision, active recommendations version, rows per catalog table)."""
    present = set(inspect(conn).get_table_names())
    revision = None
    if "alembic_version" in present:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    active = None
    if _VERSIONS.name in present:
        active = conn.execute(select(_VERSIONS.c.version).where(_VERSIONS.c.active)).scalar()
    counts = {
        str(t.name): conn.execute(text(f'SELECT count(*) FROM "{t.name}"')).scalar_one()
        for t in Base.metadata.sorted_tables
        if t.name in present
    }
    return revision, active, counts


def _clear(conn: Connection, database_url: str, overwrite: bool) -> None:
    """Drop the target's tables, refusing when one has rows unless `overwrite`.

    `pg_restore --clean` drops only what the archive holds: a table or index a later migration
    added to the target would survive and make the upgrade of an older backup fail.
    """
    tables = inspect(conn).get_table_names()
    filled = [
        name
        for name in tables
        if name != "alembic_version"
        and conn.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1')).first() is not None
    ]
    if filled and not overwrite:
        raise RecoveryError(
            f"{_shown(database_url)} is not empty ({', '.join(sorted(filled))} have rows); "
            "pass --yes to replace it with the backup"
        )
    if tables:
        names = ", ".join(f'"{name}"' for name in tables)
        conn.execute(text(f"DROP TABLE {names} CASCADE"))


def _compare(expected: dict[str, int], actual: dict[str, int]) -> None:
    wrong = [
        f"{name} {actual.get(name)} != {count}"
        for name, count in expected.items()
        if actual.get(name) != count
    ]
    if wrong:
        raise RecoveryError("restored row counts differ from the manifest: " + ", ".join(wrong))


def _server_version(conn: Connection) -> tuple[int, str]:
    number = int(conn.execute(text("SHOW server_version_num")).scalar_one())
    return number // 10_000, conn.execute(text("SHOW server_version")).scalar_one()


def _pg_tool(name: str, min_major: int) -> tuple[int, str]:
    """(major version, path) of the `pg_dump`/`pg_restore` closest to `min_major`, not older.

    pg_dump refuses a newer server, and an older pg_restore cannot read a newer archive; the
    embedded mode's server is pgserver's own build, which bundles its tools.
    """
    on_path = shutil.which(name)
    candidates = [
        *sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}")),  # Debian: one per version
        *([Path(on_path)] if on_path else []),
    ]
    try:
        import pgserver  # only installed for the embedded mode

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin" / name)
    except ImportError:
        pass
    usable = [
        (major, str(path))
        for path in candidates
        if (major := _tool_major(path)) is not None and major >= min_major
    ]
    if not usable:
        raise RecoveryError(f"no {name} for PostgreSQL {min_major} or newer is installed")
    return min(usable, key=lambda tool: tool[0])  # the first found of the closest version


def _tool_major(path: Path) -> int | None:
    """The major version a tool reports ("pg_dump (PostgreSQL) 15.20 ..."), None if it fails."""
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    found = re.search(r"\(PostgreSQL\) (\d+)", done.stdout)
    return int(found.group(1)) if done.returncode == 0 and found else None


def _run(command: list[str], database_url: str) -> None:
    password = make_url(database_url).password
    # The password goes to the child through its environment, never its command line (`ps`).
    env = {**os.environ, "PGPASSWORD": password} if password else None
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        raise RecoveryError(f"{Path(command[0]).name} failed: {lines[-1]}")


def _conninfo(database_url: str) -> str:
    """A libpq connection string for a SQLAlchemy URL (a socket folder may be in `?host=`)."""
    url = make_url(database_url)
    params = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    params |= {k: v for k, v in url.query.items() if isinstance(v, str)}
    return " ".join(f"{k}={_quoted(v)}" for k, v in params.items() if v is not None)


def _quoted(value: object) -> str:
    escaped = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _shown(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=True)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
