"""Pipes message readers that also keep the harness's own failure reason.

When the harness raises inside `open_dagster_pipes()`, its `closed` message carries the exception
("ModelNotFound: no model 'x'"). Dagster turns that into an engine event only, and the client then
raises a bare "exited with code 1". These readers keep the message, so `BenchmarkFailed` can say
why. They wrap the handler they are given; everything else is the stock reader's behaviour.

The object store hands out the file and S3 readers (`ObjectStoreResource.pipes_message_reader`),
the local launcher the subprocess one, the Kubernetes launcher the pod-logs one
(resources/launcher_k8s.py) when the store is not reachable from pods.
"""

import random
import string
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster import PipesFileMessageReader, PipesMessageHandler, PipesTempFileMessageReader
from dagster_aws.pipes import PipesS3MessageReader
from dagster_pipes import PipesBlobStoreMessageWriter, PipesParams


class _ClosedExceptionSpy:
    """Forwards every call to the real handler, noting the exception of a `closed` message."""

    def __init__(self, handler: PipesMessageHandler, errors: list[str]) -> None:
        self._handler = handler
        self._errors = errors

    def handle_message(self, message: Any) -> None:
        if isinstance(message, dict) and message.get("method") == "closed":
            exception = (message.get("params") or {}).get("exception")
            if exception:
                name, text = exception.get("name") or "Error", exception.get("message") or ""
                # Some messages already start with the (qualified) exception name.
                self._errors.append(text if name in text.split(":", 1)[0] else f"{name}: {text}")
        self._handler.handle_message(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handler, name)


class RecordsHarnessError:
    """Mixin for a PipesMessageReader: `harness_error` after the session, None if it closed well."""

    _errors: list[str]

    @property
    def harness_error(self) -> str | None:
        errors = getattr(self, "_errors", [])
        return errors[-1] if errors else None

    @contextmanager
    def read_messages(self, handler: PipesMessageHandler) -> Iterator[PipesParams]:
        self._errors = []
        spy = _ClosedExceptionSpy(handler, self._errors)
        with super().read_messages(spy) as params:  # type: ignore[misc]
            yield params


class SubprocessMessageReader(RecordsHarnessError, PipesTempFileMessageReader):
    """The subprocess client's default reader (a temp file), keeping the failure reason."""


class FileMessageReader(RecordsHarnessError, PipesFileMessageReader):
    """Messages in a file at a path of the caller's choosing, keeping the failure reason."""


class S3MessageReader(RecordsHarnessError, PipesS3MessageReader):
    """Messages through S3: they outlive a reclaimed spot node whose pod logs vanish with it.

    Every session writes under `prefix/<random>/` (upstream writes at the bucket root, out of
    reach of a prefix-scoped lifecycle rule), so one bucket serves many deployments.
    """

    def __init__(self, *, prefix: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prefix = prefix.strip("/")

    @contextmanager
    def get_params(self) -> Iterator[PipesParams]:
        session = "".join(random.choices(string.ascii_letters, k=30))
        key_prefix = f"{self.prefix}/{session}" if self.prefix else session
        yield {
            "bucket": self.bucket,
            "key_prefix": key_prefix,
            PipesBlobStoreMessageWriter.INCLUDE_STDIO_IN_MESSAGES_KEY: (
                self.include_stdio_in_messages
            ),
        }
