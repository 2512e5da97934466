"""The registry's writes (assets/registry/store.py) against the real PostgreSQL: what goes in
as a JSON batch comes back exactly, and an unchanged row is not rewritten."""

from datetime import UTC, datetime, timedelta

import pytest

from assets.registry import store
from assets.registry.parsing import parse_models
from tests.integration.registry.catalog_rows import stored_models

pytestmark = pytest.mark.integration
NOW = datetime(2026, 5, 1, 3, tzinfo=UTC)
AWKWARD = {
    "id": 'odd/é漢😀-"q\'\\b', "author": "odd", "sha": "f" * 40,
    "lastModified": "2024-01-01T00:00:00.123456Z", "downloads": 2**62, "likes": 0,
    "tags": ['a"b', "c\\d", "{x,y}", "NULL", "", "line\nbreak"],
    "cardData": {"license": "mit", "base_model": ["x/y", "z/w"]},
    "huge": 2**80, "ratio": 1.5, "nested": {"a": [1, None, True, "é"]},
}  # fmt: skip


def test_awkward_values_round_trip_and_a_rewrite_writes_nothing(clean_db, records) -> None:
    rows, rejected = parse_models([*records[:50], AWKWARD], "hub")
    assert not rejected
    rows = [{**row, "removed_at": None} for row in rows]
    with clean_db.begin() as conn:
        assert store.upsert_models(conn, rows, NOW) == 51
    stored = stored_models(clean_db)
    for row in rows:
        assert {k: stored[row["id"]][k] for k in row} == row
    odd = stored[AWKWARD["id"]]
    assert odd["extra"]["huge"] == 2**80 and odd["extra"]["nested"] == {"a": [1, None, True, "é"]}
    assert (odd["first_seen"], odd["updated_at"]) == (NOW, NOW)

    later = NOW + timedelta(days=1)
    with clean_db.begin() as conn:
        assert store.upsert_models(conn, rows, later) == 0
        changed = [{**rows[0], "likes": (rows[0]["likes"] or 0) + 1}]
        assert store.upsert_models(conn, changed, later) == 1
    after = stored_models(clean_db)
    assert after[rows[0]["id"]]["updated_at"] == later
    assert after[rows[0]["id"]]["first_seen"] == NOW  # an update keeps when it was first seen
    assert after[AWKWARD["id"]]["updated_at"] == NOW
