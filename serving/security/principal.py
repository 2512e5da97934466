"""Who is calling, and what they may do."""

from typing import Literal, NamedTuple, get_args

from resources.settings import Scope

READ: Scope = "catalog:read"
REQUEST_BENCHMARKS: Scope = "benchmarks:request"
ADMIN: Scope = "admin"
SCOPES: frozenset[str] = frozenset(get_args(Scope))

Kind = Literal["client", "api_key", "anonymous"]


class Principal(NamedTuple):
    """The caller behind a request: an OAuth2 client, an API key, or nobody in particular.

    A NamedTuple rather than a model: one is built or looked up on every request.
    """

    subject: str
    kind: Kind
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return scope in self.scopes or ADMIN in self.scopes


ANONYMOUS = Principal("anonymous", "anonymous", frozenset())
