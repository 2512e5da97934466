"""HubRegistryResource against a Hub-compatible server on 127.0.0.1 (tests/support/fake_hub.py),
serving the real models of the Hub export."""

import time

import dagster as dg
import pytest
from huggingface_hub.errors import HfHubHTTPError

from assets.registry import hub_history
from assets.registry.parsing import parse_models
from resources.registry import (
    EXPAND,
    SNAPSHOT_FILE,
    HubRegistryResource,
    RegistryResource,
    SnapshotRegistryResource,
    build_registry,
    source_name,
)
from resources.settings import Settings
from tests.support.fake_hub import FakeHub

# Fields the export lacks (sha, tags, card, per-dtype counts), as the Hub writes them.
RICH = {
    "id": "acme/embedder-v2",
    "author": "acme",
    "sha": "0123456789abcdef0123456789abcdef01234567",
    "lastModified": "2026-04-01T12:00:00.000Z",
    "createdAt": "2025-01-02T03:04:05.000Z",
    "downloads": 1234,
    "likes": 56,
    "pipeline_tag": "feature-extraction",
    "library_name": "sentence-transformers",
    "tags": ["sentence-transformers", "license:mit", "base_model:finetune:acme/embedder-v1"],
    "gated": "manual",
    "private": False,
    "cardData": {"license": "apache-2.0", "base_model": "acme/embedder-v1"},
    "safetensors": {"parameters": {"F32": 109482240}, "total": 109482240},
    "trendingScore": 7,
}


@pytest.fixture(scope="module")
def records(settings: Settings) -> list[dict]:
    path = settings.data_dir / "hf_hub" / SNAPSHOT_FILE
    return [*hub_history.latest_records(hub_history.read_export(path)), RICH]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(database_url=None, redis_url=None)


def _registry(hub: FakeHub, **config) -> HubRegistryResource:
    return HubRegistryResource(endpoint=hub.url, timeout_s=5, **config)


def test_lists_every_page_and_the_records_parse(records: list[dict]) -> None:
    with FakeHub(records, page_size=50) as hub:
        listed = list(_registry(hub).list_models())
    assert [r["id"] for r in listed] == [r["id"] for r in records]  # 277 models
    assert len(hub.requests) == 6  # ceil(277 / 50) pages, following the Link header
    assert hub.requests[0]["query"]["expand"] == EXPAND
    rows, rejected = parse_models(listed, "hf-hub")
    assert (len(rows), rejected) == (277, [])
    by_id = {row["id"]: row for row in rows}
    rich = by_id["acme/embedder-v2"]
    assert rich["license"] == "apache-2.0"  # the card wins over the tag
    assert rich["base_models"] == ["acme/embedder-v1"]
    assert rich["gated"] is True and rich["extra"]["gated_mode"] == "manual"
    assert rich["num_parameters"] == 109482240
    assert rich["extra"]["parameters_by_dtype"] == {"F32": 109482240}
    assert rich["sha"] == RICH["sha"] and rich["last_modified"].utcoffset().total_seconds() == 0
    assert rich["extra"]["createdAt"].startswith("2025-01-02T03:04:05")
    with_counts = [r for r in records if "safetensors" in r]
    assert sum(row["num_parameters"] is not None for row in rows) == len(with_counts) == 53


def test_filters_and_limit_reach_the_server(records: list[dict]) -> None:
    with FakeHub(records, page_size=5) as hub:
        listed = list(_registry(hub, pipeline_tag="sentence-similarity", limit=7).list_models())
    assert len(listed) == 7 and {r["pipeline_tag"] for r in listed} == {"sentence-similarity"}
    assert hub.requests[0]["query"]["pipeline_tag"] == ["sentence-similarity"]
    assert len(hub.requests) == 2  # stops after the page holding the 7th record


def test_token_is_sent_and_no_other_credential_leaks(records, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "a-huggingface-co-token")
    with FakeHub(records[:3]) as hub:
        list(_registry(hub, token="registry-token").list_models())
        list(_registry(hub).list_models())
    sent = [request["headers"].get("authorization") for request in hub.requests]
    assert sent == ["Bearer registry-token", None]


def test_survives_one_rate_limit_and_one_server_error(records: list[dict]) -> None:
    with FakeHub(records, page_size=100) as hub:
        hub.fail_next(429, retry_after="0")
        hub.fail_next(503)
        listed = list(_registry(hub).list_models())
    assert len(listed) == len(records) and len({r["id"] for r in listed}) == len(records)
    assert len(hub.requests) == 3 + 2  # three pages; the first answered on its third try


def test_a_slow_response_times_out_and_is_retried(records: list[dict]) -> None:
    with FakeHub(records[:10]) as hub:
        hub.delay_next(5.0)
        started = time.monotonic()
        listed = list(HubRegistryResource(endpoint=hub.url, timeout_s=0.5).list_models())
        elapsed = time.monotonic() - started
    assert len(listed) == 10 and len(hub.requests) == 2
    assert elapsed < 4.0  # 0.5 s timeout + 1 s backoff, not the 5 s the server stalled


def test_a_persistent_server_error_fails_the_listing(records, monkeypatch) -> None:
    # huggingface_hub sleeps 1+2+4+8+8 s between its 5 retries: skip the waiting, keep the count.
    monkeypatch.setattr("huggingface_hub.utils._http.time.sleep", lambda seconds: None)
    with FakeHub(records, page_size=100) as hub:
        listing = _registry(hub).list_models()
        first_page = [next(listing) for _ in range(100)]
        hub.fail_next(503, times=6)
        with pytest.raises(HfHubHTTPError):
            list(listing)
    assert len(first_page) == 100 and len(hub.requests) == 1 + 6


def test_an_asset_takes_either_registry(records: list[dict], settings: Settings) -> None:
    @dg.asset
    def model_ids(registry: RegistryResource) -> list[str]:
        return [record["id"] for record in registry.list_models()]

    with FakeHub(records) as hub:
        result = dg.materialize([model_ids], resources={"registry": _registry(hub)})
    assert len(result.output_for_node("model_ids")) == len(records)
    snapshot = build_registry(settings.model_copy(update={"registry": "snapshot"}))
    result = dg.materialize([model_ids], resources={"registry": snapshot})
    assert len(result.output_for_node("model_ids")) == 276


def test_build_registry_follows_the_settings(settings: Settings) -> None:
    snapshot = build_registry(settings.model_copy(update={"registry": "snapshot"}))
    assert isinstance(snapshot, SnapshotRegistryResource) and snapshot.name == "hf-hub-snapshot"
    assert snapshot.path == str(settings.data_dir / "hf_hub" / SNAPSHOT_FILE)
    live = build_registry(
        settings.model_copy(
            update={"registry": "hub", "hf_endpoint": "http://registry.internal:8080",
                    "hf_token": "t", "hf_timeout_s": 3.0}
        )
    )  # fmt: skip
    assert isinstance(live, HubRegistryResource)
    assert (live.name, live.endpoint, live.token, live.timeout_s) == (
        "hub:registry.internal:8080", "http://registry.internal:8080", "t", 3.0
    )  # fmt: skip
    assert live.history() is None
    assert source_name("https://huggingface.co") == "hf-hub"
    assert source_name("https://user:secret@hub.example.com") == "hub:hub.example.com"
