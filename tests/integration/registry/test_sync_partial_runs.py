"""What partial and failed syncs leave for the next runs: details deferred past a watermark, and
popularity counts a failed run rewrote. A Hub-compatible server on 127.0.0.1 serving the real
models, the real huggingface_hub client, the real PostgreSQL (tests/conftest.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from assets.registry.changes import PENDING
from assets.registry.history_import import observed_counts
from assets.registry.sync import sync_source
from resources.registry import HubSource
from resources.registry_http import RegistryUnavailable
from tests.integration.registry.catalog_rows import stored_models, sync_state
from tests.support.fake_hub import FakeHub

pytestmark = pytest.mark.integration
DAY1 = datetime(2026, 5, 1, 3, tzinfo=UTC)


def _hub(hub: FakeHub, **config) -> HubSource:
    return HubSource(**{"endpoint": hub.url, "name": "hub", "backoff_base_s": 0.01, **config})


def test_details_deferred_past_the_watermark_are_fetched_by_later_runs(clean_db, records):
    # The listing leaves parameter counts out: every model needs its details, 100 per run.
    with FakeHub(records, listing_omits=["safetensors"]) as hub:
        source = _hub(hub, stop_at_watermark=True, max_detail_fetches=100)
        runs = [sync_source(clean_db, source, ["hub"], now=DAY1 + timedelta(hours=h))
                for h in range(4)]  # fmt: skip
        asked = [r["path"] for r in hub.requests if r["path"] != "/api/models"]
    assert [(r.details_fetched, r.details_deferred) for r in runs] == [
        (100, 177), (100, 77), (77, 0), (0, 0)
    ]  # fmt: skip
    # After the first run the watermark moved past every deferred model: the later listings
    # stopped at it, carrying (almost) none of them, yet their details were fetched.
    assert all(not r.complete and r.listed < 5 for r in runs[1:])
    assert sync_state(clean_db)["watermark"] == datetime(2026, 4, 30, 13, 38, 21, tzinfo=UTC)
    assert len(asked) == len(set(asked)) == len(records)  # each model's details asked once
    rows = stored_models(clean_db)
    assert not [i for i, row in rows.items() if PENDING in row["extra"]]
    assert rows["acme/embedder-v2"]["num_parameters"] == 109482240
    assert rows["acme/embedder-v2"]["extra"]["parameters_by_dtype"] == {"F32": 109482240}
    # Completed from details alone, a model kept what only its listing carried.
    assert {i: r["downloads"] for i, r in rows.items()} == {
        r["id"]: r.get("downloads") for r in records
    }
    assert rows["acme/embedder-v2"]["pipeline_tag"] == "feature-extraction"
    assert rows["acme/embedder-v2"]["updated_at"] > DAY1  # its details came after the first run


def test_counts_are_not_snapshotted_after_a_failed_sync(clean_db, records, monkeypatch):
    monkeypatch.setattr("assets.registry.sync.CHUNK", 10)
    with FakeHub(records) as hub:
        sync_source(clean_db, _hub(hub), ["hub"], now=DAY1)
        with clean_db.connect() as conn:
            before, why_not = observed_counts(conn, "hub")
        assert why_not is None and len(before) == len(records)

        # The next day every count moves and one revised model's details fail: the failed run
        # commits the moved counts before it fails, the last success stays the first day's.
        moved = [{**r, "downloads": (r.get("downloads") or 0) + 7} for r in records]
        moved[0] |= {"sha": "c" * 40, "lastModified": "2026-05-02T01:00:00.000Z"}
        hub.replace(moved)
        hub.fail_model(moved[0]["id"], 503)
        day2 = DAY1 + timedelta(days=1)
        with pytest.raises(RegistryUnavailable):
            sync_source(clean_db, _hub(hub, max_retries=1), ["hub"], now=day2)
        assert sync_state(clean_db)["last_success_at"] == DAY1
        downloads = {i: r["downloads"] for i, r in stored_models(clean_db).items()}
        assert downloads[moved[1]["id"]] == (records[1].get("downloads") or 0) + 7
        with clean_db.connect() as conn:
            rows, why_not = observed_counts(conn, "hub")
        assert rows == [] and why_not == (
            "a later sync failed (2026-05-02 03:00 UTC) after the last successful one: "
            "the counts may mix both listings"
        )

        hub.recover_model(moved[0]["id"])
        sync_source(clean_db, _hub(hub), ["hub"], now=day2 + timedelta(hours=1))
    with clean_db.connect() as conn:
        after, why_not = observed_counts(conn, "hub")
    assert why_not is None and {r["snapshot_date"] for r in after} == {day2.date()}
    assert {r["model_id"]: r["downloads"] for r in after} == {
        r["id"]: (r.get("downloads") or 0) + 7 for r in records
    }
