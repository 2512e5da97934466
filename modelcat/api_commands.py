"""`modelcat models|recommend|benchmarks`: the API, asked through the SDK.

Registered on the main app by `modelcat.cli`. Errors are one line on stderr and exit status 1.
"""

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from modelcat.output import console, err
from resources.settings import LOCAL_CLIENT_ID, get_settings

if TYPE_CHECKING:  # imported where used: other commands need not load the SDK
    from pydantic import BaseModel

    from modelcat.sdk import CatalogClient
    from modelcat.sdk.types import Lineage

models_app = typer.Typer(help="ML models in the catalog (through the API).", no_args_is_help=True)
benchmarks_app = typer.Typer(help="On-demand benchmark runs (through the API).",
                             no_args_is_help=True)  # fmt: skip

ApiUrl = Annotated[
    str | None,
    typer.Option("--api-url", help="API base URL (default: CATALOG_API_URL, else host:port)."),
]
Json = Annotated[bool, typer.Option("--json", help="Print the API's answer as JSON.")]
# Short names for the criteria people weigh most; any other criterion by its full name.
CRITERION_ALIASES = {
    "cost": "cost_spot_per_million",
    "cost_on_demand": "cost_on_demand_per_million",
    "latency": "latency_p95_ms",
    "throughput": "throughput_per_gpu",
    "memory": "memory_gb",
    "energy": "energy_per_output_j",
}


def _client(api_url: str | None, write: bool = False) -> "CatalogClient":
    """A client for `api_url` (or the configured one), with the configured API key; writes
    without a key use the embedded mode's own OAuth2 client."""
    from modelcat.sdk import CatalogClient

    settings = get_settings()
    url = api_url or settings.api_url or f"http://{settings.api_host}:{settings.api_port}"
    if settings.api_key is not None:
        return CatalogClient(url, api_key=settings.api_key.get_secret_value())
    if write and settings.local_client_secret is not None:
        return CatalogClient(
            url, client_id=LOCAL_CLIENT_ID, client_secret=settings.local_client_secret
        )
    return CatalogClient(url)


@contextmanager
def _api_errors() -> Iterator[None]:
    """A failed request becomes one line on stderr and exit status 1, never a traceback."""
    from modelcat.sdk import CatalogError

    try:
        yield
    except CatalogError as error:
        hint = {0: " (is it running? `modelcat serve`)",
                401: " (set CATALOG_API_KEY)"}.get(error.status, "")  # fmt: skip
        status = f"HTTP {error.status}: " if error.status else ""
        err.print(f"[red]error:[/] {status}{escape(error.message)}{hint}", soft_wrap=True)
        raise typer.Exit(1) from None


def _fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(2)


def _print_json(answer: "BaseModel") -> None:
    typer.echo(answer.model_dump_json(indent=2))


def _number(value: float | None, digits: int = 3) -> str:
    return (
        ""
        if value is None
        else f"{value:,.{digits}g}"
        if isinstance(value, float)
        else f"{value:,}"
    )


_COUNT = re.compile(r"(\d+(?:\.\d+)?)([kmbt]?)", re.IGNORECASE)
_SCALE = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}


def parameter_count(text: str) -> int:
    """`7B` -> 7,000,000,000; `350M`, `1.5b`, `70k` and plain integers too (underscores and
    commas as digit separators). Raises ValueError for anything else."""
    match = _COUNT.fullmatch(text.strip().replace("_", "").replace(",", ""))
    if match is None:
        raise ValueError(f"{text!r} is not a parameter count (e.g. 7B, 350M, 1.5B, 8000000000)")
    return int(Decimal(match[1]) * _SCALE[match[2].lower()])


def _count_option(name: str, text: str | None) -> int | None:
    try:
        return None if text is None else parameter_count(text)
    except ValueError as error:
        _fail(f"{name}: {error}")


def _instant_option(name: str, text: str | None) -> dt.datetime | None:
    try:
        return None if text is None else dt.datetime.fromisoformat(text)
    except ValueError:
        _fail(f"{name}: {text!r} is not an ISO 8601 date or date-time (e.g. 2025-06-01)")


