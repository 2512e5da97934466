"""HubSource against a Hub-compatible server on 127.0.0.1 (tests/support/fake_hub.py), serving
the real models of the Hub export: listing, filters, details, retries, timeouts."""

import dataclasses
import threading

import dagster as dg
import pytest
from huggingface_hub.errors import HfHubHTTPError
from pydantic import PrivateAttr

from assets.registry.parsing import parse_models
from resources.registry import (
    EXPAND,
    HubSource,
    RegistryResource,
    SnapshotSource,
    build_registry,
    source_name,
)
from resources.registry_http import RegistryUnavailable, RetryPolicy
from resources.registry_listing import Details
from resources.settings import Settings
from tests.integration.registry.hub_records import RICH
from tests.support.fake_hub import FakeHub


class _RecordedSource(HubSource):
    """HubSource with production's retry policy, whose pauses are recorded, not slept: the
    tests check what the policy waited, not the clock."""

    _slept: list[float] = PrivateAttr(default_factory=list)

    def policy(self) -> RetryPolicy:
        return dataclasses.replace(super().policy(), sleep=self._slept.append)


def _hub(hub: FakeHub, **config) -> _RecordedSource:
    return _RecordedSource(**{"endpoint": hub.url, "timeout_s": 5, **config})


def _details(source: HubSource, ids: list[str], chunk: int = 100) -> Details:
    """Every answer of `detail_chunks`, the production path, merged."""
    merged = Details()
    for details in source.detail_chunks(ids, chunk):
        merged.records |= details.records
        merged.failed |= details.failed
    return merged


def test_lists_every_page_and_the_records_parse(records: list[dict]) -> None:
    with FakeHub(records, page_size=50) as hub:
        listing = _hub(hub).listing()
        listed = list(listing)
    assert [r["id"] for r in listed] == [r["id"] for r in records]  # 277 models
    assert listing.complete and listing.seen == {r["id"] for r in records}
    assert len(hub.requests) == 6  # ceil(277 / 50) pages, following the Link header
    assert hub.requests[0]["query"]["expand"] == EXPAND
    rows, rejected = parse_models(listed, "hf-hub")
    assert (len(rows), rejected) == (277, [])
    rich = {row["id"]: row for row in rows}["acme/embedder-v2"]
    assert rich["license"] == "apache-2.0"  # the card wins over the tag
    assert rich["base_models"] == ["acme/embedder-v1"]
    assert rich["extra"]["base_model_relations"] == {"acme/embedder-v1": "finetune"}
    assert rich["gated"] is True and rich["extra"]["gated_mode"] == "manual"
    assert rich["num_parameters"] == 109482240
    assert rich["sha"] == RICH["sha"] and rich["last_modified"].utcoffset().total_seconds() == 0
    with_counts = [r for r in records if "safetensors" in r]
    assert sum(row["num_parameters"] is not None for row in rows) == len(with_counts) == 53


def test_filters_reach_the_server_and_a_limit_makes_the_listing_partial(records) -> None:
    with FakeHub(records, page_size=5) as hub:
        listing = _hub(hub, pipeline_tags=["sentence-similarity"], limit=7).listing()
        listed = list(listing)
    assert len(listed) == 7 and {r["pipeline_tag"] for r in listed} == {"sentence-similarity"}
    assert hub.requests[0]["query"]["pipeline_tag"] == ["sentence-similarity"]
    assert len(hub.requests) == 2  # stops after the page holding the 7th record
    assert not listing.complete and "limit=7" in listing.partial_reason


def test_several_authors_and_min_downloads(records: list[dict]) -> None:
    authors = ["Snowflake", "jinaai"]
    expected = [r for r in records if r.get("author") in authors]
    with FakeHub(records, page_size=20) as hub:
        listing = _hub(hub, authors=authors, min_downloads=100_000).listing()
        listed = list(listing)
    assert {q["query"]["author"][0] for q in hub.requests} == set(authors)
    assert listing.seen == {r["id"] for r in expected}  # under the threshold: still listed
    assert {r["id"] for r in listed} == {
        r["id"] for r in expected if (r.get("downloads") or 0) >= 100_000
    }
    assert len(listed) == 8 and len(listing.below_threshold) == len(expected) - len(listed) == 6


