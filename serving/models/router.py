"""GET /models, /models/{id} and /models/{id}/popularity.

Model ids contain slashes (`Qwen/Qwen3-14B`), so they are `:path` parameters, and a `:path`
parameter swallows everything after it: the sub-resource routes are declared before the page
route (and the benchmarks router is included before this one, see serving.app).
"""

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from serving import errors, responses
from serving.deps import CacheDep, DatabaseDep
from serving.errors import BadRequest, NotFound
from serving.models import pages, repository
from serving.models.filters import (
    MAX_OFFSET,
    MAX_SOURCE_TEXT,
    BenchFilters,
    CursorError,
    ModelFilters,
    Pricing,
    Sort,
    decode_cursor,
    encode_cursor,
    source_names,
)
from serving.models.schemas import ModelPage, ModelPublic, ModelsPublic, PopularityPublic
from serving.schemas import NO_NUL, Instant, IsoDate

router = APIRouter(tags=["models"])

ModelId = Annotated[
    str,
    Path(pattern=NO_NUL, description="Registry id; may contain `/`", examples=["Qwen/Qwen3-14B"]),
]


@router.get(
    "/models",
    summary="List models",
    response_model=ModelsPublic,
    responses={**errors.BAD_REQUEST, **errors.INVALID, **errors.UNAVAILABLE},
)
async def list_models(
    db: DatabaseDep,
    task: Annotated[
        str | None, Query(pattern=NO_NUL, description="Pipeline tag, e.g. text-generation")
    ] = None,
    author: Annotated[str | None, Query(pattern=NO_NUL)] = None,
    license: Annotated[str | None, Query(pattern=NO_NUL)] = None,
    min_params: Annotated[int | None, Query(ge=0)] = None,
    max_params: Annotated[int | None, Query(ge=0)] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, pattern=NO_NUL, description="Case-insensitive substring of the id"),
    ] = None,
    include_removed: Annotated[
        bool, Query(description="Include models the registry no longer lists")
    ] = False,
    source: Annotated[
        str | None,
        Query(
            max_length=MAX_SOURCE_TEXT,
            pattern=NO_NUL,
            description="Registry the model came from (`hf-hub`, `manifest`, ...), or a comma "
            "list of several",
            examples=["hf-hub,manifest"],
        ),
    ] = None,
    gated: Annotated[
        bool | None,
        Query(description="true: only gated models (access is granted on request); false: open"),
    ] = None,
    updated_since: Annotated[
        Instant | None,
        Query(
            description="Changed in its registry (`last_modified`) at or after this ISO 8601 "
            "date or date-time (UTC if no offset); models without a date are left out",
            examples=["2025-06-01T00:00:00Z"],
        ),
    ] = None,
    gpu: Annotated[
        str | None,
        Query(max_length=64, pattern=NO_NUL, description="Benchmarked on this GPU, e.g. H100"),
    ] = None,
    max_p95_ms: Annotated[
        float | None,
        Query(gt=0, allow_inf_nan=False, description="A result's p95 latency at most this (ms)"),
    ] = None,
    max_cost_per_mtok: Annotated[
        float | None,
        Query(gt=0, allow_inf_nan=False, description="A result's $ per 1M outputs at most this"),
    ] = None,
    pricing: Annotated[
        Pricing, Query(description="The price `max_cost_per_mtok` reads")
    ] = Pricing.spot,
    measured: Annotated[bool, Query(description="Only models with benchmark results")] = False,
    sort: Annotated[Sort, Query(description="Sort key; prefix `-` for descending")] = (
        Sort.downloads_desc
    ),
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[
        int, Query(ge=0, description=f"Rows to skip, at most {MAX_OFFSET}; deeper, use `cursor`")
    ] = 0,
    cursor: Annotated[
        str | None,
        Query(description="`next_cursor` of the previous page (same filters and sort)"),
    ] = None,
) -> ModelsPublic:
    """Keyset pages: each page continues from the previous page's last row through an index,
    so page 1,000 costs what page 1 does. `offset` still works for shallow pages.

    `gpu`, `max_p95_ms` and `max_cost_per_mtok` keep models with one latest benchmark result
    that meets them all (p95: the task's latency metric, as the recommendations define it).
    Removed models (no longer listed by their registry) are hidden unless `include_removed`."""
    if min_params is not None and max_params is not None and min_params > max_params:
        raise BadRequest(
            f"min_params ({min_params}) must not exceed max_params ({max_params})",
            {"min_params": min_params, "max_params": max_params},
        )
    if offset > MAX_OFFSET:
        raise BadRequest(
            f"offset {offset} is too deep (at most {MAX_OFFSET}): page with `cursor`, "
            "passing each page's `next_cursor`",
            {"offset": offset, "max_offset": MAX_OFFSET},
        )
    try:
        sources = () if source is None else source_names(source)
    except ValueError as error:
        raise BadRequest(f"source: {error}", {"source": source}) from None
    bench = BenchFilters(gpu, max_p95_ms, max_cost_per_mtok, pricing, measured)
    filters = ModelFilters(
        task, author, license, min_params, max_params, q, include_removed, sort, limit, offset,
        bench=bench if bench.active else None, sources=sources, gated=gated,
        updated_since=updated_since,
    )  # fmt: skip
    if cursor is not None:
        if offset:
            raise BadRequest("give `cursor` or `offset`, not both", {"offset": offset})
        try:
            filters = replace(filters, after=decode_cursor(cursor, filters))
        except CursorError as error:
            raise BadRequest(f"invalid cursor: {error}", {"cursor": cursor[:100]}) from None
    listing = await db.run(repository.list_models, filters)
    return ModelsPublic(
        data=[ModelPublic.model_validate(r) for r in listing.rows],
        count=listing.count,
        count_is_estimate=listing.count_is_estimate,
        next_cursor=_next_cursor(filters, listing),
    )


