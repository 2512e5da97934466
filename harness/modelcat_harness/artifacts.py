"""Per-request raw records as gzipped JSON lines, to a local folder or an S3-compatible store."""

import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from modelcat_harness.job import HarnessError
from modelcat_harness.s3 import client


def records_name(model_id: str, measured_at: str, run_tag: str) -> str:
    """`<model>/<UTC time>-<tag>.jsonl.gz`: one object per attempt, never overwritten."""
    safe_model = model_id.replace("/", "--")
    stamp = measured_at.replace(":", "").replace("-", "").split(".")[0]
    return f"{safe_model}/{stamp}-{run_tag}.jsonl.gz"


def encode(records: Iterable[dict[str, Any]]) -> bytes:
    lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
    # mtime=0: the same records always give the same bytes.
    return gzip.compress(lines.encode(), mtime=0)


def write_records(
    records: Iterable[dict[str, Any]], base_uri: str, name: str, endpoint_url: str | None = None
) -> str:
    """Write the records under `base_uri`; returns the URI of the object written."""
    data = encode(records)
    parsed = urlparse(base_uri)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path)) / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as error:
            raise HarnessError(f"cannot write raw records to {path}: {error}") from error
        return path.as_uri()
    if parsed.scheme == "s3":
        key = "/".join(p for p in (parsed.path.strip("/"), name) if p)
        _put_s3(parsed.netloc, key, data, endpoint_url)
        return f"s3://{parsed.netloc}/{key}"
    raise HarnessError(f"unsupported artifacts_uri {base_uri!r}")


def _put_s3(bucket: str, key: str, data: bytes, endpoint_url: str | None) -> None:
    s3 = client(endpoint_url)
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/gzip")
    except Exception as error:  # noqa: BLE001 - botocore's errors share no useful base class
        raise HarnessError(f"cannot write raw records to s3://{bucket}/{key}: {error}") from error


def read_records(uri: str) -> list[dict[str, Any]]:
    """Read a file:// records object back (for tests and local inspection)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise ValueError(f"read_records reads file:// URIs, got {uri!r}")
    text = gzip.decompress(Path(unquote(parsed.path)).read_bytes()).decode()
    return [json.loads(line) for line in text.splitlines() if line]
