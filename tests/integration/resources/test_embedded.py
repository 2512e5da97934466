"""The embedded stores: `stop` (what `modelcat down` runs) really stops PostgreSQL."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from resources import embedded

pytestmark = pytest.mark.integration


def test_stop_stops_a_server_other_processes_used_and_tolerates_a_stale_pid_file(tmp_path: Path):
    home = tmp_path / "home"
    urls = embedded.start(home)
    engine = create_engine(urls.database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()
    # A second handle, as `modelcat serve` next to `modelcat pipeline run` would hold.
    embedded.start(home)

    embedded.stop(home)
    assert not (home / "pgdata" / "postmaster.pid").exists()

    # After a crash the pid file outlives the server: stopping again is not an error.
    (home / "pgdata" / "postmaster.pid").write_text("999999\n")
    embedded.stop(home)
