"""GET /models/{id} lineage: base models (in the catalog or not), children (bounded, counted),
the same bytes from the serving cache and from PostgreSQL, and the GIN index serving children.

The fixture gives the seeded QWEN a base outside the catalog and a family: a quantization and a
fine-tune tied on downloads, an adapter without downloads, a merge of QWEN and LLAMA, a removed
quantization (not a child any more) and a record naming itself as its base.
"""

import time
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import any_, insert, literal, select, text, update
from sqlalchemy.engine import Engine

from assets.serving_cache.entries import cache_entries
from resources.cache import RedisResource
from resources.db.tables import MlModel
from serving.models import lineage, pages
from serving.models.lineage import CHILDREN_SHOWN
from tests.integration.serving.seed import LLAMA, QWEN

pytestmark = pytest.mark.integration

QWEN_BASE = "Qwen/Qwen3-14B-Base"  # named by QWEN, not in the catalog
AWQ = "Qwen/Qwen3-14B-AWQ"
FINETUNE = "someone/qwen3-ft"
ADAPTER = "someone/qwen3-lora"
MERGE = "merger/qwen-llama-merge"
GONE = "old/qwen3-gguf"
SELF = "loop/self"
REMOVED_AT = datetime(2025, 9, 1, tzinfo=UTC)


def _model(model_id: str, bases: list[str], tags: list[str], **values) -> dict:
    return {
        "id": model_id, "source": "hf", "author": model_id.split("/")[0], "gated": False,
        "private": False, "tags": tags, "base_models": bases, "extra": {}, "downloads": None,
        "removed_at": None,
    } | values  # fmt: skip


@pytest.fixture
def family(seeded: Engine) -> Engine:
    rows = [
        _model(AWQ, [QWEN], [f"base_model:quantized:{QWEN}", "awq"], downloads=800),
        _model(FINETUNE, [QWEN], [], downloads=800),  # the card names it, no tag says how
        _model(ADAPTER, [QWEN], [f"base_model:adapter:{QWEN}"]),
        _model(MERGE, [QWEN, LLAMA], [f"base_model:merge:{QWEN}", f"base_model:merge:{LLAMA}"],
               downloads=50),
        _model(GONE, [QWEN], [f"base_model:quantized:{QWEN}"], downloads=10**6,
               removed_at=REMOVED_AT),
        _model(SELF, [SELF], [f"base_model:finetune:{SELF}"], downloads=1),
    ]  # fmt: skip
    with seeded.begin() as conn:
        conn.execute(insert(MlModel), rows)
        conn.execute(
            update(MlModel)
            .where(MlModel.id == QWEN)
            .values(base_models=[QWEN_BASE], tags=[f"base_model:finetune:{QWEN_BASE}"])
        )
    return seeded


def page(client, model_id: str) -> dict:
    response = client.get("/models/" + quote(model_id, safe="/"))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_base_model_page_lists_its_children(family, make_client):
    lineage_ = page(make_client(), QWEN)["lineage"]
    assert lineage_["base_models"] == [
        {"id": QWEN_BASE, "relation": "finetune", "in_catalog": False}
    ]
    # Most downloaded first, ties by id, missing downloads last; the removed one is left out.
    assert lineage_["children"] == [
        {"id": AWQ, "relation": "quantized", "pipeline_tag": None, "downloads": 800},
        {"id": FINETUNE, "relation": None, "pipeline_tag": None, "downloads": 800},
        {"id": MERGE, "relation": "merge", "pipeline_tag": None, "downloads": 50},
        {"id": ADAPTER, "relation": "adapter", "pipeline_tag": None, "downloads": None},
    ]
    assert lineage_["children_count"] == 4


