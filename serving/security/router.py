"""POST /auth/token: the OAuth2 client credentials grant (RFC 6749 §4.4).

The client authenticates with HTTP Basic or with `client_id`/`client_secret` in the form
(§2.3.1), never both. Errors keep the API's `{"error": {...}}` envelope with §5.2's codes.
"""

import base64
import binascii
from typing import Annotated, Literal
from urllib.parse import unquote_plus

from fastapi import APIRouter, Form, Header, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from serving.errors import ErrorResponse
from serving.security.authenticator import Authenticator
from serving.security.errors import InvalidClient, InvalidTokenRequest, UnsupportedGrantType

router = APIRouter(tags=["auth"])

GRANT_TYPE = "client_credentials"


class TokenRequest(BaseModel):
    """The form body (application/x-www-form-urlencoded). All optional here so that a missing
    field is the RFC's 400 `invalid_request`, not a 422."""

    grant_type: str | None = Field(None, description="Must be `client_credentials`")
    client_id: str | None = Field(None, description="Unless sent with HTTP Basic")
    client_secret: str | None = Field(None, description="Unless sent with HTTP Basic")
    scope: str | None = Field(
        None, description="Space-separated scopes; default: all of the client's"
    )


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    scope: str


def _basic(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient(f"client authentication uses HTTP Basic, not '{scheme}'")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("malformed HTTP Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidClient("HTTP Basic credentials lack the ':' between id and secret")
    # §2.3.1: id and secret are form-encoded before base64.
    return unquote_plus(client_id), unquote_plus(secret)


def _credentials(
    authorization: str | None, client_id: str | None, client_secret: str | None
) -> tuple[str, str]:
    in_form = client_id is not None or client_secret is not None
    if authorization and in_form:
        raise InvalidTokenRequest("authenticate the client with HTTP Basic or the form, not both")
    if authorization:
        return _basic(authorization)
    if not client_id or client_secret is None:
        raise InvalidClient(
            "client credentials required: HTTP Basic, or client_id and client_secret in the form"
        )
    return client_id, client_secret


@router.post(
    "/auth/token",
    summary="Get an access token (OAuth2 client credentials)",
    response_model=TokenResponse,
    responses={
        400: {"model": ErrorResponse, "description": "Bad grant type, request or scope"},
        401: {"model": ErrorResponse, "description": "Unknown client or wrong secret"},
    },
)
async def token(
    request: Request,
    response: Response,
    form: Annotated[TokenRequest, Form()],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> TokenResponse:
    grant_type = form.grant_type
    if grant_type is None:
        raise InvalidTokenRequest(
            "grant_type is required (an application/x-www-form-urlencoded body)"
        )
    if grant_type != GRANT_TYPE:
        raise UnsupportedGrantType(f"grant_type must be '{GRANT_TYPE}', not '{grant_type}'")
    authenticator: Authenticator = request.app.state.authenticator
    name, secret = _credentials(authorization, form.client_id, form.client_secret)
    client = authenticator.client(name, secret)
    issued = authenticator.issue(name, client, (form.scope or "").split())
    # §5.1: tokens must not be cached anywhere on the way.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        scope=" ".join(sorted(issued.scopes)),
    )
