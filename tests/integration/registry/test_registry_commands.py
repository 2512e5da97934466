"""`modelcat registry import-history` on the real export, against the test database."""

import gzip

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from modelcat.registry_commands import registry_app
from resources.registry import SNAPSHOT_FILE
from resources.settings import get_settings

pytestmark = pytest.mark.integration
# Mounted as modelcat/cli.py mounts it (a lone command would collapse into the app itself).
app = typer.Typer()
app.add_typer(registry_app, name="registry")


@pytest.fixture
def services(monkeypatch, database_url, redis_url):
    monkeypatch.setenv("CATALOG_DATABASE_URL", database_url)
    monkeypatch.setenv("CATALOG_REDIS_URL", redis_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_imports_the_real_history_then_refuses_a_malformed_file(clean_db, services, settings,
                                                                 tmp_path) -> None:  # fmt: skip
    export = settings.data_dir / "hf_hub" / SNAPSHOT_FILE
    done = CliRunner().invoke(app, ["registry", "import-history", str(export)])
    assert done.exit_code == 0, done.output
    assert "111,873 daily rows for 276 models" in done.output
    assert "2024-05-08 .. 2026-05-07" in " ".join(done.output.split())  # rich wraps lines
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(
        gzip.compress(b"snapshot_date,trending,id,downloads,likes\n2025-01-01,1,,5,1\n")
    )
    refused = CliRunner().invoke(app, ["registry", "import-history", str(bad)])
    assert refused.exit_code == 1 and f"{bad}:2" in refused.output
    with clean_db.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM model_snapshots")).scalar_one()
    assert count == 111_873
