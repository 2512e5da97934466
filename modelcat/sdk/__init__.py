"""The Model Catalog SDK: typed sync and async clients for the API (needs only httpx + pydantic).

from modelcat.sdk import CatalogClient
with CatalogClient("http://127.0.0.1:8000", client_id="ci-bot", client_secret="...") as api:
    print(api.get_model("Qwen/Qwen3-14B").benchmarks_summary)
"""

from modelcat.sdk.async_client import AsyncCatalogClient
from modelcat.sdk.client import CatalogClient
from modelcat.sdk.core import ClientCredentials, Retry
from modelcat.sdk.errors import CatalogError
from modelcat.sdk.types import QueryConstraints

__all__ = [
    "AsyncCatalogClient",
    "CatalogClient",
    "CatalogError",
    "ClientCredentials",
    "QueryConstraints",
    "Retry",
]
