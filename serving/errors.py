"""Errors that carry their HTTP status, and the one handler that renders them.

Every error body has the same shape, `{"error": {"code", "message", "detail"}}`, whether it comes
from our code, from request validation (422) or from routing (an unknown path, a wrong method).
"""

import json
from typing import Any, ClassVar

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import Response

from serving.schemas import NO_NUL

_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
# FastAPI's words for a body its JSON parser gave up on with something else than a syntax error;
# the cause says why (UnicodeDecodeError is a ValueError: it comes first).
_UNPARSABLE_BODY = "There was an error parsing the body"
_UNPARSABLE_BECAUSE = (
    (UnicodeDecodeError, "it is not valid UTF-8"),
    (RecursionError, "it is nested too deeply"),
    (ValueError, "a number in it has too many digits"),
)


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
    error = {"error": {"code": code, "message": message, "detail": detail}}
    try:
        body = orjson.dumps(error)
    except orjson.JSONEncodeError:
        # The input echoed back may be what orjson refuses: a lone surrogate from a JSON `\ud800`
        # escape, an integer beyond 64 bits. Python's encoder escapes or writes those.
        body = json.dumps(error, ensure_ascii=True, default=str).encode()
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


def _is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _body_error(request: Request, errors: list[dict[str, Any]]) -> Response | None:
    """A route that reads a JSON body got none: say what to send rather than what pydantic saw.

    FastAPI validates a body of another media type as raw bytes, which reads as "Input should be
    a valid dictionary": 415 names the problem. A missing body is a 422 that says so.
    """
    whole = [e for e in errors if tuple(e.get("loc", ())) == ("body",)]
    if not whole:
        return None
    content_type = request.headers.get("content-type")
    if content_type is not None and not _is_json(content_type):
        return error_response(
            415,
            "unsupported_media_type",
            f"the request body must be JSON (Content-Type: application/json), not {content_type!r}",
            {"content_type": content_type},
        )
    if whole[0].get("type") == "missing":
        return error_response(422, "invalid_request", "the request needs a JSON body")
    return None


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.code, exc.message, exc.detail, exc.headers)


def _explain(error: dict[str, Any]) -> dict[str, Any]:
    """Pydantic's wording where it would puzzle a client: a regex for "no NUL", a JSON offset."""
    ctx = error.get("ctx") or {}
    if error.get("type") == "string_pattern_mismatch" and ctx.get("pattern") == NO_NUL:
        return {**error, "msg": "must not contain NUL (\\x00) characters"}
    if error.get("type") == "json_invalid":
        at = error.get("loc", ("body", "?"))[-1]
        message = f"the body is not valid JSON ({ctx.get('error', 'unreadable')} at character {at})"
        return {**error, "loc": ("body",), "msg": message}
    return error


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [_explain(e) for e in exc.errors()]
    return _body_error(request, errors) or error_response(
        422, "invalid_request", validation_message(errors), _validation_detail(errors)
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if exc.status_code == 404:
        message = f"no route for {request.url.path}"
    elif exc.detail == _UNPARSABLE_BODY:
        content_type = request.headers.get("content-type") or "no Content-Type"
        why = next((w for t, w in _UNPARSABLE_BECAUSE if isinstance(exc.__cause__, t)), None)
        message = f"the request body could not be parsed as {content_type}: {why or 'malformed'}"
    else:
        message = str(exc.detail)
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
# For the routers behind credentials and rate limits (`include_router` in serving.app): the
# edge answers these before any route runs.
PROTECTED = {
    401: {"model": ErrorResponse, "description": "Missing, invalid or expired credentials"},
    403: {"model": ErrorResponse, "description": "Credentials without the scope this needs"},
    429: {"model": ErrorResponse, "description": "Rate limit exceeded; see Retry-After"},
}
# For routes with a JSON body.
UNPARSABLE = {400: {"model": ErrorResponse, "description": "Body not parsable (e.g. not UTF-8)"}}
NOT_JSON = {415: {"model": ErrorResponse, "description": "Body not sent as application/json"}}