def test_token_is_sent_and_no_other_credential_leaks(records, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "a-huggingface-co-token")
    with FakeHub(records[:3]) as hub:
        list(_hub(hub, token="registry-token").listing())
        list(_hub(hub).listing())
        _details(_hub(hub), [records[0]["id"]])
    sent = [request["headers"].get("authorization") for request in hub.requests]
    assert sent == ["Bearer registry-token", None, None]


def test_details_carry_the_parameter_counts_the_listing_omits(records: list[dict]) -> None:
    ids = [r["id"] for r in records if "safetensors" in r][:10] + ["nobody/unknown"]
    with FakeHub(records, listing_omits=["safetensors"]) as hub:
        listed = list(_hub(hub).listing())
        details = _details(_hub(hub, detail_workers=4), ids, chunk=3)
    assert not any("safetensors" in r for r in listed)
    assert set(details.records) == set(ids[:10])
    assert all(d["safetensors"]["total"] > 0 for d in details.records.values())
    assert list(details.failed) == ["nobody/unknown"] and "404" in details.failed["nobody/unknown"]


def test_rate_limit_honours_retry_after_and_server_errors_back_off(records) -> None:
    with FakeHub(records, page_size=100) as hub:
        hub.fail_next(429, retry_after="1")
        hub.fail_next(503)
        source = _hub(hub, backoff_base_s=0.5)
        listed = list(source.listing())
    assert len(listed) == len(records) and len({r["id"] for r in listed}) == len(records)
    assert len(hub.requests) == 3 + 2  # three pages; the first answered on its third try
    after_429, after_503 = source._slept
    assert 1.0 <= after_429 <= 1.0 + 0.5  # what Retry-After asked, plus at most one base of jitter
    assert 0.5 <= after_503 <= 1.0  # the second attempt's step (2 x 0.5 s), half of it jitter


def test_a_slow_response_times_out_and_is_retried(records: list[dict]) -> None:
    with FakeHub(records[:10]) as hub:
        hub.delay_next(30.0)
        source = _hub(hub, timeout_s=0.5)
        listed = list(source.listing())
    # Without the timeout the first request would have waited the 30 s out and succeeded.
    assert len(listed) == 10 and len(hub.requests) == 2 and len(source._slept) == 1


def test_a_persistent_server_error_fails_after_the_bounded_retries(records) -> None:
    with FakeHub(records, page_size=100) as hub:
        listing = iter(_hub(hub, max_retries=3).listing())
        first_page = [next(listing) for _ in range(100)]
        hub.fail_next(503, times=10)
        with pytest.raises(RegistryUnavailable, match="HTTP 503 after 4 attempts"):
            list(listing)
    # Ours only: huggingface_hub's own retry loop does not run on top of it.
    assert len(first_page) == 100 and len(hub.requests) == 1 + 4


def test_a_retry_after_beyond_the_cap_fails_at_once(records: list[dict]) -> None:
    with FakeHub(records[:10]) as hub:
        hub.fail_next(429, retry_after="3600")
        source = _hub(hub, max_retry_after_s=60)
        with pytest.raises(RegistryUnavailable, match="3600"):
            list(source.listing())
    assert source._slept == [] and len(hub.requests) == 1  # no wait at all


def test_a_malformed_page_fails_the_listing(records: list[dict]) -> None:
    with FakeHub(records, page_size=100) as hub:
        hub.malformed_next()
        listing = _hub(hub).listing()
        with pytest.raises(ValueError):
            list(listing)
    assert not listing.complete


def test_a_malformed_or_failing_detail_answer(records: list[dict]) -> None:
    ids = [r["id"] for r in records[:2]]
    with FakeHub(records) as hub:
        hub.malformed_next()
        details = _details(_hub(hub, detail_workers=1), ids)
        assert len(details.records) == 1 and "not JSON" in next(iter(details.failed.values()))
        hub.fail_next(429, retry_after="2")  # retried in the transport, then answered
        source = _hub(hub, detail_workers=1)
        assert set(_details(source, ids).records) == set(ids) and source._slept[0] >= 2
        hub.fail_next(500, times=10)
        source = _hub(hub, detail_workers=1, max_retries=2)
        with pytest.raises(RegistryUnavailable, match="HTTP 500 after 3 attempts"):
            _details(source, ids)
        assert len(source._slept) == 2
    with FakeHub([]) as hub:
        hub.fail_next(403)
        with pytest.raises(HfHubHTTPError):  # a 4xx on the listing is not retried
            list(_hub(hub).listing())


