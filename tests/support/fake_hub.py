"""A small Hub-compatible HTTP server for tests and benchmarks (127.0.0.1, a free port).

It speaks enough of the Hub for huggingface_hub's listing and model-info requests:
- `GET /api/models`: the `author`, `pipeline_tag`, `search`, `gated` and `filter` (a tag, such
  as a library) filters, `sort=lastModified` (newest first, as the Hub sorts), `limit` as the
  page size, `expand` to pick fields, and cursor pagination through a `Link: <...>; rel="next"`
  header, as the real Hub does. `listing_omits` leaves fields out of listings (the real listing
  does not return safetensors counts reliably), which only the per-model answer then carries.
- `GET /api/models/{repo_id}` (and `.../revision/{rev}`): one model, `expand` honoured, 404
  for an unknown id.
Faults are queued and each is used by the next request: a status (429 with Retry-After, a 5xx),
a delay, or a 200 whose body is not JSON.

Fast enough to serve 100,000 models to a benchmark on a 2-core machine without taking the CPU
the client and PostgreSQL need: one asyncio thread with HTTP/1.1 keep-alive (a minimal parser:
GET, no bodies, no pipelining, as huggingface_hub sends), and each answer cached by its request
target until `replace`. http.server's thread per connection and email-based header parsing
cost ~110 us of CPU per request; this costs ~55 us (bench/bench_registry.py, 100,000 details).
"""

import asyncio
import base64
import hashlib
import json
import socket
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

_LISTING = "/api/models"
Answer = tuple[int, bytes, dict[str, str]]  # status, JSON body, extra headers


@dataclass(frozen=True)
class Fault:
    status: int | None = None
    retry_after: str | None = None
    delay_s: float = 0.0
    malformed: bool = False


