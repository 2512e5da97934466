"""A private registry as a manifest file: YAML or JSON, on disk or at an `s3://bucket/key` URL.

For registries that do not speak the Hub's API. The manifest lists models with the Hub's field
names (`id`, `author`, `sha`, `lastModified`, `pipeline_tag`, `library_name`, `tags`, `gated`,
`private`, `downloads`, `likes`, `cardData` with `license` / `base_model`, `safetensors` with
`total`), either as a top-level list or under `models:`. Unlike the Hub, whose API grows new
fields, a manifest is written by people: a field outside that list is a typo, and the record is
quarantined for it rather than silently losing the value.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import yaml
from pydantic import Field

from resources.registry_listing import Details, Listing

MANIFEST_FIELDS = frozenset({
    "id", "author", "sha", "lastModified", "createdAt", "pipeline_tag", "library_name", "tags",
    "gated", "private", "downloads", "likes", "cardData", "safetensors",
})  # fmt: skip


class ManifestError(ValueError):
    """The manifest as a whole cannot be read (unreachable, refused, not YAML/JSON, or not a
    list of models)."""


class ManifestSource(dg.Config):
    """A manifest at `url`: a local path, or `s3://bucket/key` (read with boto3; set
    `s3_endpoint_url` for a non-AWS server such as SeaweedFS or MinIO)."""

    name: str
    url: str
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    timeout_s: float = Field(default=10.0, gt=0)

    @property
    def wants_details(self) -> bool:
        return False  # a manifest holds every field it has

    @property
    def allowed_fields(self) -> frozenset[str]:
        return MANIFEST_FIELDS

    def listing(self, watermark: Any = None) -> Listing:
        return Listing(load_manifest(self.read(), self.url))

    def detail_chunks(self, ids: list[str], size: int) -> Iterator[Details]:
        return iter(())

    def history(self) -> None:
        return None

    def read(self) -> bytes:
        parts = urlsplit(self.url)
        if parts.scheme == "s3":
            return self._read_s3(parts.netloc, parts.path.lstrip("/"))
        if parts.scheme not in ("", "file"):
            raise ManifestError(f"{self.url}: only local paths and s3:// URLs are supported")
        return Path(parts.path if parts.scheme == "file" else self.url).read_bytes()

    def _read_s3(self, bucket: str, key: str) -> bytes:
        import boto3  # only a deployment with an S3 manifest pays for importing it
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        client = boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint_url,
            region_name=self.s3_region,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            config=Config(
                connect_timeout=self.timeout_s, read_timeout=self.timeout_s,
                retries={"max_attempts": 5, "mode": "standard"},
            ),
        )  # fmt: skip
        where = self.s3_endpoint_url or "AWS S3"
        try:
            return client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as error:  # refused: bad credentials, no such bucket or key...
            info = error.response.get("Error", {})
            why = f"{info.get('Code')}: {info.get('Message')}"
            raise ManifestError(f"{self.url}: {where} refused the read ({why})") from error
        except BotoCoreError as error:  # unreachable, no credentials at all, timeouts
            raise ManifestError(f"{self.url}: cannot read from {where}: {error}") from error


def load_manifest(content: bytes, where: str) -> list[Any]:
    """The manifest's records (each checked later, one by one, by parse_model)."""
    try:
        # JSON is parsed as JSON (YAML would also read it, at a tenth of the speed).
        data = json.loads(content) if where.endswith(".json") else yaml.safe_load(content)
    except (ValueError, yaml.YAMLError) as error:
        raise ManifestError(f"{where}: not valid {'JSON' if where.endswith('.json') else 'YAML'}"
                            f": {error}") from None  # fmt: skip
    if isinstance(data, dict) and "models" in data:
        data = data["models"]
    if not isinstance(data, list):
        raise ManifestError(f"{where}: expected a list of models (or `models:` with one)")
    return data
