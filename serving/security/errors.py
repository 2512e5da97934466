"""The auth and rate-limit failures, each with its HTTP status (rendered by serving.errors).

The token endpoint's codes are RFC 6749 §5.2's; the resource errors follow RFC 6750 §3.
"""

import math
from typing import Any

from serving.errors import ApiError


class Unauthorized(ApiError):
    """Missing, malformed, expired or unknown credentials."""

    status_code = 401
    code = "unauthorized"

    def __init__(self, message: str, detail: Any = None):
        super().__init__(message, detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    """Valid credentials without the scope the endpoint needs."""

    status_code = 403
    code = "insufficient_scope"

    def __init__(self, scope: str):
        super().__init__(
            f"this endpoint needs the scope '{scope}'",
            {"required_scope": scope},
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )


class InvalidClient(ApiError):
    status_code = 401
    code = "invalid_client"

    def __init__(self, message: str):
        # RFC 6749 §5.2: a challenge for the scheme the client may authenticate with.
        super().__init__(message, headers={"WWW-Authenticate": 'Basic realm="model-catalog"'})


class InvalidTokenRequest(ApiError):
    status_code = 400
    code = "invalid_request"


class UnsupportedGrantType(ApiError):
    status_code = 400
    code = "unsupported_grant_type"


class InvalidScope(ApiError):
    status_code = 400
    code = "invalid_scope"


class RateLimited(ApiError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, retry_after_s: float, limit: int, per_s: float):
        seconds = max(1, math.ceil(retry_after_s))
        super().__init__(
            f"rate limit exceeded ({per_s:g} requests/s, bursts of {limit}); retry in {seconds} s",
            {"limit": limit, "per_s": per_s, "retry_after_s": round(retry_after_s, 3)},
            headers={"Retry-After": str(seconds)},
        )