def test_a_child_page_links_its_bases(family, make_client):
    client = make_client()
    merge = page(client, MERGE)
    assert merge["base_models"] == [QWEN, LLAMA]  # the stored list, as in the listing
    assert merge["lineage"]["base_models"] == [
        {"id": QWEN, "relation": "merge", "in_catalog": True},
        {"id": LLAMA, "relation": "merge", "in_catalog": True},
    ]
    assert merge["lineage"]["children"] == []
    assert merge["lineage"]["children_count"] == 0
    assert [c["id"] for c in page(client, LLAMA)["lineage"]["children"]] == [MERGE]
    # A removed model keeps its page and its bases; it is nobody's child any more.
    gone = page(client, GONE)
    assert gone["removed_at"] == "2025-09-01T00:00:00Z"
    assert gone["lineage"]["base_models"][0] == {
        "id": QWEN, "relation": "quantized", "in_catalog": True,
    }  # fmt: skip
    # A record naming itself: its base is in the catalog, but it is not its own child.
    loop = page(client, SELF)["lineage"]
    assert loop["base_models"] == [{"id": SELF, "relation": "finetune", "in_catalog": True}]
    assert (loop["children"], loop["children_count"]) == ([], 0)


def test_the_page_shows_revision_source_and_dates(family, make_client):
    qwen = page(make_client(), QWEN)
    for name in ("sha", "source", "first_seen", "updated_at", "removed_at"):
        assert name in qwen
    assert qwen["source"] == "hf"
    assert qwen["removed_at"] is None


def test_children_are_bounded_and_counted(seeded: Engine, make_client):
    many = CHILDREN_SHOWN + 5
    rows = [
        _model(f"quant{i:02d}/llama-q4", [LLAMA], [f"base_model:quantized:{LLAMA}"],
               downloads=None if i % 4 == 0 else i * 10)
        for i in range(many)
    ]  # fmt: skip
    with seeded.begin() as conn:
        conn.execute(insert(MlModel), rows)
    family_ = page(make_client(), LLAMA)["lineage"]
    assert family_["children_count"] == many
    # Most downloaded first; the 18 with downloads, then the first 2 without, by id.
    order = sorted(rows, key=lambda r: (r["downloads"] is None, -(r["downloads"] or 0), r["id"]))
    shown = [(c["id"], c["downloads"]) for c in family_["children"]]
    assert shown == [(r["id"], r["downloads"]) for r in order[:CHILDREN_SHOWN]]
    assert shown[-2:] == [("quant00/llama-q4", None), ("quant04/llama-q4", None)]


def test_cached_and_fallback_pages_are_the_same_bytes(family: Engine):
    """The serving cache renders every page in one pass (`of_all_models`); the API's fallback
    one page at a time (`of_model`): each page must come out the same."""
    with family.connect() as conn:
        bulk = dict(pages.all_model_pages(conn))
        assert len(bulk) == 12  # the seed's 6 and the family's 6, removed ones included
        for model_id, body in bulk.items():
            assert pages.model_page(conn, model_id) == body, model_id


def test_the_api_serves_lineage_from_the_published_cache(family, make_client, redis_url):
    with family.connect() as conn:
        version, entries = cache_entries(conn)
    resource = RedisResource(url=redis_url)
    resource.publish_version(version, entries, at=time.time())
    resource.client.close()
    client = make_client()
    response = client.get(f"/models/{QWEN}")
    assert response.headers["x-data-version"] == version  # from Redis, not PostgreSQL
    assert response.json()["lineage"]["children_count"] == 4


def _plan(conn, statement) -> str:
    compiled = statement.compile(dialect=conn.dialect)
    rows = conn.exec_driver_sql("EXPLAIN " + compiled.string, compiled.params).scalars()
    return "\n".join(rows)


def test_children_are_found_through_the_gin_index(family: Engine):
    """With sequential scans priced out, the planner takes the index wherever the query allows
    it; `= ANY(base_models)` (the control) is a query it cannot serve."""
    with family.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        assert "ix_models_base_models" in _plan(conn, lineage.children_query(QWEN))
        control = select(MlModel.id).where(literal(QWEN) == any_(MlModel.base_models))
        assert "ix_models_base_models" not in _plan(conn, control)
