"""Credentials in, a Principal out: JWT bearer tokens, API keys, and client credentials.

`authenticate` takes raw header values so a pure-ASGI layer in front of the app can call it
without FastAPI. Tokens are HS256 JWTs we issue ourselves (`issue`); a verified token is kept
in a small in-process cache until it expires, so a hot path pays one dict lookup instead of an
HMAC and a JSON parse per request.
"""

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable
from typing import NamedTuple

import jwt

from resources.settings import (
    JWT_SECRET_PLACEHOLDER,
    LOCAL_CLIENT_ID,
    OAuthClient,
    Settings,
)
from serving.security.errors import Forbidden, InvalidClient, InvalidScope, Unauthorized
from serving.security.principal import ADMIN, ANONYMOUS, READ, SCOPES, Principal

_ALGORITHM = "HS256"
_MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash
_CLAIMS = ("sub", "scope", "iss", "iat", "exp")
# Compared against when the client id is unknown, so a miss costs the same as a wrong secret.
_NO_SECRET = hashlib.sha256(b"").hexdigest()


class InsecureSettings(ValueError):
    """A placeholder or weak secret outside the embedded mode: the API refuses to start."""


class Token(NamedTuple):
    access_token: str
    expires_in: int
    scopes: frozenset[str]


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_secret(settings: Settings) -> None:
    if settings.mode == "embedded":
        return
    secret = settings.jwt_secret.get_secret_value()
    if secret == JWT_SECRET_PLACEHOLDER:
        problem = "is the built-in placeholder"
    elif len(secret.encode()) < _MIN_SECRET_BYTES:
        problem = f"is shorter than {_MIN_SECRET_BYTES} bytes"
    else:
        return
    raise InsecureSettings(
        f"CATALOG_JWT_SECRET {problem}: outside the embedded mode set it to a random secret, "
        "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
    )


def _clients(settings: Settings) -> dict[str, OAuthClient]:
    clients = dict(settings.oauth_clients)
    local_secret = settings.local_client_secret
    if local_secret is not None:
        # The embedded mode's own client: the CLI reads its secret from the same settings.
        clients.setdefault(
            LOCAL_CLIENT_ID,
            OAuthClient(secret_sha256=_sha256(local_secret), scopes=frozenset({ADMIN})),
        )
    return clients


class Authenticator:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        cache_size: int = 4096,
    ):
        _check_secret(settings)
        self.open_reads = (
            settings.open_reads if settings.open_reads is not None else settings.mode == "embedded"
        )
        self._secret = settings.jwt_secret.get_secret_value()
        self._issuer = settings.jwt_issuer
        self._ttl_s = settings.jwt_ttl_s
        self._clients = _clients(settings)
        self._api_keys = {
            key.key_sha256: Principal(name, "api_key", frozenset(key.scopes))
            for name, key in settings.api_keys.items()
        }
        self._clock = clock
        self._cache_size = cache_size
        self._verified: dict[str, tuple[Principal, float]] = {}  # token -> (principal, exp)

    # -- issuing (the token endpoint) --------------------------------------------------------

    def client(self, client_id: str, client_secret: str) -> OAuthClient:
        """The client whose id and secret these are, or InvalidClient."""
        known = self._clients.get(client_id)
        expected = known.secret_sha256 if known is not None else _NO_SECRET
        if not hmac.compare_digest(_sha256(client_secret), expected) or known is None:
            raise InvalidClient("unknown client or wrong client secret")
        return known

    def issue(self, client_id: str, client: OAuthClient, requested: Iterable[str] = ()) -> Token:
        """A token for `client`, narrowed to the requested scopes (all of its own by default)."""
        scopes = frozenset(requested) or frozenset(client.scopes)
        unknown = scopes - SCOPES
        if unknown:
            raise InvalidScope(f"unknown scope(s): {', '.join(sorted(unknown))}")
        granted = Principal(client_id, "client", frozenset(client.scopes))
        refused = sorted(s for s in scopes if not granted.has(s))
        if refused:
            raise InvalidScope(f"client '{client_id}' may not request: {', '.join(refused)}")
        now = int(self._clock())
        claims = {
            "sub": client_id,
            "scope": " ".join(sorted(scopes)),
            "iss": self._issuer,
            "iat": now,
            "exp": now + self._ttl_s,
        }
        return Token(jwt.encode(claims, self._secret, _ALGORITHM), self._ttl_s, scopes)

    # -- checking (every request) ------------------------------------------------------------

    def authenticate(self, authorization: str | None, api_key: str | None) -> Principal:
        """The caller named by the raw `Authorization` / `X-API-Key` values; anonymous if none."""
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer":
                raise Unauthorized(
                    f"unsupported authorization scheme '{scheme}': send 'Bearer <token>' "
                    "or an X-API-Key header"
                )
            return self._bearer(token.strip())
        if api_key:
            return self._api_key(api_key)
        return ANONYMOUS

    def permits(self, principal: Principal, scope: str) -> bool:
        # Open reads: anyone may read the catalog; nothing else is ever anonymous.
        return principal.has(scope) or (scope == READ and self.open_reads)

    def authorize(self, principal: Principal, scope: str) -> None:
        """Raise unless `principal` may act with `scope`: 401 for nobody, 403 for too little."""
        if self.permits(principal, scope):
            return
        if principal.kind == "anonymous":
            raise Unauthorized(
                f"authentication required (scope '{scope}'): send 'Authorization: Bearer "
                "<token>' (POST /auth/token) or an X-API-Key header"
            )
        raise Forbidden(scope)

    def _bearer(self, token: str) -> Principal:
        now = self._clock()
        cached = self._verified.get(token)
        if cached is not None:
            principal, expires = cached
            if now < expires:
                return principal
            self._verified.pop(token, None)
            raise Unauthorized("token expired")
        principal, expires = self._verify(token, now)
        if len(self._verified) >= self._cache_size:
            self._evict(now)
        self._verified[token] = (principal, expires)
        return principal

    def _verify(self, token: str, now: float) -> tuple[Principal, float]:
        if not token:
            raise Unauthorized("empty bearer token")
        try:
            # Expiry is checked below against our clock, the same one the cache uses.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=self._issuer,
                options={"require": list(_CLAIMS), "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidSignatureError:
            raise Unauthorized("token signature is invalid") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized(f"token was not issued by '{self._issuer}'") from None
        except jwt.MissingRequiredClaimError as error:
            raise Unauthorized(f"token lacks the '{error.claim}' claim") from None
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"token is malformed ({error})") from None
        expires = claims["exp"]
        if not isinstance(expires, int | float) or now >= expires:
            raise Unauthorized("token expired")
        scopes = frozenset(str(claims["scope"]).split())
        return Principal(str(claims["sub"]), "client", scopes), float(expires)

    def _evict(self, now: float) -> None:
        # Drop expired tokens; if all are live, drop the oldest half (dicts keep insertion order).
        # Snapshots and pop(): safe even if another thread of the worker evicts at the same time.
        for token, (_, expires) in list(self._verified.items()):
            if expires <= now:
                self._verified.pop(token, None)
        if len(self._verified) >= self._cache_size:
            for token in list(self._verified)[: self._cache_size // 2 + 1]:
                self._verified.pop(token, None)

    def _api_key(self, api_key: str) -> Principal:
        # Looked up by digest: the lookup's timing can only leak bits of a SHA-256 of the key,
        # which say nothing about the key, so it is as safe as a constant-time compare.
        principal = self._api_keys.get(_sha256(api_key))
        if principal is None:
            raise Unauthorized("unknown API key")
        return principal
