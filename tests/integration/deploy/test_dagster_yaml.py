"""deploy/dagster.yaml against the real PostgreSQL: the instance it describes loads, records a
run in a scratch database, and the run is in that database's `runs` table."""

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from resources.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def scratch_database(test_settings: Settings) -> Iterator[URL]:
    server = make_url(test_settings.test_database_url)
    name = f"mc_dagster_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure to reach the server means "missing"
        admin.dispose()
        message = f"PostgreSQL at {server.render_as_string()} is not reachable ({error})"
        if test_settings.require_services:
            pytest.fail(message + " (CATALOG_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip("SKIPPED LOUDLY: " + message)
    yield server.set(database=name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dg.op
def _hello() -> int:
    return 1


@dg.job
def _tiny() -> None:
    _hello()


def test_dagster_yaml_stores_runs_in_postgres(
    scratch_database: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(REPO_ROOT / "deploy" / "dagster.yaml", tmp_path / "dagster.yaml")
    for variable, value in {
        "DAGSTER_PG_HOST": scratch_database.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(scratch_database.port or 5432),
        "DAGSTER_PG_USERNAME": scratch_database.username or "postgres",
        "DAGSTER_PG_PASSWORD": scratch_database.password or "",
        "DAGSTER_PG_DB": scratch_database.database,
    }.items():
        monkeypatch.setenv(variable, value)

    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert instance.run_monitoring_enabled
        assert instance.run_retries_enabled
        result = _tiny.execute_in_process(instance=instance)
    assert result.success

    engine = create_engine(scratch_database)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT status FROM runs WHERE run_id = :id"), {"id": result.run_id}
            ).all()
    finally:
        engine.dispose()
    assert rows == [("SUCCESS",)]
