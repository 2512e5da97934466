"""GET /gpus: served from the cached version first, rendered from PostgreSQL otherwise."""

from fastapi import APIRouter
from starlette.responses import Response

from serving import errors, responses
from serving.deps import CacheDep, DatabaseDep, SettingsDep
from serving.gpus import pages
from serving.gpus.schemas import GpusPublic

router = APIRouter(tags=["gpus"])


@router.get(
    "/gpus",
    summary="GPUs with their specs and recent on-demand price",
    response_model=GpusPublic,
    responses=errors.UNAVAILABLE,
)
async def list_gpus(cache: CacheDep, db: DatabaseDep, settings: SettingsDep) -> Response:
    hit = await cache.get(("gpus",))
    if hit is not None:
        return responses.cached(hit)
    return responses.live(await db.run(pages.gpus_page, settings.price_window_days))