@models_app.command("search")
def models_search(
    task: str = typer.Option(None, help="Pipeline tag, e.g. text-generation."),
    author: str = typer.Option(None),
    license: str = typer.Option(None),
    source: Annotated[
        list[str] | None, typer.Option(help="Registry, e.g. hf-hub (repeatable).")
    ] = None,
    gated: Annotated[
        bool | None, typer.Option("--gated/--open", help="Only gated, or only open, models.")
    ] = None,
    updated_since: str = typer.Option(
        None, help="Changed in its registry on or after (ISO date or date-time, UTC)."
    ),
    min_params: str = typer.Option(None, help="At least this many parameters (e.g. 7B, 350M)."),
    max_params: str = typer.Option(None, help="At most this many parameters (e.g. 70B)."),
    q: str = typer.Option(None, "-q", "--query", help="Substring of the id (case-insensitive)."),
    include_removed: bool = typer.Option(False, help="Also models the registry no longer lists."),
    limit: int = typer.Option(20, min=1, max=500),
    api_url: ApiUrl = None,
    json: Json = False,
) -> None:
    """Find models, most downloaded first."""
    filters = {
        "task": task, "author": author, "license": license, "source": source or None,
        "gated": gated, "updated_since": _instant_option("--updated-since", updated_since),
        "min_params": _count_option("--min-params", min_params),
        "max_params": _count_option("--max-params", max_params), "q": q,
        "include_removed": include_removed or None,
    }  # fmt: skip
    with _api_errors(), _client(api_url) as api:
        page = api.list_models(limit=limit, **{k: v for k, v in filters.items() if v is not None})
    if json:
        return _print_json(page)
    table = Table("id", "task", "parameters", "downloads", "likes", "license", "source",
                  title=f"{len(page.data)} of {page.count} models")  # fmt: skip
    for m in page.data:
        marks = " (gated)" * m.gated + " (removed)" * (m.removed_at is not None)
        table.add_row(escape(m.id) + marks, m.pipeline_tag or "", _number(m.num_parameters),
                      _number(m.downloads), _number(m.likes), m.license or "",
                      m.source)  # fmt: skip
    console.print(table)


@models_app.command("show")
def models_show(model_id: str, api_url: ApiUrl = None, json: Json = False) -> None:
    """A model's metadata and its benchmark summary per task and GPU."""
    with _api_errors(), _client(api_url) as api:
        model = api.get_model(model_id)
    if json:
        return _print_json(model)
    facts = Table.grid(padding=(0, 2))
    for name in ("author", "pipeline_tag", "license", "num_parameters", "downloads", "likes",
                 "library_name", "gated", "source", "sha", "last_modified", "first_seen",
                 "updated_at", "removed_at"):  # fmt: skip
        value = getattr(model, name)
        shown = _number(value) if type(value) is int else "" if value is None else str(value)
        facts.add_row(name, escape(shown))
    console.print(f"[bold]{escape(model.id)}[/]")
    console.print(facts)
    _print_lineage(model.lineage)
    table = Table("task", "gpu", "configurations", "best output/s per GPU", "ITL p95 ms",
                  "last measured", title="benchmarks")  # fmt: skip
    for s in model.benchmarks_summary:
        itl = f"{_number(s.itl_ms_p95_min)} - {_number(s.itl_ms_p95_max)}"
        table.add_row(s.task, s.gpu, str(s.configurations), _number(s.best_throughput_per_gpu),
                      itl, f"{s.last_measured_at:%Y-%m-%d}")  # fmt: skip
    console.print(table if model.benchmarks_summary else "no benchmark results yet")


def _print_lineage(lineage: "Lineage") -> None:
    for base in lineage.base_models:
        how = f" ({base.relation})" if base.relation else ""
        where = "" if base.in_catalog else " [dim](not in the catalog)[/]"
        console.print(f"base model: {escape(base.id)}{how}{where}")
    if not lineage.children_count:
        return
    title = f"{len(lineage.children)} of {lineage.children_count} children"
    table = Table("child", "relation", "task", "downloads", title=title)
    for child in lineage.children:
        table.add_row(escape(child.id), child.relation or "", child.pipeline_tag or "",
                      _number(child.downloads))  # fmt: skip
    console.print(table)


def _weights(text: str) -> dict[str, float]:
    """`quality=0.3,cost=0.7` -> {"quality": 0.3, "cost_spot_per_million": 0.7}."""
    weights = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, equals, value = part.partition("=")
        try:
            weights[CRITERION_ALIASES.get(name.strip(), name.strip())] = float(value)
        except ValueError:
            equals = ""
        if not equals:
            _fail(f"--weights: {part!r} is not criterion=number (e.g. quality=0.3,cost=0.7)")
    if not weights:
        _fail("--weights is empty (e.g. quality=0.3,cost=0.7)")
    return weights


