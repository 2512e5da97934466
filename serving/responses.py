"""Responses built from bytes that are already JSON, with their version headers.

A body that belongs to a published version carries `X-Data-Version` and a weak ETag derived from
the version alone (a version never changes, so a later 304 needs no body at all; weak because the
Redis and PostgreSQL renderings of one version may differ byte for byte). A body rendered from
the live tables belongs to no version: it gets a content-hash ETag and no `X-Data-Version`.
"""

import hashlib

from starlette.responses import Response

from serving.cache import CacheHit

JSON = "application/json"
VERSION_HEADER = "X-Data-Version"


def version_etag(version: str) -> str:
    return f'W/"{version}"'


def content_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def versioned(body: bytes, version: str) -> Response:
    return Response(
        body, media_type=JSON, headers={VERSION_HEADER: version, "ETag": version_etag(version)}
    )


def cached(hit: CacheHit) -> Response:
    return versioned(hit.body, hit.version)


def live(body: bytes) -> Response:
    return Response(body, media_type=JSON, headers={"ETag": content_etag(body)})
