"""The registry filters and the lineage through the SDK and the CLI, against the live app
(a real uvicorn server on the seeded PostgreSQL and real Redis)."""

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert

from modelcat.sdk import AsyncCatalogClient, CatalogClient
from resources.db.tables import MlModel
from resources.settings import get_settings
from serving.app import create_app
from tests.integration.serving.conftest import TEST_JWT_SECRET
from tests.integration.serving.live import serving
from tests.integration.serving.seed import LLAMA, MINILM, ODD, QWEN, UNICODE
from tests.support.cli import run

pytestmark = pytest.mark.integration

AWQ = "acme/qwen3-14b-awq"  # a private manifest's quantization of QWEN, gated
INTERNAL = "acme/internal-7b"
JULY = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)


def _model(model_id: str, **values) -> dict:
    return {
        "id": model_id, "source": "manifest", "author": "acme", "gated": False,
        "private": True, "tags": [], "base_models": [], "extra": {}, "downloads": None,
        "last_modified": None, "num_parameters": None,
    } | values  # fmt: skip


@pytest.fixture
def url(
    seeded, database_url, redis_url, api_settings, monkeypatch, tmp_path: Path
) -> Iterator[str]:
    with seeded.begin() as conn:
        conn.execute(
            insert(MlModel),
            [
                _model(AWQ, gated=True, base_models=[QWEN], downloads=40, last_modified=JULY,
                       tags=[f"base_model:quantized:{QWEN}"], num_parameters=14_000_000_000),
                _model(INTERNAL, num_parameters=7_000_000_000),
            ],
        )  # fmt: skip
    # The CLI's settings: a private home, no API key from the machine, wide tables.
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("CATALOG_JWT_SECRET", TEST_JWT_SECRET)
    monkeypatch.setenv("CATALOG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CATALOG_API_KEY", raising=False)
    get_settings.cache_clear()
    with serving(create_app(database_url, redis_url, api_settings())) as base_url:
        yield base_url
    get_settings.cache_clear()


def test_the_sdk_filters_on_source_gated_and_updated_since(url):
    with CatalogClient(url) as api:
        both = api.list_models(source=["manifest", "hf"], gated=True)
        assert [m.id for m in both.data] == [AWQ]
        since = api.list_models(source="manifest", updated_since=dt.date(2025, 7, 1))
        assert [m.id for m in since.data] == [AWQ]
        assert api.list_models(updated_since=JULY + dt.timedelta(seconds=1)).data == []
        open_hub = [m.id for m in api.iter_models(source="hf", gated=False, limit=2)]
        assert open_hub == [MINILM, LLAMA, QWEN, UNICODE, ODD]


def test_the_sdk_reads_the_lineage(url):
    with CatalogClient(url) as api:
        qwen = api.get_model(QWEN).lineage
        assert [(c.id, c.relation, c.downloads) for c in qwen.children] == [(AWQ, "quantized", 40)]
        assert qwen.children_count == 1
        awq = api.get_model(AWQ)
        assert (awq.source, awq.gated) == ("manifest", True)
        assert [(b.id, b.relation, b.in_catalog) for b in awq.lineage.base_models] == [
            (QWEN, "quantized", True)
        ]

    async def read() -> tuple[list[str], int]:
        async with AsyncCatalogClient(url) as api:
            page = await api.list_models(source="manifest,hf", gated=True)
            model = await api.get_model(QWEN)
            return [m.id for m in page.data], model.lineage.children_count

    assert asyncio.run(read()) == ([AWQ], 1)


def test_the_cli_searches_with_the_new_filters(url):
    def search(*args: str) -> list[str]:
        out = run("models", "search", *args, "--json", "--api-url", url).stdout
        return [m["id"] for m in json.loads(out)["data"]]

    assert search("--source", "manifest", "--gated") == [AWQ]
    assert search("--source", "manifest", "--source", "hf", "--open", "-q", "internal") == [
        INTERNAL
    ]
    assert search("--updated-since", "2025-06-01") == [QWEN, AWQ]  # most downloaded first
    # Human parameter counts: 7B is 7,000,000,000, inclusive.
    assert search("--min-params", "7B", "--max-params", "14.8b") == [LLAMA, QWEN, AWQ, INTERNAL]
    assert search("--max-params", "25M") == [MINILM]
    table = run("models", "search", "--source", "manifest", "--api-url", url).stdout
    assert f"{AWQ} (gated)" in table and "manifest" in table


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--min-params", "seven"], "--min-params: 'seven' is not a parameter count"),
        (["--max-params", "-1B"], "--max-params: '-1B' is not a parameter count"),
        (["--updated-since", "yesterday"], "--updated-since: 'yesterday' is not an ISO 8601"),
    ],
)
def test_the_cli_refuses_bad_filters_in_one_line(url, args, says):
    result = run("models", "search", *args, "--api-url", url, code=2)
    assert says in result.stderr


def test_the_cli_shows_the_lineage(url):
    base = run("models", "show", QWEN, "--api-url", url).stdout
    assert "1 of 1 children" in base and AWQ in base and "quantized" in base
    child = run("models", "show", AWQ, "--api-url", url).stdout
    assert f"base model: {QWEN} (quantized)" in child
    assert "not in the catalog" not in child
    assert "manifest" in child  # the source, among the facts
