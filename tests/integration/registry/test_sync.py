"""The registry sync end to end: a Hub-compatible server on 127.0.0.1 serving the real models,
the real huggingface_hub client, the real PostgreSQL (tests/conftest.py)."""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from sqlalchemy import text

from assets.common.partitions import models_partitions
from assets.registry import assets as registry_assets
from assets.registry import checks as registry_checks
from assets.registry.history_import import import_history, observed_counts
from assets.registry.sync import sync_source
from resources.database import DatabaseResource
from resources.registry import SNAPSHOT_FILE, HubSource, ManifestSource, RegistryResource
from resources.registry_http import RegistryUnavailable
from tests.integration.registry.catalog_rows import stored_models, sync_state
from tests.support.fake_hub import FakeHub

pytestmark = pytest.mark.integration
DAY1 = datetime(2026, 5, 1, 3, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def _hub(hub: FakeHub, **config) -> HubSource:
    return HubSource(**{"endpoint": hub.url, "name": "hub", "backoff_base_s": 0.01, **config})


def _details_requests(hub: FakeHub) -> int:
    return sum(1 for r in hub.requests if r["path"] != "/api/models")


def test_first_sync_then_nothing_changes_then_one_change(clean_db, records) -> None:
    with FakeHub(records, page_size=100, listing_omits=["safetensors"]) as hub:
        first = sync_source(clean_db, _hub(hub), ["hub"], now=DAY1)
        assert (len(first.new), first.changed, first.removed, first.quarantined) == (277, 0, 0, 0)
        assert first.details_fetched == 277 and first.complete
        after_first = stored_models(clean_db)
        # Parameter counts come from the per-model answers, not the listing.
        assert after_first["acme/embedder-v2"]["num_parameters"] == 109482240
        assert sum(r["num_parameters"] is not None for r in after_first.values()) == 53

        hub.requests.clear()
        second = sync_source(clean_db, _hub(hub), ["hub"], now=DAY1 + timedelta(hours=2))
        assert (len(second.new), second.changed, second.updated, second.removed) == (0, 0, 0, 0)
        assert _details_requests(hub) == 0  # nothing new or changed: no per-model call
        assert stored_models(clean_db) == after_first  # no row rewritten, no updated_at moved

        changed = [dict(r) for r in records]
        changed[0] |= {"sha": "f" * 40, "lastModified": "2026-05-01T12:00:00.000Z"}
        changed[1] |= {"downloads": (changed[1].get("downloads") or 0) + 5}
        hub.replace(changed)
        hub.requests.clear()
        third = sync_source(clean_db, _hub(hub), ["hub"], now=DAY2)
    assert (len(third.new), third.changed, third.updated) == (0, 1, 1)
    assert _details_requests(hub) == 1  # only the changed model
    rows = stored_models(clean_db)
    assert rows[changed[0]["id"]]["sha"] == "f" * 40
    assert rows[changed[0]["id"]]["updated_at"] == DAY2
    assert rows[records[2]["id"]]["updated_at"] == DAY1  # untouched
    # The listing omits counts; an unchanged model keeps the one its details gave.
    assert rows["acme/embedder-v2"]["num_parameters"] == 109482240


def test_removed_only_after_a_complete_listing(clean_db, records) -> None:
    with FakeHub(records, page_size=100) as hub:
        sync_source(clean_db, _hub(hub), ["hub"], now=DAY1)
        hub.replace(records[:-10])
        partial = sync_source(clean_db, _hub(hub, limit=150), ["hub"], now=DAY2)
        assert partial.removed == 0 and not partial.complete
        assert not any(r["removed_at"] for r in stored_models(clean_db).values())
        # A listing cut by a persistent failure writes nothing and marks nothing.
        hub.fail_next(503, times=2)
        with pytest.raises(RegistryUnavailable):
            sync_source(clean_db, _hub(hub, max_retries=1), ["hub"], now=DAY2)
        full = sync_source(clean_db, _hub(hub), ["hub"], now=DAY2)
        assert full.removed == 10
        rows = stored_models(clean_db)
        assert sum(r["removed_at"] == DAY2 for r in rows.values()) == 10
        assert len(rows) == 277  # history kept: removed, never deleted
        hub.replace(records)  # one comes back
        back = sync_source(clean_db, _hub(hub), ["hub"], now=DAY2 + timedelta(hours=1))
    assert len(back.new) == 10
    assert not any(r["removed_at"] for r in stored_models(clean_db).values())
    state = sync_state(clean_db)
    assert state["last_error"] is None and len(state["recent"]) == 4


def test_malformed_records_are_quarantined_and_the_rest_ingested(clean_db, records) -> None:
    bad = [
        {"author": "nobody", "downloads": 3},  # no id
        {"id": "x/wrong-types", "downloads": "many", "lastModified": "2026-01-01T00:00:00Z"},
        {"id": "x/absurd", "safetensors": {"total": 10**15}},
        {"id": "x/bad-date", "lastModified": "yesterday"},
    ]
    with FakeHub([*records, *bad], page_size=100) as hub:
        report = sync_source(clean_db, _hub(hub), ["hub"], now=DAY1)
        again = sync_source(clean_db, _hub(hub), ["hub"], now=DAY2)
    assert (len(report.new), report.quarantined, again.quarantined) == (277, 4, 4)
    with clean_db.connect() as conn:
        rows = conn.execute(text("SELECT * FROM registry_quarantine ORDER BY record_key"))
        quarantined = [dict(r) for r in rows.mappings()]
    assert [q["model_id"] for q in quarantined] == [None, "x/absurd", "x/bad-date", "x/wrong-types"]
    assert all(q["times_seen"] == 2 and q["first_seen"] == DAY1 for q in quarantined)
    assert quarantined[0]["payload"]["author"] == "nobody"
    assert "absurd parameter count" in quarantined[1]["reason"]


def test_a_manifest_and_a_hub_merge_into_one_catalog(clean_db, records, tmp_path) -> None:
    manifest = tmp_path / "internal.yaml"
    manifest.write_text(
        "models:\n"
        "  - {id: corp/llm-7b-q4, author: corp, sha: abc1, lastModified: 2026-04-01T00:00:00Z,\n"
        "     pipeline_tag: text-generation, safetensors: {total: 7000000000},\n"
        "     tags: ['base_model:quantized:corp/llm-7b'], cardData: {license: other}}\n"
        "  - {id: corp/llm-7b, author: corp, sha: abc0}\n"
        "  - {id: corp/typo, pipline_tag: text-generation}\n"
        # The Hub owns this id; the manifest comes later in the configuration.
        f"  - {{id: {records[0]['id']}}}\n"
    )  # fmt: skip
    internal = ManifestSource(name="internal", url=str(manifest))
    with FakeHub(records) as hub:
        names = ["hub", "internal"]
        sync_source(clean_db, _hub(hub), names, now=DAY1)
        report = sync_source(clean_db, internal, names, now=DAY1)
    assert (len(report.new), report.quarantined, report.shadowed) == (2, 1, 1)
    rows = stored_models(clean_db)
    child = rows["corp/llm-7b-q4"]
    assert (child["source"], child["num_parameters"], child["base_models"]) == (
        "internal", 7_000_000_000, ["corp/llm-7b"]
    )  # fmt: skip
    assert child["extra"]["base_model_relations"] == {"corp/llm-7b": "quantized"}
    assert rows[records[0]["id"]]["source"] == "hub"


def test_the_asset_adds_partitions_and_reports(clean_db, database_url, records, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    instance = dg.DagsterInstance.ephemeral()
    defs = dict(assets=dg.load_assets_from_modules([registry_assets]),
                asset_checks=dg.load_asset_checks_from_modules([registry_checks]))  # fmt: skip
    with FakeHub(records) as hub:
        registry = RegistryResource(hub=[_hub(hub)])
        resources = {"database": DatabaseResource(url=database_url), "registry": registry}
        result = dg.materialize(**_defs(defs), resources=resources, instance=instance,
                                selection=["registry_models"])  # fmt: skip
        assert result.success
        metadata = result.asset_materializations_for_node("registry_models")[0].metadata
        assert metadata["new"].value == 277 and metadata["quarantined"].value == 0
        top = max(records, key=lambda r: r.get("downloads") or 0)["id"]
        assert metadata["top_new_models"].value.splitlines()[2].startswith(f"| {top} |")
        assert len(instance.get_dynamic_partitions(models_partitions.name)) == 277
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert checks == dict.fromkeys(checks, True) and len(checks) == 5
        # A second source that cannot be read: the hub still syncs, the run fails loudly.
        registry = RegistryResource(
            hub=[_hub(hub)], manifests=[ManifestSource(name="m", url=str(broken))]
        )
        resources["registry"] = registry
        failed = dg.materialize(**_defs(defs), resources=resources, instance=instance,
                                selection=["registry_models"], raise_on_error=False)  # fmt: skip
    assert not failed.success
    with clean_db.connect() as conn:
        errors = dict(
            conn.execute(text("SELECT source, last_error FROM registry_sync_state")).all()
        )
    assert errors["hub"] is None and "not valid JSON" in errors["m"]


def _defs(defs: dict) -> dict:
    return {"assets": [*defs["assets"], *defs["asset_checks"]]}


def test_import_history_is_idempotent(clean_db, settings) -> None:
    path = settings.data_dir / "hf_hub" / SNAPSHOT_FILE
    first = import_history(clean_db, path, "hf-hub-export")
    again = import_history(clean_db, path, "hf-hub-export")
    assert (first["rows"], first["rows_written"], again["rows_written"]) == (111_873, 111_873, 0)
    assert (first["first_day"], first["last_day"]) == ("2024-05-08", "2026-05-07")
    assert first["orphan_models"] == 276  # no registry sync ran: the catalog is empty
    json.dumps(first)


def test_a_source_failing_midway_keeps_its_chunks_and_marks_nothing(clean_db, records, monkeypatch):
    # Small chunks: several are committed before the failure.
    monkeypatch.setattr("assets.registry.sync.CHUNK", 10)
    with FakeHub(records, listing_omits=["safetensors"]) as hub:
        sync_source(clean_db, _hub(hub), ["hub"], now=DAY1)
        watermark = sync_state(clean_db)["watermark"]
        # The next day: ten models are gone, every other one has a new revision, and the
        # endpoint fails on one model's details midway through.
        revision = {"sha": "e" * 40, "lastModified": "2026-05-01T12:00:00.000Z"}
        revised = [{**r, **revision} for r in records[:-10]]
        hub.replace(revised)
        hub.fail_model(revised[200]["id"], 503)
        hub.requests.clear()
        source = _hub(hub, detail_workers=2, max_retries=1)
        with pytest.raises(RegistryUnavailable):
            sync_source(clean_db, source, ["hub"], now=DAY2)
        kept = {i for i, r in stored_models(clean_db).items() if r["sha"] == "e" * 40}
        assert 20 <= len(kept) < len(revised)  # the chunks before the failure stay written
        assert not any(r["removed_at"] for r in stored_models(clean_db).values())
        state = sync_state(clean_db)
        assert "HTTP 503" in state["last_error"] and "rows written" in state["last_error"]
        # Still the last successful run's: the watermark did not move past unread models.
        assert (state["last_success_at"], state["watermark"]) == (DAY1, watermark)

        hub.recover_model(revised[200]["id"])
        hub.requests.clear()
        again = sync_source(clean_db, source, ["hub"], now=DAY2 + timedelta(hours=1))
    # The re-run skips what the failed run wrote, and only a complete run marks removals.
    assert again.changed == _details_requests(hub) == len(revised) - len(kept)
    assert again.removed == 10 and again.complete
    rows = stored_models(clean_db)
    assert all(rows[r["id"]]["sha"] == "e" * 40 for r in revised)
    state = sync_state(clean_db)
    assert state["last_error"] is None and state["last_success_at"] == DAY2 + timedelta(hours=1)
    assert state["watermark"] == datetime(2026, 5, 1, 12, tzinfo=UTC)


def test_no_transaction_is_held_open_while_details_are_fetched(clean_db, records, monkeypatch):
    monkeypatch.setattr("assets.registry.sync.CHUNK", 25)
    held_open: list[int] = []

    class Watched(HubSource):
        def detail_chunks(self, ids: list[str], size: int):
            for chunk in super().detail_chunks(ids, size):
                held_open.append(_idle_in_transaction(clean_db))  # while the next is fetched
                yield chunk

    with FakeHub(records, listing_omits=["safetensors"]) as hub:
        source = Watched(endpoint=hub.url, name="hub", backoff_base_s=0.01)
        report = sync_source(clean_db, source, ["hub"], now=DAY1)
    assert report.details_fetched == 277 and len(held_open) >= 5
    assert held_open == [0] * len(held_open)


def _idle_in_transaction(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
        )).scalar_one()  # fmt: skip


def test_text_with_a_nul_character_is_quarantined(clean_db, records) -> None:
    nul = [
        {"id": "x/nul-author", "author": "no\x00body"},
        {"id": "x/nul-tag", "tags": ["fine", "bad\x00tag"]},
        {"id": "x/nul-card", "cardData": {"license": "mit\x00", "base_model": "a/b"}},
        {"id": "x/nul-extra", "createdAt": "2025-01-01\x00"},
        {"id": "x/nul-nested", "safetensors": {"parameters": {"F\x0016": 5}, "total": 5}},
        {"id": "x/nul-id\x00", "downloads": 1},
    ]
    with FakeHub([*records, *nul], page_size=100) as hub:
        report = sync_source(clean_db, _hub(hub), ["hub"], now=DAY1)
    assert (len(report.new), report.quarantined) == (277, 6)
    with clean_db.connect() as conn:
        rows = conn.execute(text("SELECT model_id, reason, payload FROM registry_quarantine"))
        quarantined = {r.model_id: r for r in rows}
    assert set(quarantined) == {"x/nul-author", "x/nul-tag", "x/nul-card", "x/nul-extra",
                                "x/nul-nested", None}  # fmt: skip
    assert all("NUL" in q.reason for q in quarantined.values())
    # The payload keeps the record, the character shown as U+FFFD (JSONB cannot hold NUL).
    assert quarantined["x/nul-author"].payload["author"] == "no\ufffdbody"


def test_popularity_is_snapshotted_only_from_a_complete_listing(clean_db, records) -> None:
    quiet = min(records, key=lambda r: r.get("downloads") or 0)
    with FakeHub(records, page_size=100) as hub:
        sync_source(clean_db, _hub(hub, min_downloads=1000), ["hub"], now=DAY1)
        with clean_db.connect() as conn:
            first, why_not = observed_counts(conn, "hub")
        # Dated when the counts were listed; the threshold decides which models join.
        assert why_not is None and {r["snapshot_date"] for r in first} == {DAY1.date()}
        assert quiet["id"] not in {r["model_id"] for r in first}
        held = {r["model_id"]: r["downloads"] for r in first}

        # The next day: every count moves, but a watermark listing re-lists recent models only.
        moved = [{**r, "downloads": (r.get("downloads") or 0) + 7} for r in records]
        moved[0] |= {"sha": "d" * 40, "lastModified": "2026-05-02T01:00:00.000Z"}
        hub.replace(moved)
        watermarked = _hub(hub, min_downloads=1000, stop_at_watermark=True)
        partial = sync_source(clean_db, watermarked, ["hub"], now=DAY2)
        assert not partial.complete and partial.listed < len(held)
        with clean_db.connect() as conn:
            rows, why_not = observed_counts(conn, "hub")
        assert rows == [] and why_not == (
            "its last sync (2026-05-02 03:00 UTC) listed only part of the source"
        )

        # A held model falling under min_downloads keeps current counts, not the old ones.
        low = next(i for i, d in held.items() if d < 100_000)
        sync_source(clean_db, _hub(hub, min_downloads=100_000), ["hub"], now=DAY2)
    with clean_db.connect() as conn:
        second, why_not = observed_counts(conn, "hub")
    counts = {r["model_id"]: r["downloads"] for r in second}
    assert why_not is None and counts.keys() == held.keys()
    assert counts == {i: d + 7 for i, d in held.items()} and counts[low] == held[low] + 7
