"""Errors that carry their HTTP status, and the one handler that renders them.

Every error body has the same shape, `{"error": {"code", "message", "detail"}}`, whether it comes
from our code, from request validation (422) or from routing (an unknown path, a wrong method).
"""

from typing import Any, ClassVar

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import Response


class ApiError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, detail: Any = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.headers = headers


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class BadRequest(ApiError):
    status_code = 400
    code = "bad_request"


class Unavailable(ApiError):
    status_code = 503
    code = "unavailable"

    def __init__(self, message: str, detail: Any = None):
        # A dependency outage is usually short: tell clients when trying again makes sense.
        super().__init__(message, detail, headers={"Retry-After": "5"})


class ErrorBody(BaseModel):
    code: str
    message: str
    detail: Any = None


class ErrorResponse(BaseModel):
    """The body of every 4xx/5xx answer (for OpenAPI)."""

    error: ErrorBody


def error_response(
    status: int, code: str, message: str, detail: Any = None, headers: dict | None = None
) -> Response:
    body = orjson.dumps({"error": {"code": code, "message": message, "detail": detail}})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def validation_message(errors: list[dict[str, Any]]) -> str:
    """One sentence per problem, naming the parameter: "query parameter 'limit': ..."."""
    parts = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        where = f"{loc[0]} parameter '{'.'.join(loc[1:])}'" if len(loc) > 1 else "request"
        parts.append(f"{where}: {error.get('msg', 'is invalid')}")
    return "; ".join(parts) or "invalid request"


def _validation_detail(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # `ctx` may hold exception objects and `input` anything at all: keep what is JSON and useful.
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": e.get("msg"),
            "type": e.get("type"),
            "input": e["input"] if isinstance(e.get("input"), str | int | float) else None,
        }
        for e in errors
    ]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.code, exc.message, exc.detail, exc.headers)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    return error_response(
        422, "invalid_request", validation_message(errors), _validation_detail(errors)
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = f"no route for {request.url.path}" if exc.status_code == 404 else str(exc.detail)
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # A bug, not an expected failure: answer in the usual shape without leaking internals.
    # Starlette re-raises it after this response, so the server logs the traceback once.
    return error_response(500, "internal_error", "internal server error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


# For `responses=` on routes: the error bodies a route documents besides its 200.
BAD_REQUEST = {400: {"model": ErrorResponse, "description": "Inconsistent parameters"}}
NOT_FOUND = {404: {"model": ErrorResponse, "description": "Unknown resource"}}
UNAVAILABLE = {503: {"model": ErrorResponse, "description": "Not cached and the database is down"}}
INVALID = {422: {"model": ErrorResponse, "description": "Invalid parameters"}}
