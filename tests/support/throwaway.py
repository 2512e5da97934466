"""Real, private Redis and PostgreSQL servers that a test may kill, hang and bring back.

The shared test services must never be killed or paused (other tests use them), so the
resilience tests start their own: `redis-server` without persistence and a fresh `initdb`
cluster with trust auth, each on a free 127.0.0.1 port with its files in a temporary directory.
"Hung" is SIGSTOP: the kernel still accepts TCP connections and buffers what clients send, but
nothing ever answers, which is what a wedged server or a stalled VM looks like to a client.

PostgreSQL refuses to run as root; as root (CI containers) the cluster belongs to the `postgres`
user and its commands run through `runuser`.
"""

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import NoReturn

import pytest
import redis

from resources.settings import Settings

_START_TIMEOUT_S = 20


class Missing(RuntimeError):
    """A server binary this machine lacks."""


def unavailable(error: Missing, settings: Settings) -> NoReturn:
    """Skip loudly, or fail where services are required (as tests/conftest.py does)."""
    message = f"{error}; the resilience tests start their own servers with it"
    if settings.require_services:
        pytest.fail(message + " (CATALOG_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip("SKIPPED LOUDLY: " + message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # a child that exited in between
            os.kill(pid, sig)


class ThrowawayRedis:
    """`with ThrowawayRedis(tmp) as server:` a redis-server at `server.url`, no persistence."""

    def __init__(self, workdir: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            raise Missing("redis-server is not on PATH")
        self._binary = binary
        self._workdir = workdir
        self.port = free_port()
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start (or start again, on the same port and empty: nothing is persisted)."""
        self._process = subprocess.Popen(
            [self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self._workdir), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + _START_TIMEOUT_S
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError as error:
                    if self._process.poll() is not None or time.monotonic() > deadline:
                        message = f"redis-server on port {self.port} did not start"
                        raise RuntimeError(message) from error
                    time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: clients see refused connections from now on."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def pause(self) -> None:
        assert self._process is not None, "not running"
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    def __enter__(self) -> "ThrowawayRedis":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


def _pg_bindir() -> Path:
    on_path = shutil.which("pg_ctl")
    if on_path is not None:
        return Path(on_path).resolve().parent
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not installed:
        raise Missing("pg_ctl is neither on PATH nor under /usr/lib/postgresql/*/bin")
    return installed[-1].parent


class ThrowawayPostgres:
    """`with ThrowawayPostgres() as server:` a fresh cluster at `server.url` (database postgres)."""

    def __init__(self):
        self._bindir = _pg_bindir()
        self.port = free_port()
        # Not pytest's tmp_path: its parents are private to root, and the server may not be root.
        self._root = Path(tempfile.mkdtemp(prefix="catalog-pg-"))
        self._data = self._root / "data"
        self._as_owner: list[str] = []
        try:
            if os.geteuid() == 0:
                self._as_owner = ["runuser", "-u", "postgres", "--"]
                os.chown(self._root, *_postgres_user())
            self._pg(
                "initdb", "-D", str(self._data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--locale=C", "--no-sync",
            )  # fmt: skip
        except BaseException:
            shutil.rmtree(self._root, ignore_errors=True)
            raise

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def running(self) -> bool:
        return (self._data / "postmaster.pid").exists()

    def start(self) -> None:
        """Start, or start again after `kill` (with crash recovery, as after a real crash)."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self._root} "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        self._pg(
            "pg_ctl", "-D", str(self._data), "-l", str(self._root / "server.log"), "-o", options,
            "-w", "-t", str(_START_TIMEOUT_S), "start",
        )  # fmt: skip

    def kill(self) -> None:
        """`pg_ctl stop -m immediate`: every backend dies at once, no shutdown checkpoint."""
        self.resume()  # a stopped postmaster cannot obey
        if self.running:
            self._pg("pg_ctl", "-D", str(self._data), "-m", "immediate", "-w", "stop")

    def restart(self) -> None:
        self.kill()
        self.start()

    def pause(self) -> None:
        """SIGSTOP the postmaster (first, so it forks no one) and every process it started."""
        postmaster = self._postmaster()
        _signal([postmaster], signal.SIGSTOP)
        _signal(_children(postmaster), signal.SIGSTOP)

    def resume(self) -> None:
        if self.running:
            postmaster = self._postmaster()
            _signal(_children(postmaster), signal.SIGCONT)
            _signal([postmaster], signal.SIGCONT)

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> "ThrowawayPostgres":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _postmaster(self) -> int:
        return int((self._data / "postmaster.pid").read_text().split()[0])

    def _pg(self, program: str, *args: str) -> None:
        command = [*self._as_owner, str(self._bindir / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self._root)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr[-2000:]}")


def _postgres_user() -> tuple[int, int]:
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        raise Missing("running as root, and there is no postgres user to run PostgreSQL") from None
    return owner.pw_uid, owner.pw_gid


def _children(parent: int) -> list[int]:
    """The direct children of `parent`, from /proc (PostgreSQL's processes are all direct)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited while we looked
            continue
        if int(fields[1]) == parent:  # fields: state, ppid, ...
            children.append(int(stat.parent.name))
    return children
