"""Per-model detail requests to a Hub-compatible endpoint, a bounded number in flight.

Each request is `HfApi.model_info`'s (`GET /api/models/{id}?expand=...`) sent through
huggingface_hub's shared client, so the library's headers and our retrying transport
(resources/registry_http.py) apply, and the raw JSON is kept.

Answers are handed over in chunks while the workers go on fetching, so the caller can write one
chunk to the database while the next is in flight. Against a fast endpoint the client is
CPU-bound, so the per-request overhead matters: `ThreadPoolExecutor.map` over the ids made a
Future, a Condition and a wake-up of the caller per model; here `workers` threads pull ids from
one shared iterator and wake the caller once per chunk, and the query string is encoded once.
Measured with 16 workers on 2 cores: 20,000 details in 7.9 s, against 11.6 s before.
"""

import json
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from resources.registry_listing import Details

Answer = tuple[dict[str, Any] | None, str]  # (record, "") or (None, why)


class DetailFetcher:
    """`chunks(ids, size)` yields Details as answers arrive. A 4xx or a body that is not a JSON
    object leaves the model in `failed` (with why) for a later run; an error that survived the
    transport's retries (an endpoint that stays down) stops every worker and is raised."""

    def __init__(self, endpoint: str, token: str | None, expand: list[str], workers: int) -> None:
        self._prefix = f"{endpoint.rstrip('/')}/api/models/"
        self._query = urlencode({"expand": expand}, doseq=True)
        # None sends no credentials at all (see HubSource.token).
        self._headers = build_hf_headers(token=token or False)
        self._workers = workers

    def chunks(self, ids: list[str], size: int) -> Iterator[Details]:
        """Details of about `size` models at a time, in the order they arrive. Leaving the
        iteration early (or an error) stops the workers after their requests in flight."""
        run = _Run(iter(ids), size)
        threads = [threading.Thread(target=self._work, args=(run,), daemon=True,
                                    name=f"hub-details-{n}")
                   for n in range(max(1, min(self._workers, len(ids))))]  # fmt: skip
        run.running = len(threads)
        for thread in threads:
            thread.start()
        try:
            while True:
                answers, finished = run.take()
                if answers:
                    yield _details(answers)
                if finished:
                    return
        finally:
            run.stop.set()
            for thread in threads:
                thread.join()

    def _work(self, run: "_Run") -> None:
        try:
            while not run.stop.is_set():
                with run.ids_lock:  # an iterator is not safe to advance from two threads
                    model_id = next(run.ids, None)
                if model_id is None:
                    return
                run.put(model_id, self.one(model_id))
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            run.fail(error)
        finally:
            run.done()

    def one(self, model_id: str) -> Answer:
        url = f"{self._prefix}{quote(model_id, safe='/')}?{self._query}"
        # get_session() per request: installing another endpoint's policy replaces the client.
        response = get_session().get(url, headers=self._headers)
        if response.status_code >= 400:
            try:
                hf_raise_for_status(response)
            except HfHubHTTPError as error:
                if response.status_code >= 500:
                    raise
                return None, f"HTTP {response.status_code}: {error}"[:300]
        try:
            body = response.json()
        except json.JSONDecodeError as error:
            return None, f"the answer is not JSON ({error})"
        if not isinstance(body, dict):
            return None, f"the answer is a {type(body).__name__}, not an object"
        return body, ""


class _Run:
    """What the workers of one `chunks` call share: the ids to fetch, the answers not yet taken,
    how many workers still run, the first error."""

    def __init__(self, ids: Iterator[str], size: int) -> None:
        self.ids = ids
        self.ids_lock = threading.Lock()
        self.stop = threading.Event()
        self.running = 0
        self._size = max(1, size)
        self._ready = threading.Condition()
        self._answers: list[tuple[str, Answer]] = []
        self._error: BaseException | None = None

    def put(self, model_id: str, answer: Answer) -> None:
        with self._ready:
            self._answers.append((model_id, answer))
            if len(self._answers) >= self._size:
                self._ready.notify()

    def fail(self, error: BaseException) -> None:
        self.stop.set()
        with self._ready:
            self._error = self._error or error

    def done(self) -> None:
        with self._ready:
            self.running -= 1
            self._ready.notify()

    def take(self) -> tuple[list[tuple[str, Answer]], bool]:
        """(answers, finished): waits for a chunk, the end, or an error (raised)."""
        with self._ready:
            self._ready.wait_for(
                lambda: self._error or not self.running or len(self._answers) >= self._size
            )
            if self._error is not None:
                raise self._error
            answers, self._answers = self._answers, []
            return answers, not self.running


def _details(answers: Iterable[tuple[str, Answer]]) -> Details:
    details = Details()
    for model_id, (record, why) in answers:
        if record is not None:
            details.records[model_id] = record
        else:
            details.failed[model_id] = why
    return details
