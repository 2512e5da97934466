"""The Authenticator: tokens, API keys, scopes, and refusing placeholder secrets."""

import hashlib

import jwt
import pytest

from resources.settings import JWT_SECRET_PLACEHOLDER, LOCAL_CLIENT_ID, OAuthClient, Settings
from serving.security import (
    ADMIN,
    ANONYMOUS,
    READ,
    REQUEST_BENCHMARKS,
    Authenticator,
    Forbidden,
    InsecureSettings,
    Principal,
    Unauthorized,
)
from serving.security.errors import InvalidClient, InvalidScope

SECRET = "unit-test-jwt-secret-" + "s" * 32
SERVICES = {"database_url": "postgresql://db/x", "redis_url": "redis://cache/0"}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def settings(**overrides) -> Settings:
    values = {
        "database_url": None,
        "redis_url": None,
        "jwt_secret": SECRET,
        "oauth_clients": {
            "ci-bot": {"secret_sha256": sha("ci-secret"), "scopes": [READ]},
            "ops": {"secret_sha256": sha("ops-secret"), "scopes": [ADMIN]},
        },
        "api_keys": {"dashboards": {"key_sha256": sha("dash-key"), "scopes": [READ]}},
        **overrides,
    }
    return Settings(**values)


class Clock:
    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def token_for(auth: Authenticator, client_id: str, secret: str, scopes: str = "") -> str:
    return auth.issue(client_id, auth.client(client_id, secret), scopes.split()).access_token


def test_issued_token_round_trips_to_the_client_principal():
    auth = Authenticator(settings())
    token = token_for(auth, "ci-bot", "ci-secret")
    principal = auth.authenticate(f"Bearer {token}", None)
    assert principal == Principal("ci-bot", "client", frozenset({READ}))
    # The scheme is case-insensitive (RFC 7235).
    assert auth.authenticate(f"bearer {token}", None) == principal


def test_claims_carry_issuer_expiry_and_space_separated_scopes():
    clock = Clock()
    auth = Authenticator(settings(jwt_ttl_s=60, jwt_issuer="us"), clock=clock)
    claims = jwt.decode(
        token_for(auth, "ops", "ops-secret", f"{READ} {REQUEST_BENCHMARKS}"),
        SECRET,
        algorithms=["HS256"],
        options={"verify_exp": False},
    )
    assert claims["iss"] == "us"
    assert claims["exp"] - claims["iat"] == 60
    assert claims["scope"] == f"{REQUEST_BENCHMARKS} {READ}"


def test_expired_token_is_refused_even_when_cached():
    clock = Clock()
    auth = Authenticator(settings(jwt_ttl_s=60), clock=clock)
    token = token_for(auth, "ci-bot", "ci-secret")
    assert auth.authenticate(f"Bearer {token}", None).subject == "ci-bot"  # now cached
    clock.now += 60
    with pytest.raises(Unauthorized, match="token expired"):
        auth.authenticate(f"Bearer {token}", None)
    # And on a fresh authenticator, where the token was never cached.
    with pytest.raises(Unauthorized, match="token expired"):
        Authenticator(settings(), clock=clock).authenticate(f"Bearer {token}", None)


def test_token_from_another_issuer_is_refused():
    theirs = Authenticator(settings(jwt_issuer="someone-else"))
    token = token_for(theirs, "ci-bot", "ci-secret")
    with pytest.raises(Unauthorized, match="not issued by 'model-catalog'"):
        Authenticator(settings()).authenticate(f"Bearer {token}", None)


def test_tampered_or_foreign_signature_is_refused():
    auth = Authenticator(settings())
    header, payload, signature = token_for(auth, "ci-bot", "ci-secret").split(".")
    forged = jwt.encode(
        {"sub": "ci-bot", "scope": ADMIN, "iss": "model-catalog", "iat": 1, "exp": 2**40},
        "another-secret-of-at-least-32-bytes!!",
        algorithm="HS256",
    )
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    for token in (f"{header}.{payload}.{flipped}", forged):
        with pytest.raises(Unauthorized, match="signature is invalid"):
            auth.authenticate(f"Bearer {token}", None)


def test_unsigned_and_malformed_tokens_are_refused():
    auth = Authenticator(settings())
    unsigned = jwt.encode(
        {"sub": "x", "scope": ADMIN, "iss": "model-catalog", "iat": 1, "exp": 2**40},
        None,
        algorithm="none",
    )
    for token, reason in [(unsigned, "malformed"), ("not-a-jwt", "malformed"), ("", "empty")]:
        with pytest.raises(Unauthorized, match=reason):
            auth.authenticate(f"Bearer {token}", None)


def test_token_without_required_claims_is_refused():
    token = jwt.encode({"sub": "x", "iss": "model-catalog", "exp": 2**40}, SECRET, "HS256")
    with pytest.raises(Unauthorized, match="lacks the 'scope' claim"):
        Authenticator(settings()).authenticate(f"Bearer {token}", None)


def test_other_authorization_schemes_are_refused_by_name():
    with pytest.raises(Unauthorized, match="unsupported authorization scheme 'Basic'"):
        Authenticator(settings()).authenticate("Basic Y2k6eA==", None)


