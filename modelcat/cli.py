"""`modelcat`: run the pipeline, serve the API, or both (`modelcat up`)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from resources.settings import REPO_ROOT, Settings, get_settings

app = typer.Typer(help="Model Catalog: which model to run on which GPU, at what latency and cost.",
                  no_args_is_help=True, pretty_exceptions_enable=False)  # fmt: skip
pipeline_app = typer.Typer(help="The Dagster asset graph.", no_args_is_help=True)
app.add_typer(pipeline_app, name="pipeline")
recommendations_app = typer.Typer(help="Published recommendations.", no_args_is_help=True)
app.add_typer(recommendations_app, name="recommendations")
console = Console()
err = Console(stderr=True)


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
    with DagsterInstance.get() as instance, console.status(f"running {job} ..."):
        result = defs.resolve_job_def(job).execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
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

    embedded.stop(get_settings().home)
    console.print("embedded stores stopped")
