"""GET /models paging at scale: keyset cursors, the offset cap and the capped count (real PG)."""

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine

from resources.db.tables import MlModel
from serving import errors
from serving.db import Database, serving_engine
from serving.models import repository, router
from serving.models.filters import MAX_OFFSET, ModelFilters, Sort

pytestmark = pytest.mark.integration

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _catalog(n: int = 61) -> list[dict]:
    """Few distinct values (ties everywhere), missing values in each sort column, removed rows,
    ids whose order the database's collation decides (case, punctuation, digits)."""
    rng = random.Random(7)
    rows = []
    for i in range(n):
        missing = rng.random() < 0.2
        rows.append(
            {
                "id": rng.choice(["org", "Org", "z-org", "a_lab"])
                + f"/m-{i:03d}.{rng.choice('aB')}",
                "source": "hf",
                "author": rng.choice(["org", "lab"]),
                "pipeline_tag": rng.choice(["text-generation", "fill-mask"]),
                "downloads": None if missing else rng.choice([0, 0, 5, 100, 100, 7000]),
                "likes": None if rng.random() < 0.3 else rng.choice([0, 1, 1, 9]),
                # Microseconds and shared instants: the cursor must keep both exactly.
                "last_modified": None
                if rng.random() < 0.25
                else T0 + timedelta(days=rng.choice([0, 1, 1, 3]), microseconds=rng.choice([0, 7])),
                "removed_at": T0 if rng.random() < 0.1 else None,
                "tags": [],
                "base_models": [],
                "extra": {},
            }
        )
    return rows


@pytest.fixture
def catalog(clean_db: Engine) -> list[dict]:
    rows = _catalog()
    with clean_db.begin() as conn:
        conn.execute(insert(MlModel), rows)
    return rows