def test_api_key_maps_to_its_principal_and_unknown_keys_are_refused():
    auth = Authenticator(settings())
    assert auth.authenticate(None, "dash-key") == Principal(
        "dashboards", "api_key", frozenset({READ})
    )
    with pytest.raises(Unauthorized, match="unknown API key"):
        auth.authenticate(None, "dash-key-2")


def test_no_credentials_is_anonymous():
    assert Authenticator(settings()).authenticate(None, None) is ANONYMOUS
    assert Authenticator(settings()).authenticate("", "") is ANONYMOUS


def test_wrong_client_secret_and_unknown_client_are_the_same_error():
    auth = Authenticator(settings())
    with pytest.raises(InvalidClient) as wrong:
        auth.client("ci-bot", "not-it")
    with pytest.raises(InvalidClient) as unknown:
        auth.client("nobody", "ci-secret")
    assert wrong.value.message == unknown.value.message


def test_scope_narrowing_and_refusal():
    auth = Authenticator(settings())
    ops = auth.client("ops", "ops-secret")
    assert auth.issue("ops", ops, [READ]).scopes == {READ}  # admin may narrow to anything
    assert auth.issue("ops", ops).scopes == {ADMIN}
    with pytest.raises(InvalidScope, match="may not request: benchmarks:request"):
        auth.issue("ci-bot", auth.client("ci-bot", "ci-secret"), [REQUEST_BENCHMARKS])
    with pytest.raises(InvalidScope, match="unknown scope"):
        auth.issue("ops", ops, ["catalog:write"])


def test_scopes_admin_and_open_reads():
    reader = Principal("r", "api_key", frozenset({READ}))
    admin = Principal("a", "client", frozenset({ADMIN}))
    open_ = Authenticator(settings(open_reads=True))
    closed = Authenticator(settings(open_reads=False))
    assert open_.permits(ANONYMOUS, READ) and not closed.permits(ANONYMOUS, READ)
    assert not open_.permits(ANONYMOUS, REQUEST_BENCHMARKS)  # writes are never anonymous
    assert closed.permits(reader, READ) and not closed.permits(reader, REQUEST_BENCHMARKS)
    assert closed.permits(admin, REQUEST_BENCHMARKS) and closed.permits(admin, READ)


def test_authorize_says_401_for_nobody_and_403_naming_the_scope():
    auth = Authenticator(settings(open_reads=False))
    with pytest.raises(Unauthorized, match="authentication required"):
        auth.authorize(ANONYMOUS, READ)
    with pytest.raises(Forbidden) as denied:
        auth.authorize(Principal("r", "api_key", frozenset({READ})), REQUEST_BENCHMARKS)
    assert denied.value.status_code == 403 and denied.value.code == "insufficient_scope"
    assert "benchmarks:request" in denied.value.message


def test_reads_default_open_in_embedded_mode_and_closed_in_services_mode():
    assert Authenticator(settings()).open_reads
    assert not Authenticator(settings(**SERVICES)).open_reads


@pytest.mark.parametrize(
    ("secret", "problem"),
    [(JWT_SECRET_PLACEHOLDER, "placeholder"), ("short-secret", "shorter than 32 bytes")],
)
def test_weak_jwt_secret_is_refused_outside_the_embedded_mode(secret, problem):
    weak = settings(**SERVICES, jwt_secret=secret)  # Settings itself accepts it: the CLI needs it
    with pytest.raises(InsecureSettings, match=f"CATALOG_JWT_SECRET .*{problem}"):
        Authenticator(weak)
    Authenticator(settings(jwt_secret=secret))  # the embedded mode starts anyway


def test_embedded_mode_has_a_local_admin_client_and_services_mode_does_not():
    embedded = settings(jwt_secret=JWT_SECRET_PLACEHOLDER)
    secret = embedded.local_client_secret
    assert secret and secret not in JWT_SECRET_PLACEHOLDER
    auth = Authenticator(embedded)
    assert auth.issue(LOCAL_CLIENT_ID, auth.client(LOCAL_CLIENT_ID, secret)).scopes == {ADMIN}
    services = settings(**SERVICES)
    assert services.local_client_secret is None
    with pytest.raises(InvalidClient):
        Authenticator(services).client(LOCAL_CLIENT_ID, secret)


def test_a_configured_client_named_like_the_local_one_wins():
    mine = OAuthClient(secret_sha256=sha("mine"), scopes=frozenset({READ}))
    auth = Authenticator(settings(oauth_clients={LOCAL_CLIENT_ID: mine}))
    assert auth.client(LOCAL_CLIENT_ID, "mine").scopes == {READ}


def test_token_cache_stays_bounded():
    auth = Authenticator(settings(), cache_size=8)
    tokens = [
        jwt.encode(
            {"sub": f"c{i}", "scope": READ, "iss": "model-catalog", "iat": 1, "exp": 2**40},
            SECRET,
            "HS256",
        )
        for i in range(30)
    ]
    for token in tokens:
        auth.authenticate(f"Bearer {token}", None)
    assert len(auth._verified) <= 8
    assert auth.authenticate(f"Bearer {tokens[0]}", None).subject == "c0"  # evicted, re-verified
