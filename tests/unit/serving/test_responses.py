from serving.cache import CacheHit
from serving.responses import cached, content_etag, live, version_etag


def test_version_etag_is_weak_and_derived_from_the_version_only():
    assert version_etag("20251120-1") == 'W/"20251120-1"'
    response = cached(CacheHit("v3", b"{}"))
    assert response.headers["x-data-version"] == "v3"
    assert response.headers["etag"] == 'W/"v3"'
    assert response.body == b"{}"


def test_live_bodies_get_a_content_etag_and_no_version():
    response = live(b'{"a":1}')
    assert "x-data-version" not in response.headers
    assert response.headers["etag"] == content_etag(b'{"a":1}') != content_etag(b'{"a":2}')
    assert response.media_type == "application/json"
