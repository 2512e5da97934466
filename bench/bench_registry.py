"""Registry ingestion at scale: 100,000 models from a Hub-compatible server on 127.0.0.1
(tests/support/fake_hub.py), through the real client code (huggingface_hub's pagination, the
retrying transport, per-model details on a thread pool) into the real PostgreSQL (a throwaway
database, created and dropped here).

The 100,000 records are the 276 real models of the Hub export (plus their fields), repeated
with varied ids (`<author>/<name>-r<n>`), deterministic. The listing omits safetensors counts,
as the real Hub's listing does not return them reliably, so the first run fetches every model's
details; the second run (nothing changed) pages the listing only.

    .venv/bin/python bench/bench_registry.py [--models 100000] [--workers 16]

Measured on the shared 2-core VM (load average ~4 from other work), 100,000 models, 16 workers:
first run 47.9 s (goal <= 60 s; was 74.7-111 s), second run 4.4 s (was 9.5-32.8 s). Where the
first run went: the client is CPU-bound at ~300 us per detail request inside httpx, so the
rest was taken off its thread: writes overlap the fetching and go as one JSON document per
5,000 rows (assets/registry/store.py), answers are handed over per chunk rather
than per Future (resources/registry_details.py), and the fake Hub answers from a cache on one
asyncio thread (~55 us of CPU a request, was ~110 us). The second run writes nothing: unchanged
rows are compared in Python and never sent (assets/registry/writer.py). Each run prints its
seconds per stage; `details` includes the writes made while fetching.

Committing each chunk of 2,000 rows in its own transaction (no transaction open while details
are fetched) instead of one transaction per source cost nothing measurable: before 47.2 s /
4.0 s, after 45.5-46.8 s / 3.7-4.6 s (same machine and load, run to run noise ~2 s).
"""

import argparse
import multiprocessing
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assets.registry.sync import sync_source  # noqa: E402
from resources.db.migrate import upgrade  # noqa: E402
from resources.registry import HubSource  # noqa: E402
from resources.settings import get_settings  # noqa: E402
from tests.integration.registry.hub_records import real_records  # noqa: E402
from tests.support.fake_hub import FakeHub  # noqa: E402


def synthesise(count: int) -> list[dict]:
    """`count` Hub records: the real ones, then copies with a round suffix on the id."""
    real = real_records()
    records = []
    for n in range(count):
        base = real[n % len(real)]
        round_ = n // len(real)
        model_id = base["id"] if round_ == 0 else f"{base['id']}-r{round_}"
        sha = f"{n:040x}"
        records.append({**base, "id": model_id, "sha": sha})
    return records


def serve(records: list[dict], address: "multiprocessing.Queue", stop) -> None:
    # Its own process, as a real registry is: sharing the client's GIL would halve both.
    with FakeHub(records, listing_omits=["safetensors"], keep_requests=False) as hub:
        address.put(hub.url)
        stop.wait()


def throwaway_database() -> tuple[str, object]:
    server = make_url(get_settings().test_database_url)
    name = f"bench_registry_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return server.set(database=name).render_as_string(hide_password=False), admin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    records = synthesise(args.models)
    url, admin = throwaway_database()
    try:
        upgrade(url)
        engine = create_engine(url)
        context = multiprocessing.get_context("fork")
        address, stop = context.Queue(), context.Event()
        server = context.Process(target=serve, args=(records, address, stop), daemon=True)
        server.start()
        try:
            source = HubSource(name="bench", endpoint=address.get(timeout=60),
                               detail_workers=args.workers)  # fmt: skip
            timings = []
            for label in ("first run", "second run (nothing changed)"):
                started = time.perf_counter()
                report = sync_source(engine, source, ["bench"])
                timings.append((label, time.perf_counter() - started, report))
        finally:
            stop.set()
            server.join(timeout=10)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM models")).scalar_one()
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()
    print(f"{args.models:,} models, {args.workers} detail workers; {stored:,} rows stored")
    stages = ("read", "listing", "parse", "details", "write")
    print(f"{'run':<30} {'wall s':>7} {'models/s':>9} {'details':>8} {'details/s':>10} "
          f"{'written':>8} {'rows/s':>8}  " + " ".join(f"{s:>7}" for s in stages))  # fmt: skip
    for label, elapsed, report in timings:
        written = len(report.new) + report.changed + report.updated
        # Rows are written while details are fetched: both rates are over the whole run.
        print(f"{label:<30} {elapsed:>7.1f} {report.listed / elapsed:>9,.0f} "
              f"{report.details_fetched:>8,} {report.details_fetched / elapsed:>10,.0f} "
              f"{written:>8,} {written / elapsed:>8,.0f}  "
              + " ".join(f"{report.timings.get(s, 0.0):>7.1f}" for s in stages))  # fmt: skip


if __name__ == "__main__":
    main()
