"""The edge's response cache and its If-None-Match matching (pure, no I/O)."""

import gzip

import pytest

from serving.edge import Entry, ResponseCache, _accepts_gzip, _matches, make_entry


def entry(version: str, body: bytes = b"{}") -> Entry:
    return Entry(version, "/route", b'W/"' + version.encode() + b'"', [], body)


def test_a_stored_response_is_found_for_its_version_only():
    cache = ResponseCache(max_bytes=1 << 20)
    assert cache.get(b"/a?", "v1") is None  # first look: switches to v1
    cache.put(b"/a?", entry("v1"))
    assert cache.get(b"/a?", "v1") == entry("v1")
    assert cache.get(b"/a?", "v2") is None  # the version switched: everything of v1 is gone
    assert len(cache) == 0
    assert cache.get(b"/a?", "v1") is None


def test_a_response_of_another_version_is_not_stored():
    # A request that started before a switch must not plant old bytes under the new version.
    cache = ResponseCache(max_bytes=1 << 20)
    cache.get(b"/a?", "v2")
    cache.put(b"/a?", entry("v1"))
    assert cache.get(b"/a?", "v2") is None


def test_the_least_recently_used_go_first_when_over_the_byte_bound():
    cache = ResponseCache(max_bytes=800)  # bodies up to 100 bytes are kept
    cache.get(b"", "v1")
    for name in (b"a", b"b", b"c", b"d"):
        cache.put(name, entry("v1", b"x" * 100))
    assert cache.get(b"a", "v1") is not None  # a is now the most recently used
    for name in (b"e", b"f", b"g", b"h", b"i"):
        cache.put(name, entry("v1", b"x" * 100))
    kept = [n for n in (b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h", b"i") if cache.get(n, "v1")]
    assert kept == [b"a", b"c", b"d", b"e", b"f", b"g", b"h", b"i"]  # b was the least recent


def test_a_body_too_large_for_the_cache_is_not_stored():
    cache = ResponseCache(max_bytes=800)
    cache.get(b"", "v1")
    cache.put(b"big", entry("v1", b"x" * 101))
    assert cache.get(b"big", "v1") is None


def test_a_zero_sized_cache_stores_nothing():
    cache = ResponseCache(max_bytes=0)
    cache.get(b"", "v1")
    cache.put(b"a", entry("v1", b""))
    assert cache.get(b"a", "v1") is None


@pytest.mark.parametrize(
    ("header", "etag", "expected"),
    [
        (b'W/"v1"', b'W/"v1"', True),
        (b'"v1"', b'W/"v1"', True),  # weak comparison (RFC 9110 13.1.2)
        (b'"v0", W/"v1"', b'W/"v1"', True),
        (b"*", b'"abc"', True),
        (b'"v2"', b'W/"v1"', False),
        (b"", b'"abc"', False),
    ],
)
def test_if_none_match(header, etag, expected):
    assert _matches(header, etag) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"gzip", True),
        (b"br, gzip;q=0.5", True),
        (b"GZIP", True),
        (b"*", True),
        (b"gzip;q=0", False),
        (b"identity", False),
        (b"gzip;q=nonsense", False),
        (b"", False),
    ],
)
def test_accept_encoding(header, expected):
    assert _accepts_gzip(header) is expected


def test_a_large_body_gets_a_gzip_copy_with_its_own_length():
    body = b'{"items": [' + b'{"model": "a/b", "score": 0.5},' * 200 + b"{}]}"
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    entry = make_entry("v1", "/r", b'W/"v1"', headers, body)
    assert gzip.decompress(entry.gzip_body) == body
    assert (b"content-length", b"%d" % len(entry.gzip_body)) in entry.gzip_headers
    assert (b"content-encoding", b"gzip") in entry.gzip_headers
    assert (b"vary", b"accept-encoding") in entry.headers
    assert entry.size == len(body) + len(entry.gzip_body)


def test_a_small_body_is_not_compressed():
    entry = make_entry("v1", "/r", b'W/"v1"', [], b"{}")
    assert entry.gzip_body is None and entry.size == 2
