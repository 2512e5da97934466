"""What the sync and async clients share: a request description, credentials and the token
cache, and the retry rules. Everything here is pure; the clients do the I/O.
"""

import datetime as dt
import email.utils
import random
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from modelcat.sdk.errors import CatalogError
from modelcat.sdk.types import Token

T = TypeVar("T", bound=BaseModel)

DEFAULT_URL = "http://127.0.0.1:8000"
TOKEN_PATH = "/auth/token"
# Answers that say "not now": worth another try after a pause (429 and 503 say how long).
RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API request and the type its 200 body parses into.

    `idempotent`: sending it twice does no harm, so it may be retried after any transient
    failure; otherwise only when it never reached the server (a refused connection).
    """

    method: str
    path: str
    result: type[T]
    params: dict[str, Any] | None = None
    json: Any = None
    form: dict[str, str] | None = None
    idempotent: bool = True
    authenticated: bool = True  # False for the token request: it carries its own credentials
    accept: frozenset[int] = frozenset()  # statuses besides 2xx whose body is a `result` too


def query(**values: Any) -> dict[str, Any]:
    """Query parameters, leaving out the unset (None) ones; dates as ISO 8601."""
    return {
        name: value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
        for name, value in values.items()
        if value is not None
    }


def parse(call: Call[T], response: httpx.Response) -> T:
    if response.is_success or response.status_code in call.accept:
        return call.result.model_validate_json(response.content)
    raise CatalogError.from_response(response)


@dataclass(frozen=True)
class Retry:
    """Bounded retries with exponential backoff (with jitter), honouring `Retry-After`.

    `attempts` counts the first try. A `Retry-After` longer than `max_wait_s` is not waited
    for: the error is raised instead, so a caller never blocks for minutes unawares.
    """

    attempts: int = 4
    backoff_s: float = 0.25
    max_wait_s: float = 30.0

    def delay(
        self,
        call: Call,
        attempt: int,
        response: httpx.Response | None = None,
        error: httpx.TransportError | None = None,
    ) -> float | None:
        """Seconds to wait before trying `call` again after `attempt` (1-based), or None."""
        if attempt >= self.attempts:
            return None
        if error is not None:
            # A refused connection never reached the server: safe to repeat any request.
            if not (call.idempotent or isinstance(error, httpx.ConnectError)):
                return None
        else:
            transient = response is not None and response.status_code in RETRY_STATUSES
            if not (transient and call.idempotent) or response.status_code in call.accept:
                return None
            asked = retry_after(response)
            if asked is not None:
                return asked if asked <= self.max_wait_s else None
        backoff = self.backoff_s * 2 ** (attempt - 1)
        return min(self.max_wait_s, backoff * random.uniform(0.5, 1.0))


def retry_after(response: httpx.Response) -> float | None:
    """The `Retry-After` header in seconds (delta-seconds or an HTTP date), if any."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


@dataclass(frozen=True)
class ClientCredentials:
    """An OAuth2 client (client credentials grant); `scope` None asks for all of its scopes."""

    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None

    def token_call(self) -> Call[Token]:
        form = {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self.client_secret}  # fmt: skip
        if self.scope:
            form["scope"] = self.scope
        # Asking twice only issues a second token: safe to retry.
        return Call("POST", TOKEN_PATH, Token, form=form, authenticated=False)


class TokenCache:
    """The current access token, reused until shortly before it expires."""

    def __init__(self) -> None:
        self._token: str | None = None
        self._renew_at = 0.0

    def get(self, now: float) -> str | None:
        return self._token if self._token is not None and now < self._renew_at else None

    def put(self, token: Token, now: float) -> str:
        # Renew a tenth of the lifetime early (at most 30 s): a token must not expire in flight.
        margin = min(30.0, token.expires_in / 10)
        self._token, self._renew_at = token.access_token, now + token.expires_in - margin
        return token.access_token

    def forget(self, token: str) -> None:
        """Drop `token` (the server refused it); a newer one another task fetched stays."""
        if self._token == token:
            self._token = None


def auth_headers(api_key: str | None, bearer: str | None) -> dict[str, str]:
    if bearer is not None:
        return {"Authorization": f"Bearer {bearer}"}
    if api_key is not None:
        return {"X-API-Key": api_key}
    return {}


def credentials(
    api_key: str | None, client_id: str | None, client_secret: str | None, scope: str | None
) -> ClientCredentials | None:
    """Checks the constructor's auth arguments; the client credentials, if given."""
    if (client_id is None) != (client_secret is None):
        raise ValueError("give client_id and client_secret together")
    if api_key is not None and client_id is not None:
        raise ValueError("give an api_key or client credentials, not both")
    if client_id is None or client_secret is None:
        return None
    return ClientCredentials(client_id, client_secret, scope)
