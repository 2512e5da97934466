"""Hub-shaped records for the registry tests: the real models of the Hub export, plus one with
the fields the export lacks (sha, tags, card, per-dtype counts), as the Hub writes them."""

from assets.registry import hub_history
from resources.registry import SNAPSHOT_FILE
from resources.settings import Settings

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


def real_records() -> list[dict]:
    """The export's 276 models (latest row each) and RICH."""
    path = Settings(database_url=None, redis_url=None).data_dir / "hf_hub" / SNAPSHOT_FILE
    return [*hub_history.latest_records(hub_history.read_export(path)), RICH]
