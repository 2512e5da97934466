"""`modelcat`: run the pipeline, serve the API, or both (`modelcat up`); back up and restore; and
ask the API (`models search|show`, `recommend`, `benchmarks request|status`: `api_commands`)."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from modelcat import api_commands
from modelcat.api_commands import Json
from modelcat.output import console, err
from modelcat.registry_commands import registry_app
from resources.settings import REPO_ROOT, Settings, get_settings

app = typer.Typer(help="Model Catalog: which model to run on which GPU, at what latency and cost.",
                  no_args_is_help=True, pretty_exceptions_enable=False)  # fmt: skip
pipeline_app = typer.Typer(help="The Dagster asset graph.", no_args_is_help=True)
app.add_typer(pipeline_app, name="pipeline")
recommendations_app = typer.Typer(help="Published recommendations.", no_args_is_help=True)
app.add_typer(recommendations_app, name="recommendations")
app.add_typer(api_commands.models_app, name="models")
app.add_typer(api_commands.benchmarks_app, name="benchmarks")
app.add_typer(registry_app, name="registry")
app.command()(api_commands.recommend)


def _prepare(settings: Settings) -> dict[str, str]:
    """Start the embedded stores if needed; return the environment child processes inherit."""
    from resources.db.migrate import upgrade
    from resources.mode import store_urls

    database_url, redis_url = store_urls(settings)
    upgrade(database_url)
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    env = {
        "CATALOG_DATABASE_URL": database_url,
        "CATALOG_REDIS_URL": redis_url,
        "DAGSTER_HOME": str(home),
    }
    os.environ.update(env)
    get_settings.cache_clear()
    return env


@pipeline_app.command("run")
def pipeline_run(job: str = typer.Option("catalog_job", help="Job to run.")) -> None:
    """Materialize the asset graph in-process (embedded stores unless configured)."""
    _prepare(get_settings())
    _run_job(job)


def _run_job(job: str) -> None:
    from dagster import DagsterInstance

    from orchestration.definitions import defs

    started = time.perf_counter()
    with DagsterInstance.get() as instance:
        result = _execute_with_progress(defs.resolve_job_def(job), instance)
    elapsed = time.perf_counter() - started
    table = Table("asset", "rows / result", title=f"{job}: {elapsed:.1f} s")
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        meta = mat.metadata
        shown = next((meta[k].value for k in ("rows", "configurations", "models_in_catalog",
                      "items", "keys") if k in meta), "")  # fmt: skip
        table.add_row(mat.asset_key.to_user_string(), str(shown))
    console.print(table)
    failed_checks = [
        e.asset_check_evaluation_data.check_name
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and not e.asset_check_evaluation_data.passed
    ]
    if failed_checks:
        err.print(f"[yellow]failed asset checks:[/] {', '.join(failed_checks)}")
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                cause = _root_cause(event.step_failure_data.error)
                err.print(f"[red]{event.step_key} failed:[/] {cause}", soft_wrap=True)
        raise typer.Exit(1)


def _execute_with_progress(job_def, instance):
    """Run the job in process (in a worker thread) with a progress bar over its steps, read from
    the run's event log as the steps finish."""
    from concurrent.futures import ThreadPoolExecutor

    from dagster import DagsterEventType
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    run_id = str(uuid.uuid4())  # chosen here, so the event log can be read while it runs
    finished = {DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE,
                DagsterEventType.STEP_SKIPPED}  # fmt: skip
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with (
        ThreadPoolExecutor(1) as pool,
        Progress(*columns, console=console, transient=True) as progress,
    ):
        bar = progress.add_task(f"{job_def.name}: starting", total=len(job_def.graph.nodes))
        future = pool.submit(
            job_def.execute_in_process,
            instance=instance,
            raise_on_error=False,
            run_id=run_id,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        while not future.done():
            time.sleep(0.5)
            try:
                steps = [e.step_key for e in instance.all_logs(run_id, of_type=finished)]
            except Exception:  # noqa: BLE001 - the bar is cosmetic; a busy store retries next tick
                continue
            if steps:
                progress.update(
                    bar, completed=len(steps), description=f"{job_def.name}: {steps[-1]}"
                )
        return future.result()


def _root_cause(error) -> str:
    """The innermost error's message: the part that names the bad file and line."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


@app.command()
def serve(
    host: str = typer.Option(None, help="Bind address (default: settings)."),
    port: int = typer.Option(None, help="Port (default: settings)."),
    workers: int = typer.Option(None, help="Worker processes (default: settings)."),
) -> None:
    """Serve the API (granian, ASGI)."""
    from granian import Granian
    from granian.constants import Interfaces

    settings = get_settings()
    _prepare(settings)
    Granian(
        "serving.app:create_app",
        factory=True,
        interface=Interfaces.ASGI,
        address=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers or settings.api_workers,
        websockets=False,
        log_access=False,
        # A worker that dies (out of memory, a native crash) is replaced, not left missing.
        respawn_failed_workers=True,
    ).serve()


@app.command()
def up(skip_pipeline: bool = typer.Option(False, help="Serve what is already loaded.")) -> None:
    """Run the whole pipeline on the real data, then serve the API and the Dagster UI."""
    settings = get_settings()
    env = {**os.environ, **_prepare(settings)}
    if not skip_pipeline:
        _run_job("catalog_job")
    bin_dir = Path(sys.executable).parent
    children = [
        subprocess.Popen(
            [str(bin_dir / "dagster-webserver"), "-w", str(REPO_ROOT / "workspace.yaml"),
             "-h", settings.api_host, "-p", str(settings.dagster_port)],
            env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "modelcat", "serve"], env=env, cwd=REPO_ROOT
        ),
    ]  # fmt: skip
    api = f"http://{settings.api_host}:{settings.api_port}"
    console.print(f"[bold green]API[/]        {api}  (docs: {api}/docs)")
    console.print(f"[bold green]Dagster UI[/] http://{settings.api_host}:{settings.dagster_port}")
    example = f"{api}/recommendations?task=lm-arena-chat&gpu=B200-180GB&profile=balanced"
    console.print(f"try: curl '{example}'", soft_wrap=True)
    console.print("Ctrl-C stops both.")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the children too
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.send_signal(signal.SIGINT)
        for child in children:
            child.wait(timeout=15)


@recommendations_app.command("rollback")
def recommendations_rollback() -> None:
    """Serve the previous recommendations version again (PostgreSQL and Redis)."""
    from modelcat.rollback import rollback
    from resources.cache import RedisResource
    from resources.db.engine import make_engine
    from resources.mode import store_urls

    database_url, redis_url = store_urls(get_settings())
    engine = make_engine(database_url)
    try:
        done = rollback(engine, RedisResource(url=redis_url))
    except LookupError as error:
        err.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(f"recommendations: {done.database[0]} -> {done.database[1]}")
    if done.cache:
        console.print(f"serving cache:   {done.cache[0]} -> {done.cache[1]}")
    else:
        console.print("serving cache:   no older version in Redis; run the serving_cache asset")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@app.command()
def down() -> None:
    """Stop the embedded PostgreSQL and Redis (their data stays)."""
    from resources import embedded

    try:
        embedded.stop(get_settings().home)
    except RuntimeError as error:
        err.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from None
    console.print("embedded stores stopped")


# -- recovery: PostgreSQL is backed up; the serving cache is rebuilt from it -------------------


@contextmanager
def _recovery_errors() -> Iterator[None]:
    """A failed backup or restore becomes one line on stderr and exit status 1."""
    from modelcat.recovery import RecoveryError

    try:
        yield
    except RecoveryError as error:
        err.print(f"[red]error:[/] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from None


@app.command()
def backup(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Archive (default: <home>/backups/catalog-<UTC>.dump)."
        ),
    ] = None,
) -> None:
    """Back up the catalog database (pg_dump, custom format), with a manifest beside it."""
    from modelcat import recovery
    from resources.mode import store_urls

    settings = get_settings()
    database_url, _ = store_urls(settings)
    path = output or recovery.default_dump_path(settings.home, dt.datetime.now(dt.UTC))
    started = time.perf_counter()
    with _recovery_errors(), console.status(f"pg_dump -> {path} ..."):
        manifest = recovery.backup(database_url, path)
    elapsed = time.perf_counter() - started
    console.print(f"backup:   {path} ({manifest.dump_bytes / 2**20:.1f} MiB, {elapsed:.1f} s)",
                  soft_wrap=True)  # fmt: skip
    console.print(f"manifest: {recovery.manifest_path(path)}", soft_wrap=True)
    console.print(f"schema {manifest.alembic_revision}, recommendations "
                  f"{manifest.recommendations_version}, "
                  f"{sum(manifest.row_counts.values()):,} rows")  # fmt: skip


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="A dump written by `modelcat backup`.")],
    yes: bool = typer.Option(False, "--yes", help="Replace a database that holds data."),
) -> None:
    """Restore the catalog database from a backup, migrate it, rebuild the serving cache."""
    from modelcat import recovery
    from resources.mode import store_urls

    settings = get_settings()
    database_url, redis_url = store_urls(settings)
    with _recovery_errors(), console.status("restoring ...") as status:
        done = recovery.restore(
            path, database_url, redis_url, overwrite=yes, keep_versions=settings.keep_versions,
            progress=lambda step: status.update(f"{step} ..."),
        )  # fmt: skip
    table = Table("step", "seconds", title=f"restored {path.name}")
    for step, seconds in done.seconds.items():
        table.add_row(step, f"{seconds:.2f}")
    table.add_row("[bold]total[/]", f"[bold]{sum(done.seconds.values()):.2f}[/]")
    console.print(table)
    console.print(f"recommendations {done.manifest.recommendations_version}; serving cache "
                  f"{done.cache_version} ({done.cache_keys:,} keys)")  # fmt: skip


cache_app = typer.Typer(help="The serving cache in Redis.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("rebuild")
def cache_rebuild() -> None:
    """Publish the serving cache again from PostgreSQL (after Redis lost its data)."""
    from modelcat import recovery
    from resources.mode import store_urls

    settings = get_settings()
    database_url, redis_url = store_urls(settings)
    with _recovery_errors(), console.status("rebuilding the serving cache ..."):
        version, keys = recovery.rebuild_cache(database_url, redis_url, settings.keep_versions)
    console.print(f"serving cache {version} published ({keys:,} keys)")


@pipeline_app.command("status")
def pipeline_status(json: Json = False) -> None:
    """The last run of each Dagster job and how it ended."""
    from dagster import DagsterInstance

    from orchestration import jobs

    home = get_settings().dagster_home
    names = [j.name for j in (jobs.catalog_job, jobs.registry_sync_job)]
    latest: dict[str, Any] = {}
    if (home / "dagster.yaml").exists():  # `modelcat pipeline run` writes it with the first run
        with DagsterInstance.from_config(str(home)) as instance:
            for record in instance.get_run_records(limit=500):  # newest first
                latest.setdefault(record.dagster_run.job_name, record)
    rows = [
        _run_row(name, latest.get(name)) for name in [*names, *sorted(set(latest) - set(names))]
    ]
    if json:
        return typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
    table = Table("job", "last run", "status", "started", "took", title=f"Dagster runs ({home})")
    for row in rows:
        took = "" if row["seconds"] is None else f"{row['seconds']:.1f} s"
        table.add_row(row["job"], row["run_id"] or "never", row["status"] or "",
                      row["started"] or "", took)  # fmt: skip
    console.print(table)


def _run_row(job: str, record: Any) -> dict[str, Any]:
    if record is None:
        return {"job": job, "run_id": None, "status": None, "started": None, "seconds": None}
    start, end = record.start_time, record.end_time
    started = None if start is None else dt.datetime.fromtimestamp(start, dt.UTC)
    return {
        "job": job,
        "run_id": record.dagster_run.run_id[:8],
        "status": record.dagster_run.status.value,
        "started": None if started is None else f"{started:%Y-%m-%d %H:%M:%S} UTC",
        "seconds": None if start is None or end is None else round(end - start, 1),
    }
