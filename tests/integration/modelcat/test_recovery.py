"""`modelcat backup` / `modelcat restore` on real PostgreSQL and Redis: a catalog backed up,
everything dropped, restored into an empty database with the serving cache rebuilt, and the API
answering byte for byte as before. Bad backups and occupied targets are refused in one line."""

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest
import redis
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, insert, inspect, text
from sqlalchemy.engine import Engine, make_url
from typer.testing import CliRunner

from assets.serving_cache.entries import cache_entries
from modelcat.cli import app
from modelcat.recovery import manifest_path
from resources.cache import VERSION_KEY, RedisResource
from resources.db.migrate import alembic_config, upgrade
from resources.db.tables import Gpu, MlModel, RecommendationVersion
from resources.settings import Settings, get_settings
from serving.app import create_app
from tests.integration.serving.conftest import _api_settings
from tests.integration.serving.seed import LLAMA, PARETO_KEY, QWEN, UNICODE, seed

# The revision a migrated database is at: the newest migration.
HEAD = ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()

pytestmark = pytest.mark.integration

X, Y = PARETO_KEY.split(":")
# Every kind of answer: cached ones (rankings, fronts, model pages, GPUs) and PostgreSQL ones.
URLS = [
    "/recommendations?task=lm-arena-chat&gpu=H100&profile=balanced",
    f"/pareto?task=lm-arena-chat&gpu=H100&x={X}&y={Y}",
    f"/models/{QWEN}",
    f"/models/{LLAMA}",
    "/models/" + quote(UNICODE),
    "/gpus",
    "/models",
    "/models?q=qwen&limit=2",
    "/models?task=text-generation",
    f"/models/{QWEN}/benchmarks",
    f"/models/{QWEN}/popularity",
    "/analytics/popularity/trending",
    f"/analytics/benchmarks/trends?model_id={QWEN}&metric=throughput",
    "/analytics/benchmarks/regressions",
]


@pytest.fixture
def seeded(clean_db: Engine) -> Engine:
    """The session database with the API tests' catalog (an active recommendations version)."""
    seed(clean_db)
    return clean_db


@pytest.fixture
def empty_database(test_settings: Settings) -> Iterator[str]:
    """A brand-new database with nothing in it (not even the schema)."""
    server = make_url(test_settings.test_database_url)
    name = f"mc_restore_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def modelcat(monkeypatch, tmp_path: Path) -> Iterator[Callable[..., object]]:
    """Run the CLI in services mode against the given stores: `modelcat(db, cache, *args)`."""
    monkeypatch.setenv("CATALOG_HOME", str(tmp_path / "home"))

    def run(database_url: str, redis_url: str, *args: str):
        monkeypatch.setenv("CATALOG_DATABASE_URL", database_url)
        monkeypatch.setenv("CATALOG_REDIS_URL", redis_url)
        get_settings.cache_clear()
        return CliRunner().invoke(app, list(args))

    yield run
    get_settings.cache_clear()


def _answers(database_url: str, redis_url: str) -> dict[str, tuple[int, str | None, bytes]]:
    """(status, data version, body) per URL, from a freshly started app on these stores."""
    with TestClient(create_app(database_url, redis_url, _api_settings())) as api:
        return {
            url: (r.status_code, r.headers.get("x-data-version"), r.content)
            for url in URLS
            for r in [api.get(url)]
        }


def _publish_like_the_pipeline(engine: Engine, redis_url: str) -> str:
    with engine.connect() as conn:
        version, entries = cache_entries(conn)
    cache = RedisResource(url=redis_url)
    cache.publish_version(version, entries, at=time.time())
    cache.client.close()
    return version


