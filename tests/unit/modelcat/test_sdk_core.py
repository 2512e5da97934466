"""The SDK's pure parts: which failures are retried and how long to wait, the token cache,
the auth arguments, and the errors parsed from a response."""

import datetime as dt
import email.utils

import httpx
import pytest

from modelcat.sdk import CatalogError, Retry
from modelcat.sdk import endpoints as ep
from modelcat.sdk.core import TokenCache, credentials, retry_after
from modelcat.sdk.types import Token

GET = ep.gpus()
POST = ep.request_benchmark("m", "H100")
READY = ep.ready()


def answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_transient_statuses_are_retried_for_idempotent_calls_only(status):
    assert 0 < Retry().delay(GET, 1, answer(status)) <= 0.25
    assert Retry().delay(POST, 1, answer(status)) is None


@pytest.mark.parametrize("status", [200, 400, 401, 404, 500])
def test_other_statuses_are_not_retried(status):
    assert Retry().delay(GET, 1, answer(status)) is None


def test_retry_after_is_honoured_unless_too_long():
    assert Retry().delay(GET, 1, answer(429, **{"Retry-After": "3"})) == 3.0
    assert Retry(max_wait_s=2).delay(GET, 1, answer(503, **{"Retry-After": "3"})) is None


def test_attempts_are_bounded_and_backoff_grows():
    retry = Retry(attempts=4, backoff_s=1.0)
    delays = [retry.delay(GET, n, answer(503)) for n in (1, 2, 3, 4)]
    assert 0.5 <= delays[0] <= 1 and 1 <= delays[1] <= 2 and 2 <= delays[2] <= 4
    assert delays[3] is None


def test_a_refused_connection_is_retried_even_for_a_post_other_errors_are_not():
    refused = httpx.ConnectError("refused")
    assert Retry().delay(POST, 1, error=refused) is not None
    assert Retry().delay(POST, 1, error=httpx.ReadTimeout("slow")) is None
    assert Retry().delay(GET, 1, error=httpx.ReadTimeout("slow")) is not None


def test_a_503_readiness_is_an_answer_not_a_retry():
    assert Retry().delay(READY, 1, answer(503)) is None


def test_retry_after_as_an_http_date():
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
    seconds = retry_after(answer(503, **{"Retry-After": email.utils.format_datetime(later)}))
    assert 55 < seconds <= 60
    assert retry_after(answer(503, **{"Retry-After": "soon"})) is None


def test_the_token_is_renewed_a_tenth_of_its_lifetime_early_at_most_30_s():
    cache = TokenCache()
    cache.put(Token(access_token="a", expires_in=100, scope="admin"), now=0)
    assert cache.get(89.9) == "a" and cache.get(90) is None
    cache.put(Token(access_token="b", expires_in=3600, scope="admin"), now=0)
    assert cache.get(3569) == "b" and cache.get(3570) is None
    cache.forget("other")  # a token this cache no longer holds: the current one stays
    assert cache.get(0) == "b"
    cache.forget("b")
    assert cache.get(0) is None


def test_auth_arguments_are_checked():
    assert credentials(None, None, None, None) is None
    assert credentials(None, "id", "secret", "admin").scope == "admin"
    with pytest.raises(ValueError, match="together"):
        credentials(None, "id", None, None)
    with pytest.raises(ValueError, match="not both"):
        credentials("key", "id", "secret", None)


def test_errors_come_from_the_error_body_or_the_raw_text():
    body = {"error": {"code": "not_found", "message": "no such model", "detail": {"id": "x"}}}
    error = CatalogError.from_response(httpx.Response(404, json=body))
    assert (error.status, error.code, error.message, error.detail) == (
        404, "not_found", "no such model", {"id": "x"}
    )  # fmt: skip
    assert str(error) == "no such model (HTTP 404, not_found)"
    proxy = CatalogError.from_response(httpx.Response(502, text="<html>Bad Gateway</html>"))
    assert (proxy.code, proxy.message) == ("http_error", "<html>Bad Gateway</html>")


def test_model_ids_keep_their_slashes_and_escape_the_rest():
    assert ep.model("Qwen/Qwen3-14B").path == "/models/Qwen/Qwen3-14B"
    assert ep.model("odd/100%_sure?").path == "/models/odd/100%25_sure%3F"
    assert ep.popularity("a/b", start=dt.date(2025, 1, 2)).params == {"start": "2025-01-02"}
