"""`AsyncCatalogClient`: the asyncio client (httpx), the same methods as `CatalogClient`."""

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Unpack

import httpx

from modelcat.sdk import endpoints as ep
from modelcat.sdk import types as t
from modelcat.sdk.core import (
    DEFAULT_URL,
    Call,
    Retry,
    T,
    TokenCache,
    auth_headers,
    credentials,
    parse,
)
from modelcat.sdk.errors import CatalogError

USER_AGENT = "modelcat-sdk/0.1"


class AsyncCatalogClient:
    """The Model Catalog API, for asyncio; see `CatalogClient` for auth and retries.
    Authenticate with an `api_key` (sent as
    `X-API-Key`) or with `client_id` + `client_secret` (OAuth2 client credentials: the token is
    fetched, reused until shortly before it expires, and renewed once on a 401). Idempotent
    requests are retried on connection errors and 429/502/503/504 (see `Retry`); every failure
    raises `CatalogError`.

        async with AsyncCatalogClient("http://127.0.0.1:8000", api_key="...") as catalog:
            async for model in catalog.iter_models(task="text-generation", limit=500):
                print(model.id, model.downloads)
    """

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        api_key: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        scope: str | None = None,
        timeout_s: float = 10.0,
        retry: Retry = Retry(),  # noqa: B008 - frozen, so one shared default is safe
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._credentials = credentials(api_key, client_id, client_secret, scope)
        self._api_key = api_key
        self._retry, self._sleep, self._clock = retry, sleep, clock
        self._tokens = TokenCache()
        self._token_lock = asyncio.Lock()  # one token request at a time across tasks
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=timeout_s, transport=transport,
            headers={"User-Agent": USER_AGENT},
        )  # fmt: skip

    async def __aenter__(self) -> "AsyncCatalogClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    # -- models ------------------------------------------------------------------------------

    async def list_models(
        self,
        cursor: str | None = None,
        offset: int | None = None,
        **filters: Unpack[ep.ModelFilters],
    ) -> t.ModelsPage:
        """One page of models; pass its `next_cursor` as `cursor` for the next one."""
        return await self._send(ep.models(cursor, offset, **filters))

    async def iter_models(self, **filters: Unpack[ep.ModelFilters]) -> AsyncIterator[t.Model]:
        """Every matching model, page after page (`limit` is the page size)."""
        cursor = None
        while True:
            page = await self.list_models(cursor, **filters)
            for model in page.data:
                yield model
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def get_model(self, model_id: str) -> t.ModelDetail:
        return await self._send(ep.model(model_id))

    async def model_popularity(
        self, model_id: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> t.Popularity:
        return await self._send(ep.popularity(model_id, start, end))

    async def model_benchmarks(
        self, model_id: str, task: str | None = None, gpu: str | None = None,
        limit: int | None = None, offset: int | None = None,
    ) -> t.Benchmarks:  # fmt: skip
        return await self._send(ep.model_benchmarks(model_id, task, gpu, limit, offset))

    # -- GPUs and recommendations ------------------------------------------------------------

    async def gpus(self) -> t.Gpus:
        return await self._send(ep.gpus())

    async def recommendations(self, task: str, gpu: str, profile: str = "balanced") -> t.Ranking:
        """The precomputed ranking of `task` on `gpu` (or `any`) under a named profile."""
        return await self._send(ep.recommendations(task, gpu, profile))

    async def pareto(self, task: str, gpu: str, x: str, y: str) -> t.Pareto:
        return await self._send(ep.pareto(task, gpu, x, y))

    async def query_recommendations(
        self, task: str, weights: dict[str, float], gpus: list[str] | None = None,
        constraints: t.QueryConstraints | None = None, top_k: int | None = None,
        stability_draws: int | None = None,
    ) -> t.QueryRanking:  # fmt: skip
        """Rank `task`'s candidates with your own weights and hard limits."""
        return await self._send(
            ep.query_recommendations(task, weights, gpus, constraints, top_k, stability_draws)
        )

    # -- analytics ---------------------------------------------------------------------------

    async def trending(self, **filters: Unpack[ep.TrendingFilters]) -> t.Trending:
        return await self._send(ep.trending(**filters))

    async def metric_trends(
        self, model_id: str, **filters: Unpack[ep.TrendFilters]
    ) -> t.MetricTrends:
        return await self._send(ep.metric_trends(model_id, **filters))

    async def regressions(self, **filters: Unpack[ep.RegressionFilters]) -> t.Regressions:
        return await self._send(ep.regressions(**filters))

    # -- benchmark requests, health, auth ----------------------------------------------------

    async def request_benchmark(
        self, model_id: str, gpu: str, batch_size: int | None = None,
        max_output_tokens: int | None = None, note: str | None = None,
    ) -> t.BenchmarkRequestAccepted:  # fmt: skip
        """Queue a benchmark run (scope `benchmarks:request`); an identical queued or running
        request is returned instead of a new one (`deduplicated`)."""
        return await self._send(
            ep.request_benchmark(model_id, gpu, batch_size, max_output_tokens, note)
        )

    async def benchmark_request(self, request_id: str) -> t.BenchmarkRequest:
        return await self._send(ep.benchmark_request(request_id))

    async def health(self) -> t.Health:
        return await self._send(ep.health())

    async def ready(self) -> t.Ready:
        """Readiness; a 503 (neither store can answer) is returned, not raised."""
        return await self._send(ep.ready())

    async def token(self) -> t.Token:
        """A fresh access token for the client credentials (also cached for later requests)."""
        if self._credentials is None:
            raise ValueError("token() needs client_id and client_secret")
        call = self._credentials.token_call()
        token = parse(call, await self._request(call))
        self._tokens.put(token, self._clock())
        return token

    # -- plumbing ----------------------------------------------------------------------------

    async def _send(self, call: Call[T]) -> T:
        response, bearer = await self._authorized(call)
        if response.status_code == 401 and bearer is not None:
            # Expired early or revoked (a restarted server with a new secret): renew once.
            self._tokens.forget(bearer)
            response, _ = await self._authorized(call)
        return parse(call, response)

    async def _authorized(self, call: Call) -> tuple[httpx.Response, str | None]:
        if not call.authenticated:
            return await self._request(call), None
        bearer = await self._bearer() if self._credentials is not None else None
        return await self._request(call, auth_headers(self._api_key, bearer)), bearer

    async def _bearer(self) -> str:
        assert self._credentials is not None
        async with self._token_lock:
            cached = self._tokens.get(self._clock())
            if cached is not None:
                return cached
            call = self._credentials.token_call()
            return self._tokens.put(parse(call, await self._request(call)), self._clock())

    async def _request(self, call: Call, headers: dict[str, str] | None = None) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(
                    call.method, call.path, params=call.params, json=call.json, data=call.form,
                    headers=headers,
                )  # fmt: skip
            except httpx.TransportError as error:
                wait = self._retry.delay(call, attempt, error=error)
                if wait is None:
                    raise CatalogError.unreachable(str(self._http.base_url), error) from error
            else:
                wait = self._retry.delay(call, attempt, response=response)
                if wait is None:
                    return response
                await response.aclose()
            await self._sleep(wait)
