"""Authentication (OAuth2 client credentials -> JWT, API keys), scopes, and rate limits.

The token endpoint is the submodule `serving.security.router` (its `router`), as in the other
domains.
"""

from serving.security.authenticator import Authenticator, InsecureSettings
from serving.security.dependencies import require
from serving.security.errors import Forbidden, RateLimited, Unauthorized
from serving.security.principal import ADMIN, ANONYMOUS, READ, REQUEST_BENCHMARKS, Principal
from serving.security.ratelimit import Decision, RateLimiter

__all__ = [
    "ADMIN",
    "ANONYMOUS",
    "READ",
    "REQUEST_BENCHMARKS",
    "Authenticator",
    "Decision",
    "Forbidden",
    "InsecureSettings",
    "Principal",
    "RateLimited",
    "RateLimiter",
    "Unauthorized",
    "require",
]
