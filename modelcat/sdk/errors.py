"""The one exception the SDK raises, parsed from the API's `{"error": {...}}` body."""

from typing import Any

import httpx


class CatalogError(Exception):
    """The API refused or failed a request (`status` is its HTTP status), or could not be
    reached at all (`status` 0, code `unreachable`)."""

    def __init__(self, status: int, code: str, message: str, detail: Any = None):
        super().__init__(f"{message} (HTTP {status}, {code})" if status else message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail

    @classmethod
    def from_response(cls, response: httpx.Response) -> "CatalogError":
        """The error the body describes; a body not in the API's shape (a proxy's HTML page,
        say) still gives the status and the start of the text."""
        try:
            error = response.json()["error"]
            return cls(response.status_code, str(error["code"]), str(error["message"]),
                       error.get("detail"))  # fmt: skip
        except (ValueError, KeyError, TypeError):
            text = response.text.strip()[:200] or response.reason_phrase
            return cls(response.status_code, "http_error", text)

    @classmethod
    def unreachable(cls, url: str, error: Exception) -> "CatalogError":
        return cls(
            0, "unreachable", f"cannot reach the API at {url}: {str(error) or type(error).__name__}"
        )
