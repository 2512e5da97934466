"""`require(scope)`: the FastAPI dependency that guards a route and documents it in OpenAPI.

Usage: `dependencies=[Security(require(READ))]`, or a parameter
`principal: Annotated[Principal, Security(require(READ))]`. Both security schemes are declared
with `auto_error=False` so that either one (or none, for open reads) may be sent; the decision
is the Authenticator's. If a front ASGI layer already authenticated the request it left the
Principal in `scope["state"]["principal"]`, and it is reused rather than verified again.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import APIKeyHeader, OAuth2

from serving.security.authenticator import Authenticator
from serving.security.principal import Principal

SCOPE_DESCRIPTIONS = {
    "catalog:read": "Read models, benchmarks, GPUs and recommendations",
    "benchmarks:request": "Ask for new benchmark runs",
    "admin": "Everything, including operations",
}

oauth2 = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/auth/token", scopes=SCOPE_DESCRIPTIONS
        )
    ),
    scheme_name="OAuth2",
    description="Client credentials: POST /auth/token, then `Authorization: Bearer <token>`",
    auto_error=False,
)
api_key = APIKeyHeader(
    name="X-API-Key", scheme_name="APIKey", description="A static API key", auto_error=False
)


def require(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that returns the caller's Principal, or raises 401/403 without `scope`."""

    async def dependency(
        request: Request,
        authorization: Annotated[str | None, Security(oauth2, scopes=[scope])],
        key: Annotated[str | None, Security(api_key)],
    ) -> Principal:
        authenticator: Authenticator = request.app.state.authenticator
        principal = request.scope.get("state", {}).get("principal")
        if principal is None:
            principal = authenticator.authenticate(authorization, key)
        authenticator.authorize(principal, scope)
        return principal

    return dependency
