"""What the registry tests read back from the catalog (plain SQL on the real PostgreSQL)."""

from typing import Any

from sqlalchemy import Engine, text


def stored_models(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every `models` row by id, every column."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM models")).mappings()
        return {row["id"]: dict(row) for row in rows}


def sync_state(engine: Engine) -> dict[str, Any]:
    """The one source's `registry_sync_state` row."""
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT * FROM registry_sync_state")).mappings().one())