@pytest.fixture
def api(database_url: str) -> Iterator[TestClient]:
    """Just the models router on the test database (the full app is wired in serving.app)."""
    app = FastAPI()
    errors.install(app)
    app.include_router(router.router)
    engine = serving_engine(database_url)
    app.state.database = Database(engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    engine.dispose()


def expected(engine: Engine, rows: list[dict], sort: Sort, include_removed: bool) -> list[str]:
    """The documented order, with ids ranked by the database's own collation."""
    with engine.connect() as conn:
        rank = {i: n for n, i in enumerate(conn.scalars(select(MlModel.id).order_by(MlModel.id)))}
    listed = [r for r in rows if include_removed or r["removed_at"] is None]
    if sort.field == "id":
        return sorted((r["id"] for r in listed), key=rank.get, reverse=sort.descending)
    present = [r for r in listed if r[sort.field] is not None]
    present.sort(key=lambda r: (r[sort.field], rank[r["id"]]), reverse=sort.descending)
    missing = sorted((r["id"] for r in listed if r[sort.field] is None), key=rank.get)
    return [r["id"] for r in present] + missing


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def walk(api: TestClient, params: dict) -> list[list[str]]:
    pages, cursor = [], None
    for _ in range(100):  # a cursor that stops advancing must fail the test, not hang it
        body = ok(api.get("/models", params=params | ({"cursor": cursor} if cursor else {})))
        pages.append([m["id"] for m in body["data"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError(f"no last page after {len(pages)} pages")


@pytest.mark.parametrize("include_removed", [False, True])
@pytest.mark.parametrize("sort", list(Sort))
def test_cursor_pages_cover_every_row_once_in_order(api, catalog, clean_db, sort, include_removed):
    pages = walk(api, {"sort": sort.value, "limit": 7, "include_removed": include_removed})
    want = expected(clean_db, catalog, sort, include_removed)
    assert [i for page in pages for i in page] == want
    assert all(len(page) == 7 for page in pages[:-1]) and 0 < len(pages[-1]) <= 7


@pytest.mark.parametrize("sort", list(Sort))
def test_offset_pages_agree_with_the_order_across_missing_values(api, catalog, clean_db, sort):
    # Offsets land on both sides of the boundary between present and missing values.
    want = expected(clean_db, catalog, sort, False)
    for offset in range(0, len(want) + 7, 6):
        page = ok(api.get("/models", params={"sort": sort.value, "limit": 6, "offset": offset}))
        assert [m["id"] for m in page["data"]] == want[offset : offset + 6]
        assert (page["next_cursor"] is not None) == (offset + 6 < len(want))


def test_a_cursor_continues_where_an_offset_page_ended(api, catalog, clean_db):
    want = expected(clean_db, catalog, Sort.likes_desc, False)
    first = ok(api.get("/models", params={"sort": "-likes", "limit": 10, "offset": 20}))
    rest = ok(
        api.get("/models", params={"sort": "-likes", "limit": 500, "cursor": first["next_cursor"]})
    )
    assert [m["id"] for m in first["data"] + rest["data"]] == want[20:]


def test_cursor_keeps_filters_and_may_change_the_page_size(api, catalog, clean_db):
    params = {"task": "fill-mask", "sort": "-downloads", "limit": 4}
    first = ok(api.get("/models", params=params))
    rest = ok(api.get("/models", params=params | {"limit": 500, "cursor": first["next_cursor"]}))
    ids = [m["id"] for m in first["data"] + rest["data"]]
    every = expected(clean_db, catalog, Sort.downloads_desc, False)
    task = {r["id"]: r["pipeline_tag"] for r in catalog}
    assert ids == [i for i in every if task[i] == "fill-mask"]
    assert first["count"] == rest["count"] == len(ids)


@pytest.mark.parametrize(
    "change",
    [{"task": "text-generation"}, {"author": "lab"}, {"q": "org"}, {"include_removed": True}],
)
def test_a_cursor_used_with_other_filters_is_400(api, catalog, change):
    params = {"task": "fill-mask", "limit": 3}
    cursor = ok(api.get("/models", params=params))["next_cursor"]
    response = api.get("/models", params=params | change | {"cursor": cursor})
    assert response.status_code == 400
    assert "other filters" in response.json()["error"]["message"]


def test_a_cursor_from_another_sort_is_400(api, catalog):
    cursor = ok(api.get("/models", params={"sort": "-likes", "limit": 3}))["next_cursor"]
    response = api.get("/models", params={"sort": "likes", "cursor": cursor})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert "'-likes'" in error["message"] and "'likes'" in error["message"]


def _flip(token: str, at: int) -> str:
    swapped = "A" if token[at] != "A" else "B"
    return token[:at] + swapped + token[at + 1 :]


@pytest.mark.parametrize("damage", ["flip-start", "flip-middle", "flip-end", "cut", "garbage"])
def test_a_damaged_cursor_is_400(api, catalog, damage):
    cursor = ok(api.get("/models", params={"sort": "-last_modified", "limit": 3}))["next_cursor"]
    broken = {
        "flip-start": _flip(cursor, 0),
        "flip-middle": _flip(cursor, len(cursor) // 2),
        "flip-end": _flip(cursor, len(cursor) - 2),
        "cut": cursor[:-5],
        "garbage": "not a cursor!",
    }[damage]
    response = api.get("/models", params={"sort": "-last_modified", "cursor": broken})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith("invalid cursor: ")


def test_cursor_and_offset_together_are_400(api, catalog):
    cursor = ok(api.get("/models", params={"limit": 3}))["next_cursor"]
    response = api.get("/models", params={"cursor": cursor, "offset": 3})
    assert response.status_code == 400
    assert "not both" in response.json()["error"]["message"]


def test_offset_is_capped_with_a_pointer_to_cursor(api, catalog):
    assert ok(api.get("/models", params={"offset": MAX_OFFSET}))["data"] == []
    response = api.get("/models", params={"offset": MAX_OFFSET + 1})
    assert response.status_code == 400
    error = response.json()["error"]
    assert "cursor" in error["message"] and str(MAX_OFFSET) in error["message"]
    assert error["detail"] == {"offset": MAX_OFFSET + 1, "max_offset": MAX_OFFSET}


def test_count_is_exact_under_the_cap(api, catalog):
    body = ok(api.get("/models", params={"include_removed": True, "limit": 5}))
    assert (body["count"], body["count_is_estimate"]) == (len(catalog), False)


def test_count_beyond_the_cap_is_a_labelled_estimate(catalog, clean_db):
    with clean_db.begin() as conn:
        conn.execute(text("ANALYZE models"))
    with clean_db.connect() as conn:
        exact = repository.list_models(
            conn, ModelFilters(include_removed=True), count_cap=len(catalog)
        )
        capped = repository.list_models(conn, ModelFilters(include_removed=True), count_cap=10)
    assert (exact.count, exact.count_is_estimate) == (len(catalog), False)
    assert capped.count_is_estimate
    # At least the cap plus one (what was counted); ANALYZE makes the estimate the row count.
    assert capped.count == len(catalog)
    assert capped.rows == exact.rows
