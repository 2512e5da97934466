"""Model registries: one Dagster resource holding every configured source.

Three kinds of source, each yielding records in the Hub's `/api/models` JSON field names, so
the assets never know which one they were given:
- `HubSource` (resources/registry_hub.py): the Hugging Face Hub or a private Hub-compatible
  endpoint, with filters, per-model details, retries and timeouts;
- `ManifestSource` (resources/registry_manifest.py): a YAML/JSON manifest, local or on S3;
- `SnapshotSource` (here): the real Hub export shipped with the project, for the offline demo
  and tests, and the one source that also knows the daily popularity history.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import dagster as dg
import pandas as pd
from pydantic import Field, PrivateAttr, model_validator

from assets.registry import hub_history
from resources.registry_hub import EXPAND, HUB_ENDPOINT, HubSource
from resources.registry_listing import Details, Listing
from resources.registry_manifest import ManifestSource
from resources.settings import Settings

__all__ = ["EXPAND", "HUB_ENDPOINT", "HubSource", "ManifestSource", "RegistryResource",
           "RegistrySource", "SnapshotSource", "build_registry", "source_name"]  # fmt: skip

SNAPSHOT_FILE = "hf_transformersjs_feature_extraction_daily_2024-05_2026-05.csv.gz"


class RegistrySource(Protocol):
    """What the sync needs of a source. `name` is recorded as the `source` of every row."""

    name: str

    @property
    def wants_details(self) -> bool: ...

    @property
    def allowed_fields(self) -> frozenset[str] | None: ...

    def listing(self, watermark: datetime | None = None) -> Listing: ...

    def detail_chunks(self, ids: list[str], size: int) -> Iterator[Details]:
        """Per-model records for `ids`, about `size` at a time as they arrive (a source that
        wants no details yields nothing)."""

    def history(self) -> pd.DataFrame | None:
        """Daily popularity (model_id, snapshot_date, downloads, likes, trending_rank), or None
        where the source only knows the present."""


class SnapshotSource(dg.Config):
    """The real Hub export (one row per model per day): models from their latest row, and the
    full daily history. The file is read once per instance."""

    name: str = "hf-hub-snapshot"
    path: str
    _export: pd.DataFrame | None = PrivateAttr(default=None)

    @property
    def wants_details(self) -> bool:
        return False

    @property
    def allowed_fields(self) -> None:
        return None

    def _read(self) -> pd.DataFrame:
        if self._export is None:
            self._export = hub_history.read_export(self.path)
        return self._export

    def listing(self, watermark: datetime | None = None) -> Listing:
        return Listing(hub_history.latest_records(self._read()))

    def detail_chunks(self, ids: list[str], size: int) -> Iterator[Details]:
        return iter(())

    def history(self) -> pd.DataFrame:
        return hub_history.daily_history(self._read())


class RegistryResource(dg.ConfigurableResource):
    """Every registry source the catalog merges, and the thresholds of the registry checks.

    A quarantine spike (an ERROR check): a source's last run quarantined more than
    `quarantine_max_share` of what it listed, or more than `quarantine_spike_factor` times the
    median of its previous runs; runs with fewer than `quarantine_spike_min` quarantined records
    never count as a spike (one bad record in a small manifest is a warning, not an outage).
    """

    hub: list[HubSource] = []
    manifests: list[ManifestSource] = []
    snapshots: list[SnapshotSource] = []
    quarantine_max_share: float = Field(default=0.05, ge=0, le=1)
    quarantine_spike_factor: float = Field(default=5.0, ge=1)
    quarantine_spike_min: int = Field(default=10, ge=1)
    # Freshness: a source whose last successful sync is older fails the check.
    max_sync_age_hours: float = Field(default=36.0, gt=0)

    @model_validator(mode="after")
    def _unique_names(self) -> "RegistryResource":
        names = [source.name for source in self.sources()]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"registry source names must be unique: {', '.join(repeated)}")
        return self

    def sources(self) -> list[RegistrySource]:
        return [*self.snapshots, *self.hub, *self.manifests]


def build_registry(settings: Settings) -> RegistryResource:
    """The sources the settings ask for: `registry_sources` (a JSON list, each with a `kind`
    of hub / manifest / snapshot), else the single-source settings: the bundled snapshot
    (default) or one live endpoint (`hf_*`)."""
    if settings.registry_sources:
        return _from_source_list(settings.registry_sources)
    if settings.registry == "snapshot":
        path = str(settings.data_dir / "hf_hub" / SNAPSHOT_FILE)
        return RegistryResource(snapshots=[SnapshotSource(path=path)])
    hub = HubSource(
        name=source_name(settings.hf_endpoint),
        endpoint=settings.hf_endpoint,
        token=settings.hf_token,
        timeout_s=settings.hf_timeout_s,
        pipeline_tags=[settings.hf_pipeline_tag] if settings.hf_pipeline_tag else [],
        authors=[settings.hf_author] if settings.hf_author else [],
        limit=settings.hf_limit,
        detail_workers=settings.hf_detail_workers,
    )
    return RegistryResource(hub=[hub])


def _from_source_list(items: list[dict[str, Any]]) -> RegistryResource:
    kinds: dict[str, list] = {"hub": [], "manifest": [], "snapshot": []}
    for item in items:
        config = {key: _secret(value) for key, value in item.items() if key != "kind"}
        kind = item.get("kind")
        if kind == "hub":
            config.setdefault("name", source_name(config.get("endpoint", HUB_ENDPOINT)))
            kinds["hub"].append(HubSource(**config))
        elif kind == "manifest":
            kinds["manifest"].append(ManifestSource(**config))
        elif kind == "snapshot":
            kinds["snapshot"].append(SnapshotSource(**config))
        else:
            raise ValueError(f"registry source kind {kind!r}: expected hub, manifest or snapshot")
    return RegistryResource(hub=kinds["hub"], manifests=kinds["manifest"],
                            snapshots=kinds["snapshot"])  # fmt: skip


def _secret(value: Any) -> Any:
    # {"env": "NAME"} in the JSON: Dagster reads the variable when it builds the resource, so a
    # token never sits in the settings (or in the run's config shown in the UI).
    if isinstance(value, dict) and set(value) == {"env"}:
        return dg.EnvVar(value["env"])
    return value


def source_name(endpoint: str) -> str:
    """`hf-hub` for huggingface.co; `hub:<host[:port]>` otherwise, so rows from a private
    registry never claim to come from the public Hub (credentials in the URL are left out)."""
    parts = urlsplit(endpoint)
    if parts.hostname == "huggingface.co":
        return "hf-hub"
    port = f":{parts.port}" if parts.port else ""
    return f"hub:{parts.hostname or endpoint}{port}"[:64]
