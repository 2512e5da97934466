"""The Hugging Face Hub, or a private registry speaking its API, as a registry source.

The listing goes through huggingface_hub's own `paginate` (the function `HfApi.list_models`
uses: the Link-header cursor, its headers, its error mapping) but keeps the raw JSON:
`list_models` turns each item into a `ModelInfo` inside its generator, and one record without an
`id` or with an unparsable date raises there and ends the whole listing, where we want to
quarantine that record and ingest the rest. Per-model details (`model_info`'s request, also kept
raw) carry what the listing does not return reliably: the safetensors parameter counts.

Retries, backoff and timeouts: resources/registry_http.py, installed for `endpoint`.
"""

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import dagster as dg
from huggingface_hub.utils import build_hf_headers, paginate
from pydantic import Field

from resources.registry_details import DetailFetcher
from resources.registry_http import RetryPolicy, install
from resources.registry_listing import Details, Listing

HUB_ENDPOINT = "https://huggingface.co"
# What parse_model reads from a listing (no siblings or configs: they would bloat every page).
# `baseModels` is not accepted by the listing: base models come from `base_model:` tags.
EXPAND = [
    "author", "cardData", "createdAt", "downloads", "gated", "lastModified", "library_name",
    "likes", "pipeline_tag", "private", "safetensors", "sha", "tags", "trendingScore",
]  # fmt: skip
# Per model: the revision and the parameter counts, the fields a listing may leave out.
DETAIL_EXPAND = ["safetensors", "sha", "lastModified", "cardData", "tags"]


class HubSource(dg.Config):
    """One Hub-compatible endpoint and the slice of it to keep in the catalog.

    Several `pipeline_tags` or `authors` make one listing per combination (the Hub filters on
    one of each); `min_downloads` is applied here (the Hub has no such filter) to the models that
    join the catalog: one the catalog holds stays listed, with current counts, when it falls
    under the threshold (it is neither marked removed nor left with its old counts).
    """

    name: str = "hf-hub"
    endpoint: str = HUB_ENDPOINT
    # None sends no credentials at all, not even a token saved on the machine: it would be a
    # huggingface.co token, and the endpoint may be someone else's server.
    token: str | None = None
    pipeline_tags: list[str] = []
    authors: list[str] = []
    library: str | None = None
    gated: bool | None = None
    min_downloads: int = Field(default=0, ge=0)
    search: str | None = None
    # A cap on models per listing (smoke runs): a capped listing is partial, marks no removals.
    limit: int | None = Field(default=None, gt=0)
    page_size: int = Field(default=1000, gt=0, le=1000)  # the Hub's largest page is 1000
    expand: list[str] = EXPAND
    detail_expand: list[str] = DETAIL_EXPAND
    detail_workers: int = Field(default=8, ge=1, le=64)
    # Models whose details wait for a later run beyond this many per run (None: no cap).
    max_detail_fetches: int | None = Field(default=None, ge=0)
    # Sort by lastModified and stop at the last sync's watermark: fast, but partial (see Listing).
    stop_at_watermark: bool = False
    watermark_overlap_s: float = Field(default=3600.0, ge=0)
    timeout_s: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    max_retry_after_s: float = Field(default=120.0, ge=0)

    @property
    def wants_details(self) -> bool:
        return True

    @property
    def allowed_fields(self) -> None:
        return None  # the Hub adds fields over time: unknown ones are kept in `extra`

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            timeout_s=self.timeout_s, max_retries=self.max_retries,
            backoff_base_s=self.backoff_base_s, backoff_max_s=self.backoff_max_s,
            max_retry_after_s=self.max_retry_after_s,
        )  # fmt: skip

    def listing(self, watermark: datetime | None = None) -> Listing:
        install(self.endpoint, self.policy())
        stop_before = None
        if self.stop_at_watermark and watermark is not None:
            stop_before = watermark - timedelta(seconds=self.watermark_overlap_s)
        return Listing(self._records(stop_before), min_downloads=self.min_downloads)

    def detail_chunks(self, ids: list[str], size: int) -> Iterator[Details]:
        """Per-model records for `ids`, fetched `detail_workers` at a time and handed over about
        `size` at a time while the rest are fetched. A model the endpoint no longer has (4xx)
        or answers with a body that is not JSON is in `failed`, for a later run; an endpoint
        that stays down raises RegistryUnavailable."""
        install(self.endpoint, self.policy())
        fetcher = DetailFetcher(self.endpoint, self.token, self.detail_expand, self.detail_workers)
        return fetcher.chunks(ids, size)

    def history(self) -> None:
        return None

    def _records(self, stop_before: datetime | None) -> Iterator[dict[str, Any] | tuple[str, Any]]:
        """Records of every listing; a ("partial", reason) marker where one stopped early."""
        headers = build_hf_headers(token=self.token or False)
        for author, tag in itertools.product(self.authors or [None], self.pipeline_tags or [None]):
            params = self._params(author, tag, sorted_=stop_before is not None)
            items = paginate(f"{self.endpoint.rstrip('/')}/api/models", params, headers)
            for count, item in enumerate(items, start=1):
                if stop_before is not None and _older(item, stop_before):
                    yield ("partial", f"stopped at the watermark {stop_before.isoformat()}")
                    break
                yield item
                if self.limit is not None and count >= self.limit:
                    yield ("partial", f"stopped at limit={self.limit}")
                    break

    def _params(self, author: str | None, tag: str | None, sorted_: bool) -> dict[str, Any]:
        # The same query parameters HfApi.list_models builds for these arguments.
        params: dict[str, Any] = {"expand": self.expand, "limit": self.page_size}
        optional = {"author": author, "pipeline_tag": tag, "search": self.search,
                    "gated": self.gated, "sort": "lastModified" if sorted_ else None}  # fmt: skip
        params |= {key: value for key, value in optional.items() if value is not None}
        if self.library:
            params["filter"] = [self.library]
        return params


def _older(item: Any, stop_before: datetime) -> bool:
    """Whether a record sorted by lastModified lies before `stop_before` (an unreadable date
    does not stop the listing: the record goes on to be quarantined)."""
    if not isinstance(item, dict) or not isinstance(item.get("lastModified"), str):
        return False
    try:
        moment = datetime.fromisoformat(item["lastModified"])
    except ValueError:
        return False
    return moment < stop_before if moment.tzinfo else False
