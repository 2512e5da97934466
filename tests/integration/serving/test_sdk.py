"""The SDK against the live app: a real uvicorn server on the seeded PostgreSQL and real Redis.

Requests are observed with a recording httpx transport (it forwards everything to the server);
retries are observed through the clients' `sleep` hook.
"""

import asyncio
import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest

from modelcat.sdk import AsyncCatalogClient, CatalogClient, CatalogError, QueryConstraints, Retry
from serving.app import create_app
from serving.security import ADMIN, READ, REQUEST_BENCHMARKS
from tests.integration.serving.live import serving
from tests.integration.serving.seed import LLAMA, ODD, QWEN, UNICODE
from tests.support.throwaway import free_port

pytestmark = pytest.mark.integration


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


CLIENTS = {"ci-bot": {"secret_sha256": sha("ci-secret"), "scopes": [ADMIN]}}
KEYS = {
    "reader": {"key_sha256": sha("reader-key"), "scopes": [READ]},
    "writer": {"key_sha256": sha("writer-key"), "scopes": [READ, REQUEST_BENCHMARKS]},
}
PARETO_AXES = ("cost_spot_per_million", "latency_p95_ms")


@pytest.fixture
def live(seeded, database_url, redis_url, api_settings) -> Iterator[Callable[..., str]]:
    """`live(**settings)`: start the app with these settings overrides; its base URL."""
    with ExitStack() as stack:

        def start(db: str = database_url, port: int | None = None, **overrides) -> str:
            settings = api_settings(oauth_clients=CLIENTS, api_keys=KEYS, **overrides)
            return stack.enter_context(serving(create_app(db, redis_url, settings), port))

        yield start


@pytest.fixture
def url(live) -> str:
    return live()


