"""The app in a real uvicorn server in a thread, for the SDK and CLI tests (real HTTP)."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from tests.support.throwaway import free_port


@contextmanager
def serving(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """Serve `app` (lifespan on) on 127.0.0.1 until the block ends; yields the base URL."""
    port = port if port is not None else free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_level="warning", access_log=False,
        timeout_graceful_shutdown=2,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