def test_an_asset_takes_any_source(records: list[dict], settings: Settings) -> None:
    @dg.asset
    def model_ids(registry: RegistryResource) -> list[str]:
        return [record["id"] for source in registry.sources() for record in source.listing()]

    with FakeHub(records) as hub:
        resource = RegistryResource(hub=[_hub(hub)])
        result = dg.materialize([model_ids], resources={"registry": resource})
    assert len(result.output_for_node("model_ids")) == len(records)
    snapshot = build_registry(settings.model_copy(update={"registry": "snapshot"}))
    result = dg.materialize([model_ids], resources={"registry": snapshot})
    assert len(result.output_for_node("model_ids")) == 276


def test_build_registry_follows_the_settings(settings: Settings, monkeypatch) -> None:
    (snapshot,) = build_registry(settings.model_copy(update={"registry": "snapshot"})).sources()
    assert isinstance(snapshot, SnapshotSource) and snapshot.name == "hf-hub-snapshot"
    live = build_registry(
        settings.model_copy(
            update={"registry": "hub", "hf_endpoint": "http://registry.internal:8080",
                    "hf_token": "t", "hf_timeout_s": 3.0}
        )
    ).hub[0]  # fmt: skip
    assert (live.name, live.endpoint, live.token, live.timeout_s) == (
        "hub:registry.internal:8080", "http://registry.internal:8080", "t", 3.0
    )  # fmt: skip
    assert live.pipeline_tags == ["text-generation"] and live.history() is None
    assert source_name("https://huggingface.co") == "hf-hub"
    assert source_name("https://user:secret@hub.example.com") == "hub:hub.example.com"


def test_several_sources_from_one_json_setting(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CATALOG_REGISTRY_SOURCES", (
        '[{"kind": "hub", "authors": ["BAAI"], "token": {"env": "INTERNAL_TOKEN"}},'
        ' {"kind": "hub", "endpoint": "http://hub.internal:9000", "min_downloads": 10},'
        f' {{"kind": "manifest", "name": "internal", "url": "{tmp_path}/m.yaml"}}]'
    ))  # fmt: skip
    monkeypatch.setenv("INTERNAL_TOKEN", "from-the-environment")
    registry = build_registry(Settings(database_url=None, redis_url=None))
    assert [s.name for s in registry.sources()] == ["hf-hub", "hub:hub.internal:9000", "internal"]

    @dg.asset
    def token(registry: RegistryResource) -> str | None:
        return registry.hub[0].token

    result = dg.materialize([token], resources={"registry": registry})
    assert result.output_for_node("token") == "from-the-environment"
    with pytest.raises(ValueError, match="unique"):
        RegistryResource(hub=[HubSource(), HubSource()])


def test_details_arrive_in_chunks_while_the_rest_are_fetched(records: list[dict]) -> None:
    ids = [r["id"] for r in records]
    with FakeHub(records) as hub:
        chunks = list(_hub(hub, detail_workers=4).detail_chunks(ids, 50))
    assert len(chunks) >= 5  # 277 answers handed over in pieces, not all at the end
    assert sorted(i for chunk in chunks for i in chunk.records) == sorted(ids)
    assert not any(chunk.failed for chunk in chunks)


def test_an_endpoint_that_fails_midway_stops_every_detail_worker(records: list[dict]) -> None:
    ids = [r["id"] for r in records]
    with FakeHub(records) as hub:
        hub.fail_model(ids[100], 503)
        chunks = _hub(hub, detail_workers=4, max_retries=1).detail_chunks(ids, 20)
        with pytest.raises(RegistryUnavailable, match="HTTP 503"):
            list(chunks)
        asked = hub.request_count
    # The workers stopped after their requests in flight; no thread is left behind.
    assert asked < len(ids) and not [t for t in threading.enumerate() if t.name.startswith("hub-")]
