from datetime import date

from sqlalchemy import func, select

from resources.db.tables import ModelSnapshot
from resources.db.upsert import upsert

T = ModelSnapshot.__table__


def _rows(downloads: int) -> list[dict]:
    return [
        {"model_id": f"org/m{i}", "snapshot_date": date(2025, 1, 1 + i % 28),
         "downloads": downloads, "likes": 1, "trending_rank": i, "source": "test"}
        for i in range(2500)
    ]  # fmt: skip


def test_upsert_is_idempotent_and_counts_only_changes(clean_db):
    with clean_db.begin() as conn:
        assert upsert(conn, T, _rows(10)) == 2500
        assert upsert(conn, T, _rows(10)) == 0
        changed = _rows(10)
        changed[0]["downloads"] = 11
        assert upsert(conn, T, changed) == 1
        assert conn.execute(select(func.count()).select_from(T)).scalar_one() == 2500
        assert (
            conn.execute(select(T.c.downloads).where(T.c.model_id == "org/m0")).scalar_one() == 11
        )


def test_failed_transaction_keeps_what_was_stored(clean_db):
    with clean_db.begin() as conn:
        upsert(conn, T, _rows(10))
    try:
        with clean_db.begin() as conn:
            upsert(conn, T, _rows(99))
            raise RuntimeError("the asset failed half-way")
    except RuntimeError:
        pass
    with clean_db.connect() as conn:
        assert set(conn.execute(select(T.c.downloads)).scalars()) == {10}
