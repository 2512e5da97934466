"""Serving throughput and latency, side by side with the baselines, in one run.

    .venv/bin/python bench/bench_serving.py [--seconds 10]

What it does, on this 2-core machine: builds the real catalog (the pipeline, on a scratch
PostgreSQL database and Redis db 15), then runs each server pinned to core 0 and `wrk` (64
connections) pinned to core 1:

- baselines: a bare ASGI hello on granian and on uvicorn, and a FastAPI hello on granian;
- our API on granian: each hot read alone (a ranking, a Pareto front, a model page, the GPU list),
  then a Zipf(1.1) mix over every model page, ranking and front the catalog has, authenticated
  with an API key and rate-limited (a limit high enough not to reject);
- the same mix with the response cache switched off (FastAPI renders every answer from Redis
  bytes) and on uvicorn, to show what each part is worth.

It prints one table (requests/s, p50/p95/p99, ratio to the bare hello on granian; each row the
median of three runs) and the cache hit ratios read from the API's own /metrics after the mix.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from resources.cache_keys import VERSION_KEY, data_key  # noqa: E402
from resources.db.migrate import upgrade  # noqa: E402
from resources.settings import Settings  # noqa: E402
from serving.metrics import cache_counts, hit_ratio  # noqa: E402

VENV = Path(sys.executable).parent
PORT = 8711
API_KEY = "bench-" + "k" * 40
REDIS_DB = 15
ZIPF_S = 1.1
DRAWS = 200_000
REPEATS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    settings = Settings(database_url=None, redis_url=None)
    with scratch_catalog(settings) as (db_url, cache_url):
        env = api_env(db_url, cache_url)
        paths, mix_file = hot_paths(cache_url)
        rows = []
        hello = server("granian", "bench.serving_apps:hello")
        rows.append(("bare ASGI hello", "granian", wrk_run(hello, "/", args.seconds)))
        rows.append(
            (
                "bare ASGI hello",
                "uvicorn",
                wrk_run(server("uvicorn", "bench.serving_apps:hello"), "/", args.seconds),
            )
        )
        fastapi = server("granian", "bench.serving_apps:fastapi_hello")
        rows.append(("FastAPI hello", "granian", wrk_run(fastapi, "/", args.seconds)))

        api = server("granian", "serving.app:create_app", factory=True, env=env)
        for name, path in paths.items():
            rows.append((f"API {name}", "granian", wrk_run(api, path, args.seconds, key=True)))
        ranking = paths["ranking"]
        plain = wrk_run(api, ranking, args.seconds, key=True, gzip=False)
        rows.append(("API ranking, no Accept-Encoding", "granian", plain))
        before = scrape(api)
        rows.append(
            ("API Zipf mix", "granian", wrk_run(api, "/", args.seconds, key=True, mix=mix_file))
        )
        ratios = cache_ratios(before, scrape(api))
        uncached_env = {**env, "CATALOG_RESPONSE_CACHE_MB": "0"}
        api_nocache = server("granian", "serving.app:create_app", factory=True, env=uncached_env)
        rows.append(
            (
                "API Zipf mix, response cache off",
                "granian",
                wrk_run(api_nocache, "/", args.seconds, key=True, mix=mix_file),
            )
        )
        api_uvicorn = server("uvicorn", "serving.app:create_app", factory=True, env=env)
        rows.append(
            (
                "API Zipf mix",
                "uvicorn",
                wrk_run(api_uvicorn, "/", args.seconds, key=True, mix=mix_file),
            )
        )
        report(rows, ratios, len(set(Path(mix_file).read_text().split())))


# -- the catalog ------------------------------------------------------------------------------


@contextmanager
def scratch_catalog(settings: Settings):
    server_url = make_url(settings.test_database_url)
    name = f"bench_serving_{os.getpid()}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = server_url.set(database=name).render_as_string(hide_password=False)
    cache_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    redis.Redis.from_url(cache_url).flushdb()
    try:
        upgrade(db_url)
        print("building the catalog (pipeline run) ...", flush=True)
        env = {**os.environ, "CATALOG_DATABASE_URL": db_url, "CATALOG_REDIS_URL": cache_url}
        subprocess.run(
            [str(VENV / "modelcat"), "pipeline", "run"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )
        yield db_url, cache_url
    finally:
        redis.Redis.from_url(cache_url).flushdb()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def api_env(db_url: str, cache_url: str) -> dict[str, str]:
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    return {
        **os.environ,
        "CATALOG_DATABASE_URL": db_url,
        "CATALOG_REDIS_URL": cache_url,
        "CATALOG_JWT_SECRET": "bench-secret-" + "s" * 40,
        "CATALOG_OPEN_READS": "false",
        "CATALOG_API_KEYS": json.dumps(
            {"bench": {"key_sha256": digest, "scopes": ["catalog:read"]}}
        ),
        # High enough never to reject: the bench measures the limiter's cost, not its limit.
        "CATALOG_RATE_LIMIT_PER_S": "1000000",
        "CATALOG_RATE_LIMIT_BURST": "1000000",
    }


def hot_paths(cache_url: str) -> tuple[dict[str, str], str]:
    """One path per hot read, and a file of Zipf(1.1) draws over every hot path there is."""
    client = redis.Redis.from_url(cache_url)
    version = client.get(VERSION_KEY).decode()
    prefix = data_key(version, "")
    population = []
    for key in client.scan_iter(match=prefix + "*", count=1000):
        parts = key.decode()[len(prefix) :].split(":")
        if parts[0] == "rec":
            task, gpu, profile = parts[1:4]
            population.append(f"/recommendations?task={task}&gpu={gpu}&profile={profile}")
        elif parts[0] == "pareto":
            task, gpu, x, y = parts[1:5]
            population.append(f"/pareto?task={task}&gpu={gpu}&x={x}&y={y}")
        elif parts[0] == "model":
            population.append("/models/" + ":".join(parts[1:]))
        elif parts[0] == "gpus":
            population.append("/gpus")
    population = [httpx.URL(p).raw_path.decode() for p in sorted(population)]
    rng = np.random.default_rng(7)
    rng.shuffle(population)  # popularity independent of the key's name
    ranks = np.arange(1, len(population) + 1)
    weights = ranks**-ZIPF_S
    draws = rng.choice(len(population), size=DRAWS, p=weights / weights.sum())
    mix_file = Path("/tmp") / f"bench_serving_mix_{os.getpid()}.txt"
    mix_file.write_text("\n".join(population[i] for i in draws) + "\n")
    first = {kind: next(p for p in population if p.startswith(kind)) for kind in _KINDS}
    return {name: first[kind] for kind, name in _KINDS.items()}, str(mix_file)


_KINDS = {
    "/recommendations?": "ranking",
    "/pareto?": "Pareto front",
    "/models/": "model page",
    "/gpus": "GPU list",
}


# -- servers and load --------------------------------------------------------------------------


class Server:
    def __init__(self, process: subprocess.Popen, label: str):
        self.process = process
        self.label = label
        self.url = f"http://127.0.0.1:{PORT}"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_current: Server | None = None


def server(kind: str, target: str, *, factory: bool = False, env: dict | None = None) -> Server:
    """Start `target` on core 0 (stopping the previous server), wait until it answers."""
    global _current
    if _current is not None:
        _current.stop()
    if kind == "granian":
        command = [str(VENV / "granian"), "--interface", "asgi", "--no-ws", "--port", str(PORT)]
        command += ["--log-level", "warning", "--no-access-log"]
        command += ["--factory"] if factory else []
    else:
        command = [str(VENV / "uvicorn"), "--port", str(PORT), "--no-access-log"]
        command += ["--log-level", "warning", "--loop", "uvloop", "--http", "httptools"]
        command += ["--factory"] if factory else []
    process = subprocess.Popen(
        ["taskset", "-c", "0", *command, target],
        env={**(env or os.environ), "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    _current = Server(process, f"{target} on {kind}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(_current.url + "/health/live" if factory else _current.url, timeout=1)
            return _current
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError(f"{_current.label} did not start")


def wrk_run(
    srv: Server,
    path: str,
    seconds: int,
    *,
    key: bool = False,
    mix: str | None = None,
    gzip: bool = True,
) -> dict:
    """wrk against `path` (or the paths in `mix`); API runs send an API key, and, like browsers
    and HTTP libraries do, `Accept-Encoding: gzip` unless `gzip=False`."""
    encoding = "gzip" if gzip else ""
    args = [mix or "", API_KEY if key else "", encoding]
    headers = {"X-API-Key": API_KEY} if key else {}
    headers["Accept-Encoding"] = encoding or "identity"
    # Warm up: first touches fill the caches; the bytes on the wire are those of a warm answer.
    _wrk(srv.url + path, 2, args)
    wire = httpx.get(srv.url + path, headers=headers, timeout=5).num_bytes_downloaded
    # This VM's throughput drifts by tens of percent from one run to the next: report the run
    # with the median requests/s of three.
    runs = sorted((_wrk(srv.url + path, seconds, args) for _ in range(REPEATS)), key=_rps)
    result = runs[len(runs) // 2]
    result["bytes"] = None if mix else wire
    if result["non2xx"] or result["socket_errors"]:
        print(f"  warning: {srv.label} {path}: {result}", flush=True)
    return result


def _rps(result: dict) -> float:
    return result["rps"]


def _wrk(url: str, seconds: int, args: list[str]) -> dict:
    script = str(ROOT / "bench" / "wrk_report.lua")
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{seconds}s", "-s", script, url]
    out = subprocess.run([*command, "--", *args], capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRK_JSON "))
    return json.loads(line.removeprefix("WRK_JSON "))


def scrape(srv: Server) -> str:
    return httpx.get(srv.url + "/metrics", timeout=5).text


def cache_ratios(before: str, after: str) -> dict[str, float | None]:
    """Hit ratios of the mix alone (the difference of two scrapes), per layer and overall.

    Layers in order: whole responses (the edge), the reader's in-process LRU, Redis. A request
    is answered without PostgreSQL when any of them hits.
    """
    b, a = cache_counts(before), cache_counts(after)
    delta = {k: a[k] - b.get(k, 0.0) for k in a}
    layers = {layer: hit_ratio(delta, layer) for layer in ("response", "memory", "redis")}
    reads = delta.get(("response", "hit"), 0) + delta.get(("response", "miss"), 0)
    hits = sum(delta.get((layer, "hit"), 0) for layer in ("response", "memory", "redis"))
    layers["answered without PostgreSQL"] = hits / reads if reads else None
    return layers


def report(rows: list, ratios: dict, distinct: int) -> None:
    base = rows[0][2]["rps"]
    print()
    print(
        "| what | server | body bytes | req/s | ratio to bare hello (granian) "
        "| p50 ms | p95 ms | p99 ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, kind, r in rows:
        size = "mixed" if r.get("bytes") is None else f"{r['bytes']:,}"
        print(
            f"| {name} | {kind} | {size} | {r['rps']:,.0f} | {r['rps'] / base:.2f} | "
            f"{r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['p99_ms']:.2f} |"
        )
    print()
    print(f"Zipf({ZIPF_S}) mix over {distinct} distinct hot paths; cache hit ratios from /metrics:")
    for layer, ratio in ratios.items():
        shown = "n/a" if ratio is None else f"{ratio:.2%}"
        print(f"  {layer}: {shown}")


if __name__ == "__main__":
    try:
        main()
    finally:
        if _current is not None:
            _current.stop()
