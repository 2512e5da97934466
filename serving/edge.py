"""The API's front door: a pure-ASGI layer in front of FastAPI.

Every HTTP request passes here first. It authenticates (JWT or API key), spends a rate-limit
token, and then, for reads of versioned data, answers from an in-process cache of whole responses
without entering FastAPI at all: the precomputed payloads never change within a version, so the
bytes, the ETag and the route are kept per (path, query) and dropped when the version switches.
Everything else (and every first read) goes through FastAPI, which validates, documents and
renders; a versioned 200 it returns is remembered on the way out.

Doing this below FastAPI keeps its per-request cost (dependency solving, middleware, telemetry
hooks: ~50-80 us a request on this machine, DESIGN §8) off the hot path while FastAPI stays the
framework of the API as a whole. The same layer answers `If-None-Match` with 304, sets
`Cache-Control` and the data's age, and times every request for /metrics.
"""

import gzip
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from starlette.types import Message, Receive, Scope, Send

from serving import metrics
from serving.errors import ApiError, error_response
from serving.responses import VERSION_HEADER
from serving.security import ANONYMOUS, READ, Authenticator, Principal, RateLimited, RateLimiter

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Probes, scrapes, documentation and the web pages' static files are neither authenticated nor
# rate-limited (the pages' data calls are).
_OPEN_PATHS = frozenset(
    {"/", "/health", "/health/live", "/health/ready", "/metrics", "/openapi.json"}
)
_OPEN_PREFIXES = ("/docs", "/redoc", "/ui")
_TOKEN_PATH = "/auth/token"
_VERSION = VERSION_HEADER.lower().encode()
_AGE = b"x-data-age"
_NO_CACHE = (b"cache-control", b"no-cache")
_VARY = (b"vary", b"accept-encoding")
_GZIP_MIN_BYTES = 1024


class Entry(NamedTuple):
    version: str
    route: str  # the route template, for metrics
    etag: bytes
    headers: list[tuple[bytes, bytes]]  # content-type, content-length, etag, version, vary
    body: bytes
    gzip_headers: list[tuple[bytes, bytes]] | None = None
    gzip_body: bytes | None = None  # compressed once per version, for clients that accept it

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzip_body or b"")


