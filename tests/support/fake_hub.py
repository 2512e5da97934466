"""A small Hub-compatible HTTP server for tests (127.0.0.1, a free port, its own thread).

It speaks enough of `GET /api/models` for `huggingface_hub.HfApi.list_models`: the `author`,
`pipeline_tag` and `search` filters, `limit` as the page size, `expand` to pick fields, and
cursor pagination through a `Link: <...>; rel="next"` header, as the real Hub does. Faults can be
queued: a status (429 with Retry-After, a 5xx) or a delay, each used by the next request.
"""

import base64
import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass(frozen=True)
class Fault:
    status: int | None = None
    retry_after: str | None = None
    delay_s: float = 0.0


class FakeHub:
    """`with FakeHub(records, page_size=50) as hub:` serves `records` at `hub.url`."""

    def __init__(self, records: Iterable[dict[str, Any]], page_size: int = 1000) -> None:
        self.records = list(records)
        self.page_size = page_size  # the real Hub's largest page is 1000
        self.requests: list[dict[str, Any]] = []  # path, query and headers, in arrival order
        self._faults: deque[Fault] = deque()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        # A client that timed out leaves its handler sleeping: never wait for it on close.
        self._server.daemon_threads = True
        # A short poll keeps shutdown (and so each test) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, status: int, retry_after: str | None = None, times: int = 1) -> None:
        self._faults.extend([Fault(status=status, retry_after=retry_after)] * times)

    def delay_next(self, seconds: float) -> None:
        self._faults.append(Fault(delay_s=seconds))

    def __enter__(self) -> "FakeHub":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _next_fault(self) -> Fault | None:
        try:
            return self._faults.popleft()
        except IndexError:
            return None

    def _page(self, query: dict[str, list[str]]) -> tuple[list[dict[str, Any]], str | None]:
        """The records of one page, and the query of the next page (None on the last)."""
        one = {key: values[-1] for key, values in query.items()}
        selected = [
            r
            for r in self.records
            if one.get("author") in (None, r.get("author"))
            and one.get("pipeline_tag") in (None, r.get("pipeline_tag"))
            and one.get("search", "").lower() in r["id"].lower()
        ]
        start = int(base64.urlsafe_b64decode(one["cursor"])) if "cursor" in one else 0
        size = min(int(one.get("limit", self.page_size)), self.page_size)
        fields = query.get("expand") or query.get("expand[]")
        page = [_project(r, fields) for r in selected[start : start + size]]
        if start + size >= len(selected):
            return page, None
        cursor = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        following = {key: values for key, values in query.items() if key != "cursor"}
        return page, urlencode({**following, "cursor": [cursor]}, doseq=True)


def _project(record: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    # The Hub answers `expand` with exactly those properties, beside `_id` and `id`.
    object_id = hashlib.md5(record["id"].encode()).hexdigest()[:24]
    chosen = record if fields is None else {k: v for k, v in record.items() if k in fields}
    return {"_id": object_id, **chosen, "id": record["id"]}


def _handler_for(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            hub.requests.append({"path": url.path, "query": query, "headers": dict(self.headers)})
            fault = hub._next_fault()
            if fault and fault.delay_s:
                time.sleep(fault.delay_s)
            if fault and fault.status:
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return self._send(fault.status, {"error": "injected fault"}, extra)
            if url.path != "/api/models":
                return self._send(404, {"error": "not found"})
            page, following = hub._page(query)
            link = {"Link": f'<{hub.url}/api/models?{following}>; rel="next"'} if following else {}
            self._send(200, page, link)

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout under test): nothing left to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