def _tables(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_restore_into_an_empty_database_answers_as_before(
    seeded, database_url, redis_url, empty_database, modelcat, tmp_path
):
    version = _publish_like_the_pipeline(seeded, redis_url)
    before = _answers(database_url, redis_url)
    assert {status for status, _, _ in before.values()} == {200}, before
    assert before[URLS[0]][1] == version  # the ranking came from the serving cache
    dump = tmp_path / "catalog.dump"

    backed_up = modelcat(database_url, redis_url, "backup", "--output", str(dump))

    assert backed_up.exit_code == 0, backed_up.output
    assert dump.is_file() and manifest_path(dump).is_file()
    # Lose both stores: Redis flushed, and the restore goes to a database with nothing in it.
    redis.Redis.from_url(redis_url).flushdb()
    assert _tables(empty_database) == []

    restored = modelcat(empty_database, redis_url, "restore", str(dump))

    assert restored.exit_code == 0, restored.output
    for step in ("pg_restore", "migrate to head", "rebuild serving cache", "total"):
        assert step in restored.stdout
    assert redis.Redis.from_url(redis_url).get(VERSION_KEY) == version.encode()
    after = _answers(empty_database, redis_url)
    for url in URLS:
        assert after[url] == before[url], url


def test_backup_manifest_describes_the_dump(seeded, database_url, redis_url, modelcat, tmp_path):
    dump = tmp_path / "catalog.dump"
    assert modelcat(database_url, redis_url, "backup", "-o", str(dump)).exit_code == 0
    manifest = orjson.loads(manifest_path(dump).read_bytes())
    assert manifest["alembic_revision"] == HEAD
    assert manifest["recommendations_version"] == "v1"
    assert manifest["row_counts"]["models"] == 6
    assert manifest["row_counts"]["recommendation_versions"] == 2
    assert manifest["dump_bytes"] == dump.stat().st_size
    assert not dump.with_name(dump.name + ".partial").exists()


def test_a_damaged_backup_is_refused(
    seeded, database_url, redis_url, empty_database, modelcat, tmp_path
):
    dump = tmp_path / "catalog.dump"
    assert modelcat(database_url, redis_url, "backup", "-o", str(dump)).exit_code == 0
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))

    result = modelcat(empty_database, redis_url, "restore", str(dump))

    assert result.exit_code == 1
    assert "checksum mismatch" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one line, no traceback
    assert _tables(empty_database) == []  # nothing was touched


def test_a_database_with_data_is_replaced_only_with_yes(
    seeded, database_url, redis_url, modelcat, tmp_path
):
    dump = tmp_path / "catalog.dump"
    assert modelcat(database_url, redis_url, "backup", "-o", str(dump)).exit_code == 0
    with seeded.begin() as conn:
        conn.execute(delete(MlModel).where(MlModel.id == LLAMA))

    refused = modelcat(database_url, redis_url, "restore", str(dump))

    assert refused.exit_code == 1
    assert "not empty" in refused.stderr and "--yes" in refused.stderr
    assert _count(seeded, "models") == 5  # untouched

    replaced = modelcat(database_url, redis_url, "restore", str(dump), "--yes")

    assert replaced.exit_code == 0, replaced.output
    assert _count(seeded, "models") == 6  # the deleted model is back


def test_a_backup_from_an_older_schema_is_upgraded(
    redis_url, empty_database, modelcat, tmp_path, test_settings
):
    server = make_url(test_settings.test_database_url)
    name = f"mc_old_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    old_url = server.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(old_url, "0002")
        old = create_engine(old_url)
        with old.begin() as conn:
            conn.execute(
                insert(Gpu),
                [{"name": "H100", "vendor": "nvidia", "memory_gb": 80.0, "aliases": []}],
            )
            conn.execute(insert(RecommendationVersion), [{"version": "v1", "active": True}])
        old.dispose()
        dump = tmp_path / "old.dump"
        assert modelcat(old_url, redis_url, "backup", "-o", str(dump)).exit_code == 0
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    upgrade(empty_database)  # the target is already at head, as after `modelcat serve`

    result = modelcat(empty_database, redis_url, "restore", str(dump))

    assert result.exit_code == 0, result.output
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    assert _count(engine, "gpus") == 1
    engine.dispose()


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()


def test_cache_rebuild_republishes_what_redis_lost(seeded, database_url, redis_url, modelcat):
    version = _publish_like_the_pipeline(seeded, redis_url)
    redis.Redis.from_url(redis_url).flushdb()  # Redis lost everything
    result = modelcat(database_url, redis_url, "cache", "rebuild")
    assert result.exit_code == 0, result.output
    assert f"serving cache {version} published" in result.output
    assert redis.Redis.from_url(redis_url).get(VERSION_KEY).decode() == version


def test_cache_rebuild_without_recommendations_fails_in_one_line(
    clean_db, database_url, redis_url, modelcat
):
    result = modelcat(database_url, redis_url, "cache", "rebuild")
    assert result.exit_code == 1
    assert "cannot rebuild the serving cache" in result.output
    assert "Traceback" not in result.output
