"""GET /models filtered on where a model came from: source, gated, updated_since, removed.

The seeded catalog is all `hf`, open, with QWEN updated 2025-06-01 and LLAMA 2025-05-02 (the
others have no date) and one removed model. The fixture adds a private manifest's models (one
gated, one removed) and a gated Hub model.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from resources.db.tables import MlModel
from serving.models import repository
from serving.models.filters import ModelFilters
from tests.integration.serving.seed import LLAMA, MINILM, ODD, QWEN, REMOVED, UNICODE

pytestmark = pytest.mark.integration

INTERNAL = "acme/internal-7b"
GATED_70B = "acme/gated-70b"
RETIRED = "acme/retired-1b"
GEMMA = "google/gemma-gated"
HUB_OPEN = [MINILM, LLAMA, QWEN, UNICODE, ODD]  # the seed's listed models, most downloaded first


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["data"]]


def _model(model_id: str, source: str, **values) -> dict:
    return {
        "id": model_id, "source": source, "author": model_id.split("/")[0], "gated": False,
        "private": False, "tags": [], "base_models": [], "extra": {}, "downloads": None,
        "last_modified": None, "removed_at": None,
    } | values  # fmt: skip


@pytest.fixture
def client(seeded: Engine, make_client):
    rows = [
        _model(INTERNAL, "manifest", downloads=70, last_modified=datetime(2025, 7, 1, tzinfo=UTC)),
        _model(GATED_70B, "manifest", gated=True,
               last_modified=datetime(2025, 8, 1, 12, tzinfo=UTC)),
        _model(RETIRED, "manifest", downloads=10**9, removed_at=datetime(2025, 9, 1, tzinfo=UTC),
               last_modified=datetime(2025, 9, 1, tzinfo=UTC)),
        _model(GEMMA, "hf", gated=True, downloads=3000,
               last_modified=datetime(2025, 6, 15, tzinfo=UTC)),
    ]  # fmt: skip
    with seeded.begin() as conn:
        conn.execute(insert(MlModel), rows)
    return make_client()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"source": "manifest"}, [INTERNAL, GATED_70B]),  # no downloads: last, by id
        ({"source": "hf"}, [MINILM, LLAMA, GEMMA, QWEN, UNICODE, ODD]),
        (
            {"source": "manifest,hf"},
            [MINILM, LLAMA, GEMMA, QWEN, INTERNAL, UNICODE, ODD, GATED_70B],
        ),  # fmt: skip
        ({"source": " manifest , manifest"}, [INTERNAL, GATED_70B]),
        ({"source": "hub:registry.internal:8080"}, []),
        ({"gated": "true"}, [GEMMA, GATED_70B]),
        ({"gated": "false"}, [MINILM, LLAMA, QWEN, INTERNAL, UNICODE, ODD]),
        ({"gated": "true", "source": "manifest"}, [GATED_70B]),
        # Inclusive, and models without a date are left out.
        ({"updated_since": "2025-06-01"}, [GEMMA, QWEN, INTERNAL, GATED_70B]),
        ({"updated_since": "2025-06-01T00:00:01Z"}, [GEMMA, INTERNAL, GATED_70B]),
        ({"updated_since": "2025-08-01T14:00:00+02:00"}, [GATED_70B]),  # 12:00 UTC
        ({"updated_since": "2025-08-01T12:00:01"}, []),  # no offset: UTC
        ({"updated_since": "2025-05-01", "source": "hf", "gated": "false"}, [LLAMA, QWEN]),
        ({"license": "apache-2.0", "source": "manifest"}, []),
        ({"min_params": 1, "source": "hf", "updated_since": "2025-05-15"}, [QWEN]),
    ],
)
def test_registry_filters(client, params, expected):
    response = client.get("/models", params=params)
    assert ids(response) == expected
    assert response.json()["count"] == len(expected)


def test_removed_models_are_hidden_unless_asked_for(client):
    assert ids(client.get("/models", params={"source": "manifest"})) == [INTERNAL, GATED_70B]
    shown = {"source": "manifest", "include_removed": "true"}
    body = client.get("/models", params=shown).json()
    assert [m["id"] for m in body["data"]] == [RETIRED, INTERNAL, GATED_70B]
    assert body["data"][0]["removed_at"] == "2025-09-01T00:00:00Z"
    since = {"updated_since": "2025-08-15", "include_removed": "true"}
    assert ids(client.get("/models", params=since)) == [RETIRED]
    assert REMOVED not in ids(client.get("/models", params={"source": "hf", "limit": 500}))


@pytest.mark.parametrize("sort", ["-downloads", "likes", "-last_modified", "id"])
def test_cursor_pages_cover_the_filtered_listing_once(client, sort):
    params = {"source": "hf,manifest", "include_removed": "true", "sort": sort}
    whole = ids(client.get("/models", params=params | {"limit": 500}))
    assert len(whole) == 10
    seen, more = [], {}
    for _ in range(20):
        page = client.get("/models", params=params | {"limit": 3} | more).json()
        seen += [m["id"] for m in page["data"]]
        assert page["count"] == 10
        if page["next_cursor"] is None:
            break
        more = {"cursor": page["next_cursor"]}
    assert seen == whole


def test_a_cursor_belongs_to_its_registry_filters(client):
    params = {"source": "hf", "gated": "false", "updated_since": "2025-01-01", "limit": 1}
    first = client.get("/models", params=params).json()
    assert [m["id"] for m in first["data"]] == [LLAMA]
    cursor = first["next_cursor"]
    # The same sources in another spelling are the same listing.
    same = params | {"source": " hf,hf", "cursor": cursor}
    assert ids(client.get("/models", params=same)) == [QWEN]
    for other in ({"source": "manifest"}, {"gated": "true"}, {"updated_since": "2025-01-02"},
                  {"source": None, "gated": None, "updated_since": None}):  # fmt: skip
        changed = {k: v for k, v in (params | other).items() if v is not None}
        response = client.get("/models", params=changed | {"cursor": cursor})
        assert response.status_code == 400, response.text
        assert "other filters" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"gated": "maybe"}, "gated"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "1717200000"}, "updated_since"),  # not Unix time
        ({"updated_since": "2025-13-01"}, "updated_since"),
        ({"updated_since": "0001-01-01T00:00:00+14:00"}, "updated_since"),  # before year 1 in UTC
        ({"source": "x" * 1001}, "source"),
        ({"source": "a\x00b"}, "source"),
    ],
)
def test_invalid_registry_filters_are_422_naming_the_parameter(client, params, parameter):
    response = client.get("/models", params=params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(f"query parameter '{parameter}': ")


@pytest.mark.parametrize("source", ["", ",", "hf,,manifest", ",".join(f"s{i}" for i in range(21))])
def test_empty_or_too_many_source_names_are_400(client, source):
    response = client.get("/models", params={"source": source})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith("source: ")


def test_the_count_estimate_takes_a_list_of_sources(client, seeded: Engine):
    """Past the cap, `count` is the planner's estimate of the same filters (an IN list here)."""
    filters = ModelFilters(sources=("hf", "manifest"), gated=False, limit=2)
    with seeded.connect() as conn:
        listing = repository.list_models(conn, filters, count_cap=3)
    assert [r.id for r in listing.rows] == [MINILM, LLAMA]
    assert listing.count_is_estimate
    assert listing.count >= 4  # never below the cap it passed
