"""`modelcat registry ...`: one-off registry operations outside the daily sync.

`import-history PATH`: load an exported daily popularity history (the bundled 721-day Hub
export, or your own export with the same columns: snapshot_date, trending, id, downloads,
likes) into `model_snapshots`. Idempotent; a malformed file fails naming its file and line,
before anything is written.
"""

from pathlib import Path
from typing import Annotated

import typer

from modelcat.output import console, err

registry_app = typer.Typer(help="Registry sources and their history.", no_args_is_help=True)


@registry_app.command("import-history")
def import_history_command(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV (.gz) export.")],
    source: Annotated[str, typer.Option(help="Recorded as each row's source.")] = "hf-hub-export",
) -> None:
    """Import a daily popularity history into model_snapshots."""
    from assets.common.errors import DataFileError
    from assets.registry.history_import import import_history
    from resources.db.engine import make_engine
    from resources.db.migrate import upgrade
    from resources.mode import store_urls
    from resources.settings import get_settings

    database_url, _ = store_urls(get_settings())
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        summary = import_history(engine, path, source)
    except DataFileError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(
        f"{summary['rows']:,} daily rows for {summary['models']:,} models "
        f"({summary['rows_written']:,} new or changed), {summary['first_day']} .. "
        f"{summary['last_day']} in model_snapshots."
    )
    if summary["orphan_models"]:
        console.print(
            f"{summary['orphan_models']:,} of these models are not in the catalog yet: a "
            "registry sync that lists them completes their pages (the snapshot check flags them "
            "until then)."
        )
