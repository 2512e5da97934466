"""Model registries: one resource interface, two real sources.

`HubRegistryResource` lists a live Hugging Face Hub, or any Hub-compatible endpoint (a private
registry); `SnapshotRegistryResource` reads the real Hub export shipped with the project, for the
offline demo and tests. Both yield records in the Hub's `/api/models` JSON field names, so the
assets never know which one they were given.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import pandas as pd
from huggingface_hub import HfApi, set_client_factory
from huggingface_hub.hf_api import ModelInfo

# Private, but wrapping the library's own client keeps its request ids and offline-mode check.
from huggingface_hub.utils._http import default_client_factory
from pydantic import Field, PrivateAttr

from assets.registry import hub_history
from resources.settings import Settings

HUB_ENDPOINT = "https://huggingface.co"
SNAPSHOT_FILE = "hf_transformersjs_feature_extraction_daily_2024-05_2026-05.csv.gz"
# Exactly what parse_model reads (and no siblings or configs, which would bloat every page).
# `baseModels` is not accepted by the listing: base models come from `base_model:` tags.
EXPAND = [
    "author", "cardData", "createdAt", "downloads", "gated", "lastModified", "library_name",
    "likes", "pipeline_tag", "private", "safetensors", "sha", "tags", "trendingScore",
]  # fmt: skip


class RegistryResource(dg.ConfigurableResource, ABC):
    """A source of ML model metadata. `name` is recorded as the `source` of every row."""

    name: str

    @abstractmethod
    def list_models(self) -> Iterator[dict[str, Any]]:
        """Raw records, one per model, in the Hub's `/api/models` JSON field names."""

    @abstractmethod
    def history(self) -> pd.DataFrame | None:
        """Daily popularity (model_id, snapshot_date, downloads, likes, trending_rank), or None
        where the source only knows the present."""


class HubRegistryResource(RegistryResource):
    """The Hugging Face Hub, or a private registry speaking its API at `endpoint`.

    huggingface_hub retries 408/429/5xx and timeouts by itself (up to 5 times, 1-8 s backoff,
    honouring Retry-After), so a transient failure costs a wait, not the sync; a persistent one
    raises mid-iteration, and the caller never mistakes a partial listing for a whole one.
    """

    name: str = "hf-hub"
    endpoint: str = HUB_ENDPOINT
    # None sends no credentials at all, not even a token saved on the machine: it would be a
    # huggingface.co token, and the endpoint may be someone else's server.
    token: str | None = None
    timeout_s: float = Field(default=10.0, gt=0)
    pipeline_tag: str | None = None
    author: str | None = None
    search: str | None = None
    limit: int | None = Field(default=None, gt=0)

    def list_models(self) -> Iterator[dict[str, Any]]:
        set_client_factory(_client_with_timeout(self.timeout_s))
        api = HfApi(endpoint=self.endpoint.rstrip("/"), token=self.token or False)
        listing = api.list_models(
            pipeline_tag=self.pipeline_tag,
            author=self.author,
            search=self.search,
            limit=self.limit,
            expand=EXPAND,  # type: ignore[arg-type]  # the Literal list, as plain strings
        )
        for info in listing:
            yield hub_record(info)

    def history(self) -> None:
        return None


class SnapshotRegistryResource(RegistryResource):
    """The real Hub export (one row per model per day): models from their latest row, and the
    full daily history. The file is read once per resource instance."""

    name: str = "hf-hub-snapshot"
    path: str
    _export: pd.DataFrame | None = PrivateAttr(default=None)

    def _read(self) -> pd.DataFrame:
        if self._export is None:
            self._export = hub_history.read_export(self.path)
        return self._export

    def list_models(self) -> Iterator[dict[str, Any]]:
        yield from hub_history.latest_records(self._read())

    def history(self) -> pd.DataFrame:
        return hub_history.daily_history(self._read())


def build_registry(settings: Settings) -> RegistryResource:
    """The registry the settings ask for: the bundled snapshot (default) or a live endpoint."""
    if settings.registry == "snapshot":
        return SnapshotRegistryResource(path=str(settings.data_dir / "hf_hub" / SNAPSHOT_FILE))
    return HubRegistryResource(
        name=source_name(settings.hf_endpoint),
        endpoint=settings.hf_endpoint,
        token=settings.hf_token,
        timeout_s=settings.hf_timeout_s,
        pipeline_tag=settings.hf_pipeline_tag,
        author=settings.hf_author,
        limit=settings.hf_limit,
    )


def source_name(endpoint: str) -> str:
    """`hf-hub` for huggingface.co; `hub:<host[:port]>` otherwise, so rows from a private
    registry never claim to come from the public Hub (credentials in the URL are left out)."""
    parts = urlsplit(endpoint)
    if parts.hostname == "huggingface.co":
        return "hf-hub"
    port = f":{parts.port}" if parts.port else ""
    return f"hub:{parts.hostname or endpoint}{port}"[:64]


def hub_record(info: ModelInfo) -> dict[str, Any]:
    """A ModelInfo back in the Hub's JSON field names (absent fields left out)."""
    safetensors = info.safetensors
    record = {
        "id": info.id,
        "author": info.author,
        "sha": info.sha,
        "lastModified": _isoformat(info.last_modified),
        "createdAt": _isoformat(info.created_at),
        "downloads": info.downloads,
        "likes": info.likes,
        "pipeline_tag": info.pipeline_tag,
        "library_name": info.library_name,
        "tags": info.tags,
        "gated": info.gated,
        "private": info.private,
        "cardData": info.card_data.to_dict() if info.card_data else None,
        "safetensors": (
            {"total": safetensors.total, "parameters": safetensors.parameters}
            if safetensors
            else None
        ),
        "trendingScore": info.trending_score,
    }
    return {key: value for key, value in record.items() if value is not None}


def _isoformat(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _client_with_timeout(timeout_s: float) -> Callable[[], Any]:
    """A factory for huggingface_hub's shared HTTP client that bounds unbounded requests.

    `list_models` passes `timeout=None` on each request, which overrides any client default, so
    a hook sets the timeout on the request itself, wherever the caller left it unbounded (a
    timeout the library chose, as for downloads, is kept). huggingface_hub keeps one client per
    process: the last registry to list sets the bound for all of it.
    """
    timeout = dict.fromkeys(("connect", "read", "write", "pool"), timeout_s)

    def bound(request: Any) -> None:
        if all(value is None for value in request.extensions.get("timeout", {}).values()):
            request.extensions["timeout"] = timeout

    def factory() -> Any:
        client = default_client_factory()
        client.event_hooks["request"].append(bound)
        return client

    return factory
