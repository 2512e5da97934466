"""The harness's one S3 client: raw records and Pipes messages go through the same settings.

boto3 is the `s3` extra, imported only when a job asks for S3. Credentials come from the pod's
environment (AWS_* variables from a Secret, IRSA, an instance profile), never from the job.
"""

import os
from typing import Any

from modelcat_harness.job import HarnessError

# boto3 reads these itself; the harness also reads them to choose path-style addressing.
_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")


def endpoint_url(explicit: str | None = None) -> str | None:
    """The S3 endpoint: the job's `s3_endpoint_url`, else boto3's environment variables."""
    if explicit:
        return explicit
    return next((os.environ[v] for v in _ENDPOINT_VARIABLES if os.environ.get(v)), None)


def client(explicit_endpoint: str | None = None) -> Any:
    """A boto3 S3 client; HarnessError when boto3 is not installed."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as error:
        raise HarnessError("S3 needs boto3, which is not installed (extra s3)") from error
    endpoint = endpoint_url(explicit_endpoint)
    # Path-style addressing for S3-compatible stores (MinIO, SeaweedFS) at an endpoint URL:
    # virtual-host style would need a DNS name per bucket.
    style = "path" if endpoint else "auto"
    config = Config(s3={"addressing_style": style}, retries={"max_attempts": 3})
    # A fresh session: boto3's default one caches the first credentials it resolved.
    return boto3.session.Session().client("s3", endpoint_url=endpoint, config=config)