class FakeHub:
    """`with FakeHub(records, page_size=50) as hub:` serves `records` at `hub.url`."""

    def __init__(
        self,
        records: Iterable[dict[str, Any]],
        page_size: int = 1000,
        listing_omits: Iterable[str] = (),
        keep_requests: bool = True,
    ) -> None:
        self.records = list(records)
        self.page_size = page_size  # the real Hub's largest page is 1000
        self.listing_omits = frozenset(listing_omits)
        self.requests: list[dict[str, Any]] = []  # path, query and headers, in arrival order
        self._keep_requests = keep_requests
        self.request_count = 0
        self._by_id = {r["id"]: r for r in self.records if isinstance(r.get("id"), str)}
        self._selections: dict[tuple, list[dict[str, Any]]] = {}
        self._faults: deque[Fault] = deque()
        self._lock = threading.RLock()
        self._answers: dict[str, Answer] = {}  # by request target, until `replace`
        self._failing: dict[str, int] = {}
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._loop = asyncio.new_event_loop()
        self._connections: set[_Connection] = set()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="fake-hub")

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def fail_next(self, status: int, retry_after: str | None = None, times: int = 1) -> None:
        self._faults.extend([Fault(status=status, retry_after=retry_after)] * times)

    def delay_next(self, seconds: float) -> None:
        self._faults.append(Fault(delay_s=seconds))

    def fail_model(self, model_id: str, status: int) -> None:
        """Every detail request for `model_id` answers `status` from now on."""
        self._failing[model_id] = status

    def recover_model(self, model_id: str) -> None:
        """Detail requests for `model_id` are answered again."""
        self._failing.pop(model_id, None)

    def malformed_next(self, times: int = 1) -> None:
        """The next answers are 200 with a truncated JSON body."""
        self._faults.extend([Fault(malformed=True)] * times)

    def replace(self, records: Iterable[dict[str, Any]]) -> None:
        """Serve other records from now on (a registry that changed between two syncs)."""
        with self._lock:
            self.records = list(records)
            self._by_id = {r["id"]: r for r in self.records if isinstance(r.get("id"), str)}
            self._selections.clear()
            self._answers.clear()

    def __enter__(self) -> "FakeHub":
        started = threading.Event()
        self._thread.start()
        self._loop.call_soon_threadsafe(started.set)
        started.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def _serve(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(
            loop.create_server(lambda: _Connection(self), sock=self._socket)
        )
        try:
            loop.run_forever()
        finally:
            server.close()
            for connection in list(self._connections):
                connection.abort()
            # A delayed answer still pending (its client timed out) is dropped, not awaited.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    def _next_fault(self) -> Fault | None:
        try:
            return self._faults.popleft()
        except IndexError:
            return None

    def _record(self, request: dict[str, Any]) -> None:
        with self._lock:
            self.request_count += 1
            if self._keep_requests:
                self.requests.append(request)

    def _answer(self, method: str, target: str, fault: Fault | None) -> Answer:
        if fault and fault.status:
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return fault.status, _json({"error": "injected fault"}), extra
        if method != "GET":
            return 405, _json({"error": f"{method} is not allowed"}), {}
        if self._failing:
            status = self._failing.get(_repo_id(urlsplit(target).path) or "")
            if status:
                return status, _json({"error": "injected fault"}), {}
        with self._lock:  # held while computing: `replace` cannot slip a stale answer in
            answer = self._answers.get(target)
            if answer is None:
                answer = self._answers[target] = self._compute(target)
        if fault and fault.malformed:
            status, payload, extra = answer
            return status, payload[: max(1, len(payload) // 2)], extra
        return answer

    def _compute(self, target: str) -> Answer:
        url = urlsplit(target)
        query = parse_qs(url.query)
        if url.path == _LISTING:
            page, following = self._page(query)
            link = {"Link": f'<{self.url}{_LISTING}?{following}>; rel="next"'} if following else {}
            return 200, _json(page), link
        if repo_id := _repo_id(url.path):
            record = self._by_id.get(repo_id)
            if record is None:
                missing = {"error": f"Repository {repo_id} not found"}
                return 404, _json(missing), {"X-Error-Code": "RepoNotFound"}
            return 200, _json(_project(record, query.get("expand") or query.get("expand[]"))), {}
        return 404, _json({"error": "not found"}), {}

    def _selected(self, one: dict[str, str]) -> list[dict[str, Any]]:
        key = tuple(one.get(k) for k in ("author", "pipeline_tag", "search", "gated", "filter",
                                          "sort"))  # fmt: skip
        with self._lock:
            if key not in self._selections:
                self._selections[key] = _select(self.records, one)
            return self._selections[key]

    def _page(self, query: dict[str, list[str]]) -> tuple[list[dict[str, Any]], str | None]:
        """The records of one page, and the query of the next page (None on the last)."""
        one = {key: values[-1] for key, values in query.items()}
        selected = self._selected(one)
        start = int(base64.urlsafe_b64decode(one["cursor"])) if "cursor" in one else 0
        size = min(int(one.get("limit", self.page_size)), self.page_size)
        fields = query.get("expand") or query.get("expand[]")
        page = [_project(r, fields, self.listing_omits) for r in selected[start : start + size]]
        if start + size >= len(selected):
            return page, None
        cursor = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        following = {key: values for key, values in query.items() if key != "cursor"}
        return page, urlencode({**following, "cursor": [cursor]}, doseq=True)


def _select(records: list[dict[str, Any]], one: dict[str, str]) -> list[dict[str, Any]]:
    gated = {"True": True, "true": True, "False": False, "false": False}.get(one.get("gated", ""))
    selected = [
        r
        for r in records
        if one.get("author") in (None, r.get("author"))
        and one.get("pipeline_tag") in (None, r.get("pipeline_tag"))
        and one.get("search", "").lower() in str(r.get("id", "")).lower()
        and (gated is None or bool(r.get("gated")) == gated)
        and (one.get("filter") is None or one["filter"] in (r.get("tags") or []))
    ]
    if one.get("sort") == "lastModified":
        selected.sort(key=lambda r: str(r.get("lastModified") or ""), reverse=True)
    return selected


def _project(record: dict[str, Any], fields: list[str] | None, omit=frozenset()) -> dict[str, Any]:
    # The Hub answers `expand` with exactly those properties, beside `_id` and `id`.
    object_id = hashlib.md5(str(record.get("id")).encode()).hexdigest()[:24]
    chosen = {k: v for k, v in record.items() if (fields is None or k in fields) and k not in omit}
    return {"_id": object_id, **chosen, **({"id": record["id"]} if "id" in record else {})}


def _repo_id(path: str) -> str | None:
    if not path.startswith(_LISTING + "/"):
        return None
    return unquote(path[len(_LISTING) + 1 :]).split("/revision/")[0]


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


class _Connection(asyncio.Protocol):
    """One keep-alive client connection: requests are answered one at a time, in order."""

    def __init__(self, hub: FakeHub) -> None:
        self._hub = hub
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._busy = False  # a delayed answer is pending: later requests wait for it

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._hub._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._hub._connections.discard(self)

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._serve_buffered()

    def _serve_buffered(self) -> None:
        while not self._busy and (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self._buffer[:end]).decode("latin-1")
            del self._buffer[: end + 4]
            request_line, *header_lines = head.split("\r\n")
            method, target, _version = request_line.split(" ", 2)
            headers = dict(_header(line) for line in header_lines if ":" in line)
            url = urlsplit(target)
            query = parse_qs(url.query)
            self._hub._record({"path": url.path, "query": query, "headers": headers})
            fault = self._hub._next_fault()
            close = headers.get("connection", "").lower() == "close"
            if fault and fault.delay_s:
                self._busy = True
                answer = asyncio.get_running_loop().call_later
                answer(fault.delay_s, self._answer_late, method, target, fault, close)
                return
            self._send(self._hub._answer(method, target, fault), close)

    def _answer_late(self, method: str, target: str, fault: Fault, close: bool) -> None:
        self._busy = False
        self._send(self._hub._answer(method, target, fault), close)
        self._serve_buffered()

    def _send(self, answer: Answer, close: bool) -> None:
        if self._transport is None or self._transport.is_closing():
            return  # the client gave up (a timeout under test): nothing left to answer
        status, payload, extra = answer
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
                 "Content-Type: application/json", f"Content-Length: {len(payload)}",
                 *(f"{name}: {value}" for name, value in extra.items())]  # fmt: skip
        self._transport.write("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + payload)
        if close:
            self._transport.close()


def _header(line: str) -> tuple[str, str]:
    name, value = line.split(":", 1)
    return name.strip().lower(), value.strip()
