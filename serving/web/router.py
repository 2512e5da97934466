"""The web UI's routes: four pages under /ui/, their static assets, and / sending there.

Every page is a static HTML shell whose script reads the API from the browser; the pages are
not part of the API's OpenAPI document.
"""

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
# The shells are tiny and change with each release: always revalidate (the ETag makes it cheap).
_SHELL_HEADERS = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html", headers=_SHELL_HEADERS)


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/ui/")


@router.get("/ui")
async def ui_root() -> RedirectResponse:
    return RedirectResponse("/ui/")


@router.get("/ui/")
async def catalog() -> FileResponse:
    return _page("catalog.html")


@router.get("/ui/recommend")
async def recommend() -> FileResponse:
    return _page("recommend.html")


@router.get("/ui/benchmarks")
async def benchmarks() -> FileResponse:
    return _page("benchmarks.html")


@router.get("/ui/models/{model_id:path}")
async def model(model_id: str) -> FileResponse:
    """The model page; its script reads the id from the address (ids contain slashes)."""
    return _page("model.html")


router.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