def make_entry(
    version: str, route: str, etag: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> Entry:
    """An entry, with a gzip copy when the body is big enough for compression to pay."""
    headers = [h for h in headers if h[0] != b"vary"] + [_VARY]
    if len(body) < _GZIP_MIN_BYTES:
        return Entry(version, route, etag, headers, body)
    packed = gzip.compress(body, compresslevel=6, mtime=0)
    if len(packed) >= len(body):
        return Entry(version, route, etag, headers, body)
    packed_headers = [h for h in headers if h[0] != b"content-length"] + [
        (b"content-length", str(len(packed)).encode()),
        (b"content-encoding", b"gzip"),
    ]
    return Entry(version, route, etag, headers, body, packed_headers, packed)


class ResponseCache:
    """Whole responses of one data version, least recently used out first, bounded in bytes."""

    def __init__(self, max_bytes: int):
        self._max_bytes = max_bytes
        self._bytes = 0
        self._version: str | None = None
        self._entries: OrderedDict[bytes, Entry] = OrderedDict()

    def get(self, key: bytes, version: str | None) -> Entry | None:
        if version != self._version:
            self._switch(version)
            return None
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: bytes, entry: Entry) -> None:
        # One entry may take an eighth of the cache at most; a zero-sized cache keeps nothing.
        too_big = entry.size > self._max_bytes // 8 or not self._max_bytes
        if entry.version != self._version or too_big:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        self._entries[key] = entry
        self._bytes += entry.size
        while self._bytes > self._max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= dropped.size

    def __len__(self) -> int:
        return len(self._entries)

    def _switch(self, version: str | None) -> None:
        self._version = version
        self._entries.clear()
        self._bytes = 0


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        state: Any,
        *,
        max_bytes: int,
        max_age_s: int,
    ):
        """`app` is FastAPI's own ASGI callable; `state` the app state the lifespan fills in
        (`authenticator`, `limiter`, `cache`)."""
        self.app = app
        self.state = state
        self.responses = ResponseCache(max_bytes)
        self._max_age_s = max_age_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        path: str = scope["path"]
        method: str = scope["method"]
        if path in _OPEN_PATHS or path.startswith(_OPEN_PREFIXES):
            status = await self._forward(scope, receive, send, None, None)
            metrics.observe_request(
                metrics.route_template(scope), method, status, time.perf_counter() - started
            )
            return
        authorization = api_key = if_none_match = None
        gzip_ok = False
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"x-api-key":
                api_key = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value
            elif name == b"accept-encoding":
                gzip_ok = _accepts_gzip(value)
        authenticator: Authenticator = self.state.authenticator
        try:
            # The token endpoint reads its own credentials (form or HTTP Basic); callers of it
            # are limited per IP, which also slows down anyone guessing client secrets.
            principal = (
                ANONYMOUS
                if path == _TOKEN_PATH
                else authenticator.authenticate(authorization, api_key)
            )
            await self._spend(principal, scope)
        except ApiError as error:
            if error.status_code == 401:
                metrics.auth_failure(error.code)
            response = error_response(
                error.status_code, error.code, error.message, error.detail, error.headers
            )
            await response(scope, receive, send)
            # Turned away before routing: no route template to name.
            elapsed = time.perf_counter() - started
            metrics.observe_request(metrics.UNMATCHED, method, error.status_code, elapsed)
            return
        scope.setdefault("state", {})["principal"] = principal

        key = None
        if method in ("GET", "HEAD") and authenticator.permits(principal, READ):
            key = path.encode() + b"?" + scope["query_string"]
            entry = self.responses.get(key, self.state.cache.version)
            if entry is not None:
                metrics.cache("response", True)
                head = method == "HEAD"
                status = await self._send_entry(send, entry, if_none_match, head, gzip_ok)
                metrics.observe_request(entry.route, method, status, time.perf_counter() - started)
                return
            metrics.cache("response", False)
        status = await self._forward(scope, receive, send, key, if_none_match)
        metrics.observe_request(
            metrics.route_template(scope), method, status, time.perf_counter() - started
        )

    async def _spend(self, principal: Principal, scope: Scope) -> None:
        limiter: RateLimiter | None = getattr(self.state, "limiter", None)
        if limiter is None:  # before the lifespan has run
            return
        client = scope.get("client")
        decision = await limiter.check(principal, client[0] if client else None)
        if decision.failed_open:
            metrics.dependency_error("redis")
        if not decision.allowed:
            metrics.rate_limited(principal.kind)
            raise RateLimited(decision.retry_after_s, decision.limit, decision.per_s)

    async def _send_entry(
        self, send: Send, entry: Entry, if_none_match: bytes | None, head: bool, gzip_ok: bool
    ) -> int:
        extra = self._freshness(entry.version)
        if if_none_match is not None and _matches(if_none_match, entry.etag):
            await _send_not_modified(send, entry.etag, entry.version, extra)
            return 304
        headers, body = entry.headers, entry.body
        if gzip_ok and entry.gzip_body is not None:
            headers, body = entry.gzip_headers, entry.gzip_body
        await send({"type": "http.response.start", "status": 200, "headers": headers + extra})
        await send({"type": "http.response.body", "body": b"" if head else body})
        return 200

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: bytes | None,
        if_none_match: bytes | None,
    ) -> int:
        """Run FastAPI; hold back a versioned or tagged 200 to cache it or turn it into a 304."""
        held: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                held["status"] = message["status"]
                headers = message.get("headers", [])
                etag = _header(headers, b"etag")
                if message["status"] == 200 and etag is not None:
                    held.update(
                        etag=etag, headers=list(headers), version=_header(headers, _VERSION)
                    )
                    return  # wait for the body
                await send(message)
            elif message["type"] == "http.response.body" and "etag" in held:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._release(scope, send, held, b"".join(chunks), key, if_none_match)
            else:
                await send(message)

        await self.app(scope, receive, capture)
        return held.get("status", 500)

    async def _release(
        self,
        scope: Scope,
        send: Send,
        held: dict[str, Any],
        body: bytes,
        key: bytes | None,
        if_none_match: bytes | None,
    ) -> None:
        etag: bytes = held["etag"]
        raw_version: bytes | None = held["version"]
        version = raw_version.decode() if raw_version is not None else None
        headers: list[tuple[bytes, bytes]] = held["headers"]
        if version is not None and key is not None:
            entry = make_entry(version, metrics.route_template(scope), etag, headers, body)
            self.responses.put(key, entry)  # kept only if it is the version now active
        extra = (
            self._freshness(version) if version is not None else [(b"cache-control", b"no-cache")]
        )
        if if_none_match is not None and _matches(if_none_match, etag):
            held["status"] = 304
            await _send_not_modified(send, etag, version, extra)
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers + extra})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )

    def _freshness(self, version: str) -> list[tuple[bytes, bytes]]:
        """Cache-Control for versioned data, and how old the version is (when it is known)."""
        reader = self.state.cache
        visibility = b"public" if self.state.authenticator.open_reads else b"private"
        headers = [(b"cache-control", visibility + b", max-age=%d" % self._max_age_s)]
        published_at = getattr(reader, "published_at", None)
        if published_at is not None and version == reader.version:
            age = max(0, int(time.time() - published_at))
            headers.append((_AGE, str(age).encode()))
        return headers


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _accepts_gzip(accept_encoding: bytes) -> bool:
    """Whether `Accept-Encoding` allows gzip (RFC 9110 §12.5.3; `q=0` refuses)."""
    for part in accept_encoding.lower().split(b","):
        coding, _, params = part.partition(b";")
        if coding.strip() not in (b"gzip", b"*"):
            continue
        weight = params.strip()
        if not weight.startswith(b"q="):
            return True
        try:
            return float(weight[2:]) > 0
        except ValueError:
            return False
    return False


def _matches(if_none_match: bytes, etag: bytes) -> bool:
    """RFC 9110 §13.1.2: weak comparison, a list of tags, or `*`."""
    if if_none_match.strip() == b"*":
        return True
    bare = etag.removeprefix(b"W/")
    return any(tag.strip().removeprefix(b"W/") == bare for tag in if_none_match.split(b","))


async def _send_not_modified(
    send: Send, etag: bytes, version: str | None, extra: list[tuple[bytes, bytes]]
) -> None:
    headers = [(b"etag", etag), *extra]
    if version is not None:
        headers.append((_VERSION, version.encode()))
    await send({"type": "http.response.start", "status": 304, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