def _next_cursor(filters: ModelFilters, listing: repository.Listing) -> str | None:
    if not listing.has_more:
        return None
    last = listing.rows[-1]
    value = None if filters.sort.field == "id" else getattr(last, filters.sort.field)
    return encode_cursor(filters, value, last.id)


@router.get(
    "/models/{model_id:path}/popularity",
    summary="Daily popularity of a model",
    response_model=PopularityPublic,
    responses={**errors.BAD_REQUEST, **errors.NOT_FOUND, **errors.INVALID, **errors.UNAVAILABLE},
)
async def model_popularity(
    db: DatabaseDep,
    model_id: ModelId,
    start: Annotated[IsoDate | None, Query(description="First day (inclusive)")] = None,
    end: Annotated[IsoDate | None, Query(description="Last day (inclusive)")] = None,
) -> PopularityPublic:
    """One point per day on record, oldest first. Without `start`/`end`, the whole history:
    no cap, so a backfilled export (the Hub's: 721 days) comes back in one answer of a few
    tens of kilobytes."""
    if start is not None and end is not None and start > end:
        raise BadRequest(f"start ({start}) is after end ({end})", {"start": start, "end": end})
    points = await db.run(repository.popularity, model_id, start, end)
    if not points and not await db.run(repository.is_known, model_id):
        raise NotFound(f"model {model_id!r} is not in the catalog", {"model_id": model_id})
    return PopularityPublic.model_validate({"model_id": model_id, "points": points})


@router.get(
    "/models/{model_id:path}",
    summary="A model's page: metadata, lineage and a benchmark summary per GPU",
    response_model=ModelPage,
    responses={**errors.NOT_FOUND, **errors.UNAVAILABLE},
)
async def get_model(cache: CacheDep, db: DatabaseDep, model_id: ModelId) -> Response:
    hit = await cache.get(("model", model_id))
    if hit is not None:
        return responses.cached(hit)
    body = await db.run(pages.model_page, model_id)
    if body is None:
        raise NotFound(f"model {model_id!r} is not in the catalog", {"model_id": model_id})
    return responses.live(body)