class Recording(httpx.HTTPTransport):
    """Forwards to the server; remembers (method, path, status) of every exchange."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.seen.append((request.method, request.url.path, response.status_code))
        return response


# -- every endpoint ------------------------------------------------------------------------


def test_models_filter_and_page_with_cursors(url):
    with CatalogClient(url) as api:
        first = api.list_models(task="text-generation", limit=2)
        assert [m.id for m in first.data] == [LLAMA, QWEN]  # -downloads; the removed one hidden
        assert first.count == 3 and first.next_cursor is not None
        second = api.list_models(first.next_cursor, task="text-generation", limit=2)
        assert [m.id for m in second.data] == [UNICODE] and second.next_cursor is None
        every = [m.id for m in api.iter_models(task="text-generation", limit=2)]
        assert every == [LLAMA, QWEN, UNICODE]
        assert [m.id for m in api.list_models(min_params=10**10).data] == [QWEN]
        assert [m.id for m in api.list_models(q="100%").data] == [ODD]


def test_model_page_popularity_and_benchmarks(url):
    with CatalogClient(url) as api:
        page = api.get_model(QWEN)
        assert page.id == QWEN and {s.task for s in page.benchmarks_summary} == {
            "lm-arena-chat",
            "gpqa",
        }
        assert api.get_model(UNICODE).id == UNICODE  # escaped in the path, not mangled
        assert api.get_model(ODD).id == ODD
        points = api.model_popularity(QWEN, start=dt.date(2025, 5, 2)).points
        assert [p.date for p in points] == [dt.date(2025, 5, 2), dt.date(2025, 5, 3)]
        results = api.model_benchmarks(QWEN, task="lm-arena-chat")
        assert {r.task for r in results.data} == {"lm-arena-chat"} and results.count >= 2
        assert any(r.cost is not None and r.cost.usd_per_million_spot == 0.73 for r in results.data)


def test_gpus_and_recommendations(url):
    with CatalogClient(url) as api:
        gpus = {g.name: g for g in api.gpus().data}
        assert set(gpus) == {"H100", "B200"} and gpus["H100"].price is not None
        ranking = api.recommendations("lm-arena-chat", "H100")
        assert ranking.profile == "balanced" and ranking.items[0].model_id == QWEN
        front = api.pareto("lm-arena-chat", "H100", *PARETO_AXES).front
        assert [(p.model_id, p.x) for p in front] == [(QWEN, 0.73)]
        adhoc = api.query_recommendations(
            "lm-arena-chat", {"throughput_per_gpu": 1.0}, gpus=["H100"], top_k=1,
            constraints=QueryConstraints(pricing="on_demand"), stability_draws=0,
        )  # fmt: skip
        assert adhoc.gpus == ["H100"] and len(adhoc.items) == 1 and adhoc.candidates >= 2


def test_analytics(url):
    with CatalogClient(url) as api:
        trending = api.trending(end=dt.date(2025, 5, 3), window_days=2)
        assert [m.model_id for m in trending.data] == [QWEN]
        assert trending.data[0].growth == 200
        trends = api.metric_trends(QWEN, metric="throughput", task="lm-arena-chat")
        assert trends.unit == "outputs/s per GPU"
        by_key = {c.result_key: [p.value for p in c.points] for c in trends.data}
        assert by_key["a"] == [500.0, 400.0]
        found = api.regressions(model_id=QWEN, metric="throughput")
        assert [(r.result_key, r.change_pct) for r in found.data] == [("a", -20.0)]


def test_health_and_readiness(url):
    with CatalogClient(url) as api:
        assert api.health().database is True
        ready = api.ready()
        assert ready.status == "ok" and ready.down == [] and ready.version == "v1"


def test_benchmark_requests_are_queued_deduplicated_and_read_back(url):
    with CatalogClient(url, api_key="writer-key") as api:
        queued = api.request_benchmark(QWEN, "h100 sxm5 80gb", batch_size=8, note="sdk")
        assert (queued.gpu, queued.status, queued.deduplicated) == ("H100", "queued", False)
        assert queued.requested_by == "writer" and queued.config == {"batch_size": 8}
        again = api.request_benchmark(QWEN, "H100", batch_size=8)
        assert again.id == queued.id and again.deduplicated is True
        status = api.benchmark_request(queued.id)
        assert status.id == queued.id and status.status == "queued"


def test_the_async_client_answers_as_the_sync_one(url):
    calls = [
        ("list_models", (), {"task": "text-generation", "limit": 2}),
        ("get_model", (QWEN,), {}),
        ("model_popularity", (QWEN,), {"end": dt.date(2025, 5, 2)}),
        ("model_benchmarks", (QWEN,), {"gpu": "H100"}),
        ("gpus", (), {}),
        ("recommendations", ("lm-arena-chat", "H100"), {}),
        ("pareto", ("lm-arena-chat", "H100", *PARETO_AXES), {}),
        ("query_recommendations", ("lm-arena-chat", {"throughput_per_gpu": 1.0}), {}),
        ("trending", (), {"end": dt.date(2025, 5, 3)}),
        ("metric_trends", (QWEN,), {}),
        ("regressions", (), {"threshold_pct": 5.0}),
        ("health", (), {}),
    ]
    with CatalogClient(url) as api:
        expected = [getattr(api, name)(*args, **kw).model_dump() for name, args, kw in calls]

    async def run() -> tuple[list[dict], list[str], str, str]:
        async with AsyncCatalogClient(url, client_id="ci-bot", client_secret="ci-secret") as api:
            got = [(await getattr(api, name)(*args, **kw)).model_dump() for name, args, kw in calls]
            ids = [m.id async for m in api.iter_models(task="text-generation", limit=1)]
            queued = await api.request_benchmark(LLAMA, "B200")
            status = (await api.benchmark_request(queued.id)).status
            return got, ids, status, (await api.ready()).status

    got, ids, status, ready = asyncio.run(run())
    # Health's version and the ad-hoc ranking's draws are deterministic: the answers are equal.
    assert got == expected
    assert ids == [LLAMA, QWEN, UNICODE] and status == "queued" and ready == "ok"


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "status", "code", "says"),
    [
        (lambda api: api.get_model("nobody/none"), 404, "not_found", "'nobody/none'"),
        (lambda api: api.list_models(limit=0), 422, "invalid_request", "'limit'"),
        (lambda api: api.list_models(min_params=5, max_params=1), 400, "bad_request", "exceed"),
        (lambda api: api.list_models(cursor="garbage"), 400, "bad_request", "cursor"),
        (lambda api: api.recommendations("nope", "H100"), 404, "not_found", "lm-arena-chat"),
        (lambda api: api.request_benchmark(QWEN, "H100"), 401, "unauthorized", "authentication"),
    ],
)
def test_errors_carry_the_api_error_body(url, call, status, code, says):
    with CatalogClient(url) as api, pytest.raises(CatalogError) as raised:
        call(api)
    error = raised.value
    assert (error.status, error.code) == (status, code)
    assert says in error.message and f"HTTP {status}" in str(error)


def test_bad_credentials_and_missing_scope(url):
    with pytest.raises(CatalogError) as raised, CatalogClient(url, api_key="wrong") as api:
        api.gpus()
    assert (raised.value.status, raised.value.message) == (401, "unknown API key")
    with (
        pytest.raises(CatalogError) as raised,
        CatalogClient(url, client_id="ci-bot", client_secret="nope") as api,
    ):
        api.gpus()
    assert (raised.value.status, raised.value.code) == (401, "invalid_client")
    with pytest.raises(CatalogError) as raised, CatalogClient(url, api_key="reader-key") as api:
        api.request_benchmark(QWEN, "H100")
    assert (raised.value.status, raised.value.code) == (403, "insufficient_scope")
    assert raised.value.detail == {"required_scope": REQUEST_BENCHMARKS}


# -- auth ----------------------------------------------------------------------------------


def test_closed_reads_with_an_api_key_or_client_credentials(live):
    url = live(open_reads=False)
    with pytest.raises(CatalogError) as raised, CatalogClient(url) as api:
        api.gpus()
    assert raised.value.status == 401
    with CatalogClient(url, api_key="reader-key") as api:
        assert api.gpus().count == 2
    with CatalogClient(url, client_id="ci-bot", client_secret="ci-secret") as api:
        token = api.token()
        assert (token.scope, token.expires_in, token.token_type) == ("admin", 3600, "bearer")
        assert api.gpus().count == 2


def test_the_token_is_fetched_once_and_renewed_before_it_expires(live):
    url = live(open_reads=False)
    now = [1000.0]
    wire = Recording()
    with CatalogClient(url, client_id="ci-bot", client_secret="ci-secret", transport=wire,
                       clock=lambda: now[0]) as api:  # fmt: skip
        api.gpus()
        api.gpus()
        now[0] += 3600 - 10  # inside the renewal margin: a new token before the next request
        api.gpus()
    assert wire.seen == [
        ("POST", "/auth/token", 200), ("GET", "/gpus", 200), ("GET", "/gpus", 200),
        ("POST", "/auth/token", 200), ("GET", "/gpus", 200),
    ]  # fmt: skip


def test_a_token_the_server_refuses_is_renewed_once(live):
    url = live(open_reads=False, jwt_ttl_s=1)
    wire = Recording()
    # A clock that stands still: the client believes its token fresh, the server knows better.
    with CatalogClient(url, client_id="ci-bot", client_secret="ci-secret", transport=wire,
                       clock=lambda: 0.0) as api:  # fmt: skip
        api.gpus()
        time.sleep(1.1)
        assert api.gpus().count == 2
    assert wire.seen == [
        ("POST", "/auth/token", 200), ("GET", "/gpus", 200),
        ("GET", "/gpus", 401), ("POST", "/auth/token", 200), ("GET", "/gpus", 200),
    ]  # fmt: skip


# -- retries -------------------------------------------------------------------------------


def test_429_is_retried_after_the_retry_after_it_names(live):
    url = live(rate_limit_anonymous_per_s=1, rate_limit_anonymous_burst=1)
    waits: list[float] = []
    wire = Recording()

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with CatalogClient(url, transport=wire, sleep=sleep) as api:
        api.gpus()
        assert api.gpus().count == 2
    assert waits == [1.0]
    assert [status for *_, status in wire.seen] == [200, 429, 200]


def test_a_benchmark_request_is_not_retried_on_429(live):
    url = live(rate_limit_per_s=1, rate_limit_burst=1)
    waits: list[float] = []
    with CatalogClient(url, api_key="writer-key", sleep=waits.append) as api:
        api.request_benchmark(QWEN, "H100")
        with pytest.raises(CatalogError) as raised:
            api.request_benchmark(QWEN, "H100")
    assert raised.value.status == 429 and waits == []


def test_503_of_a_stopped_database_is_retried_then_raised(live):
    stopped = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/nothing"
    url = live(db=stopped)
    waits: list[float] = []
    with CatalogClient(url, retry=Retry(attempts=3), sleep=waits.append) as api:
        with pytest.raises(CatalogError) as raised:
            api.list_models()
        assert api.ready().down == ["database"]  # a 503 readiness is an answer, not an error
    assert (raised.value.status, raised.value.code) == (503, "unavailable")
    assert waits == [5.0, 5.0]  # the API's Retry-After, twice: three attempts


def test_a_refused_connection_is_retried_even_for_a_benchmark_request(live):
    port = free_port()
    waits: list[float] = []

    def start_the_server(seconds: float) -> None:
        waits.append(seconds)
        live(port=port)

    with CatalogClient(f"http://127.0.0.1:{port}", api_key="writer-key",
                       sleep=start_the_server) as api:  # fmt: skip
        assert api.request_benchmark(QWEN, "H100").status == "queued"
    assert len(waits) == 1


def test_an_unreachable_api_is_one_error_after_bounded_attempts():
    waits: list[float] = []
    url = f"http://127.0.0.1:{free_port()}"
    api = CatalogClient(url, retry=Retry(attempts=3), sleep=waits.append)
    with api, pytest.raises(CatalogError) as raised:
        api.gpus()
    assert (raised.value.status, raised.value.code) == (0, "unreachable")
    assert url in raised.value.message and len(waits) == 2