def recommend(
    task: str = typer.Option(..., help="Benchmark task, e.g. lm-arena-chat."),
    gpu: str = typer.Option(..., help="GPU, e.g. H100 (`any` for every GPU's best)."),
    profile: str = typer.Option(None, help="A named profile (default balanced)."),
    weights: str = typer.Option(None, help="Your own weights, e.g. quality=0.3,cost=0.7."),
    max_p95_ms: float = typer.Option(None, help="Latency p95 at most (ms)."),
    max_ttft_ms: float = typer.Option(None, help="Time to first token p95 at most (ms)."),
    max_cost: float = typer.Option(None, help="Cost per 1M outputs at most ($)."),
    max_memory_gb: float = typer.Option(None, help="Memory at most (GB)."),
    min_quality: float = typer.Option(None, help="Quality at least."),
    license: Annotated[list[str] | None, typer.Option(help="Allowed license (repeatable).")] = None,
    top: int = typer.Option(10, min=1, max=200, help="How many to show."),
    api_url: ApiUrl = None,
    json: Json = False,
) -> None:
    """Models ranked for a task on a GPU: a named profile, or your own weights and limits."""
    from modelcat.sdk import QueryConstraints

    if profile is not None and weights is not None:
        _fail("give --profile or --weights, not both")
    limits = {"max_latency_p95_ms": max_p95_ms, "max_ttft_p95_ms": max_ttft_ms,
              "max_cost_per_million": max_cost, "max_memory_gb": max_memory_gb,
              "min_quality": min_quality, "licenses": license or None}  # fmt: skip
    constrained = any(v is not None for v in limits.values())
    with _api_errors(), _client(api_url) as api:
        if weights is None and not constrained:
            answer = api.recommendations(task, gpu, profile or "balanced")
        else:
            # Limits without weights: the profile's own weights, read from its ranking.
            chosen = _weights(weights) if weights else api.recommendations(
                task, gpu, profile or "balanced").weights  # fmt: skip
            gpus = None if gpu == "any" else [gpu]
            answer = api.query_recommendations(
                task, chosen, gpus, QueryConstraints(**limits), top_k=top
            )
    if json:
        return _print_json(answer)
    criteria = list(answer.weights)
    table = Table("rank", "model", "gpu", "score", *criteria, title=f"{task} on {gpu}")
    for item in answer.items[:top]:
        values = [_number(item.values.get(c)) for c in criteria]
        table.add_row(str(item.rank), item.model_id, f"{item.num_gpus}x {item.gpu}",
                      f"{item.score:.3f}", *values)  # fmt: skip
    console.print(table)
    if not answer.items:
        err.print("no model meets every limit" if constrained else "nothing ranked")


@benchmarks_app.command("request")
def benchmarks_request(
    model_id: str,
    gpu: str = typer.Option(..., help="GPU name or alias."),
    batch_size: int = typer.Option(None, min=1),
    max_output_tokens: int = typer.Option(None, min=1),
    note: str = typer.Option(None, help="Free text for whoever reads the results."),
    api_url: ApiUrl = None,
    json: Json = False,
) -> None:
    """Ask for a benchmark run of MODEL on a GPU (queued; a Dagster sensor runs it)."""
    with _api_errors(), _client(api_url, write=True) as api:
        queued = api.request_benchmark(model_id, gpu, batch_size, max_output_tokens, note)
    if json:
        return _print_json(queued)
    same = " (already queued: the same request)" if queued.deduplicated else ""
    console.print(f"{queued.status}: {queued.model_id} on {queued.gpu}, id {queued.id}{same}")


@benchmarks_app.command("status")
def benchmarks_status(request_id: str, api_url: ApiUrl = None, json: Json = False) -> None:
    """The status of a benchmark request."""
    # Reading a request's status takes the same scope as making one (benchmarks:request).
    with _api_errors(), _client(api_url, write=True) as api:
        status = api.benchmark_request(request_id)
    if json:
        return _print_json(status)
    console.print(f"{status.status}: {status.model_id} on {status.gpu}"
                  + (f" ({status.error})" if status.error else ""), markup=False)  # fmt: skip
