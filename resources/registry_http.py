"""One retry policy for every request huggingface_hub sends to a registry endpoint.

What huggingface_hub 2.4 does by itself (utils/_http.py, `_http_backoff_base`): the listing's
pages go through `http_backoff`, which retries 408/429/500/502/503/504, timeouts and network
errors up to 5 times, sleeping 1, 2, 4, 8, 8 s (no jitter), or `Retry-After` + 1 s however
long the server asks (an HTTP-date Retry-After is ignored). `model_info` goes through
`get_session().get(...)` with no retry at all, and the listing passes `timeout=None`, so a
stalled server would hold it forever.

So the policy lives one level lower, in the HTTP transport of the library's shared client
(`set_client_factory`), where it covers both calls the same way: a timeout on every request,
429 waits `Retry-After` (capped: a server asking for an hour fails the run instead of hanging
it), other retryable answers back off exponentially with jitter, and after the last attempt the
transport raises `RegistryUnavailable`, which the library does not retry, so its own loop never
multiplies ours. Requests to origins without a policy pass through untouched.
"""

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx2
from huggingface_hub import set_client_factory

# Private, but wrapping the library's own client keeps its request ids and offline-mode check.
from huggingface_hub.utils._http import default_client_factory

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class RegistryUnavailable(RuntimeError):
    """A registry endpoint kept failing (or asked to wait too long) after every retry."""


@dataclass(frozen=True)
class RetryPolicy:
    timeout_s: float = 10.0
    max_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    # The longest Retry-After honoured; a longer one ends the call at once.
    max_retry_after_s: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    random: Callable[[], float] = field(default=random.random, compare=False)

    def backoff(self, attempt: int) -> float:
        """'Equal jitter': half the exponential step fixed, half random, so clients that failed
        together do not come back together. `attempt` counts from 1."""
        step = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return step / 2 + step / 2 * self.random()

    def wait_for(self, response: httpx2.Response, attempt: int, url: str = "") -> float:
        """Seconds before the next attempt: at least what Retry-After asks (seconds or an
        HTTP-date), plus a little jitter; the exponential backoff where it asks nothing."""
        asked = retry_after_s(response.headers.get("retry-after"))
        if asked is None:
            return self.backoff(attempt)
        if asked > self.max_retry_after_s:
            raise RegistryUnavailable(
                f"{url} asked to retry after {asked:.0f} s "
                f"(more than the {self.max_retry_after_s:.0f} s allowed)"
            )
        return asked + self.backoff_base_s * self.random()


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now; None when absent or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


class RetryingTransport(httpx2.BaseTransport):
    """An httpx transport that applies the policy of the request's origin."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url  # its parts, not str(url) parsed again: this runs once per request
        policy = _POLICIES.get(_origin_key(url.scheme, url.host, url.port))
        if policy is None:
            return self._inner.handle_request(request)
        _bound_timeout(request, policy.timeout_s)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._inner.handle_request(request)
            except (httpx2.TimeoutException, httpx2.NetworkError) as error:
                if attempt > policy.max_retries:
                    raise RegistryUnavailable(f"{request.url}: {error!r}") from error
                policy.sleep(policy.backoff(attempt))
                continue
            if response.status_code not in RETRY_STATUSES:
                return response
            response.read()
            response.close()
            if attempt > policy.max_retries:
                raise RegistryUnavailable(
                    f"{request.url}: HTTP {response.status_code} after {attempt} attempts"
                )
            policy.sleep(policy.wait_for(response, attempt, str(request.url)))

    def close(self) -> None:
        self._inner.close()


_POLICIES: dict[str, RetryPolicy] = {}
_LOCK = threading.Lock()
_INSTALLED = False


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return _origin_key(parts.scheme, parts.hostname or "", parts.port)


def _origin_key(scheme: str, host: str, port: int | None) -> str:
    # httpx drops a scheme's default port (":443" on https), urlsplit keeps it: so do we not.
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}:{port if port and port != default else ''}"


def install(endpoint: str, policy: RetryPolicy) -> None:
    """Apply `policy` to every request huggingface_hub sends to `endpoint`'s origin."""
    global _INSTALLED
    with _LOCK:
        _POLICIES[_origin(endpoint)] = policy
        # Once: setting a factory closes the shared client, which would cut requests in flight
        # (another source's detail fetches); the transport reads the policies per request.
        if not _INSTALLED:
            set_client_factory(_client_factory)
            _INSTALLED = True


def _client_factory() -> Any:
    client = default_client_factory()
    # The library builds its client with default transport settings; wrap that transport.
    client._transport = RetryingTransport(client._transport)
    return client


def _bound_timeout(request: httpx2.Request, timeout_s: float) -> None:
    # `list_models` passes timeout=None per request, which overrides any client default; a
    # timeout the caller chose (as for downloads) is kept.
    current = request.extensions.get("timeout", {})
    if all(value is None for value in current.values()):
        request.extensions["timeout"] = dict.fromkeys(
            ("connect", "read", "write", "pool"), timeout_s
        )
