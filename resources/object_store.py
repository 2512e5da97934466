"""The object store: raw benchmark records, Pipes messages and catalog exports.

One interface, two real implementations: a folder (the embedded mode's default, under
CATALOG_HOME) and S3 through dagster-aws (AWS or any S3-compatible server). Keys are relative to
the store's `prefix`, use `/`, and land under one of the top-level prefixes below, which the
lifecycle rules in deploy/object-store/ tier and expire.
"""

import os
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import dagster as dg
from botocore.exceptions import ClientError
from dagster_aws.s3 import S3Resource
from pydantic import PrivateAttr

from resources.launcher_pipes import FileMessageReader, S3MessageReader
from resources.settings import Settings

# Top-level key prefixes: one lifecycle rule each (deploy/object-store/lifecycle.json).
RAW_RECORDS_PREFIX = "raw/benchmarks/"
PIPES_PREFIX = "pipes/"
EXPORTS_PREFIX = "exports/"

# Local writes land here first and are renamed into place: a reader never sees half an object.
_INCOMING = ".incoming"
_NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound"}


class ObjectNotFoundError(LookupError):
    """No object under this key."""


@dataclass(frozen=True)
class StoredObject:
    key: str  # relative to the store's prefix
    size: int


def check_key(key: str) -> str:
    """`key` if it is a plain relative key; ValueError otherwise (no `..`, `//`, `\\`, ...)."""
    parts = key.split("/")
    bad = (
        not key
        or len(key.encode()) > 1024  # S3's limit
        or "\\" in key
        or any(ord(c) < 32 for c in key)
        or any(part in ("", ".", "..") for part in parts)
        or parts[0] == _INCOMING
    )
    if bad:
        raise ValueError(f"invalid object key {key!r}: use relative keys like 'exports/a.json'")
    return key


class ObjectStoreResource(dg.ConfigurableResource, ABC):
    """Bytes and files under keys; URIs the benchmark harness can write to; Pipes transport."""

    prefix: str = ""  # every key of this store lives under it, e.g. "catalog/"

    def full_key(self, key: str) -> str:
        base = self.prefix.strip("/")
        return f"{base}/{check_key(key)}" if base else check_key(key)

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> str:
        """Store `data` under `key` (replacing it); returns `uri_for(key)`."""

    @abstractmethod
    def put_file(self, key: str, path: Path) -> str:
        """Store the file at `path` under `key` (streamed, multipart on S3); returns its URI."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The object's bytes; ObjectNotFoundError if there is none."""

    @abstractmethod
    def get_file(self, key: str, path: Path) -> Path:
        """Download the object to `path`; ObjectNotFoundError if there is none."""

    @abstractmethod
    def list_objects(self, prefix: str = "") -> list[StoredObject]:
        """Objects whose key starts with `prefix`, sorted by key."""

    @abstractmethod
    def uri_for(self, key: str) -> str:
        """file:// or s3:// URI of `key`: what an external process (the harness) writes to."""

    @abstractmethod
    def presigned_url(self, key: str, expires_s: int = 3600) -> str:
        """A URL that reads the object without credentials (file:// for the local store)."""

    @property
    @abstractmethod
    def endpoint_url(self) -> str | None:
        """The S3 endpoint an external process must use (None: AWS's default, or a folder)."""

    @property
    @abstractmethod
    def reachable_from_pods(self) -> bool:
        """Whether a process on another machine (a benchmark pod) can read and write here."""

    @abstractmethod
    def pipes_message_reader(
        self, *, include_stdio: bool = True, interval_s: float = 10.0
    ) -> dg.PipesMessageReader:
        """A Pipes message reader whose messages persist in this store under `pipes/`; it keeps
        the external process's failure reason (`harness_error`, resources/launcher_pipes.py).

        `include_stdio`: the external process ships its stdout/stderr inside the messages, so
        they survive a spot node that is reclaimed with its pod logs.
        """

    @abstractmethod
    def pipes_env(self, *, with_credentials: bool = False) -> dict[str, str]:
        """Environment an external process needs to reach this store (boto3's variables).

        Credentials only when asked: in Kubernetes they come from a Secret or IRSA instead.
        """

    def prefix_uri(self, prefix: str) -> str:
        """The URI under which keys starting with `prefix` live (e.g. the harness's
        `artifacts_uri` for RAW_RECORDS_PREFIX); ValueError for `..` and the like."""
        return self.uri_for(check_key(prefix + "_")).removesuffix("_")

    def key_from_uri(self, uri: str) -> str:
        """The key of a URI `uri_for` returned (ValueError for a URI outside this store)."""
        root = self.uri_for("_").removesuffix("_")
        if not uri.startswith(root):
            raise ValueError(f"{uri!r} is not in this object store ({root})")
        key = uri.removeprefix(root)
        return check_key(unquote(key) if uri.startswith("file:") else key)

    def list_prefix(self, prefix: str) -> str:
        """The full key prefix to list (ValueError for `..` and the like, as for keys)."""
        return self.full_key(check_key(prefix + "_")).removesuffix("_")


class LocalObjectStore(ObjectStoreResource):
    """A folder on this machine: the embedded mode and single-machine runs."""

    root: str

    def _path(self, key: str) -> Path:
        return Path(self.root, *self.full_key(key).split("/"))

    def _write(self, key: str, fill) -> str:
        target = self._path(key)
        incoming = Path(self.root, _INCOMING)
        incoming.mkdir(parents=True, exist_ok=True)
        temp = incoming / uuid.uuid4().hex
        try:
            fill(temp)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        return self.uri_for(key)

    def put_bytes(self, key: str, data: bytes) -> str:
        return self._write(key, lambda temp: temp.write_bytes(data))

    def put_file(self, key: str, path: Path) -> str:
        return self._write(key, lambda temp: shutil.copyfile(path, temp))

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFoundError(f"no object {self.uri_for(key)}") from None

    def get_file(self, key: str, path: Path) -> Path:
        source = self._path(key)
        if not source.is_file():
            raise ObjectNotFoundError(f"no object {self.uri_for(key)}")
        shutil.copyfile(source, path)
        return path

    def list_objects(self, prefix: str = "") -> list[StoredObject]:
        root = Path(self.root)
        base, full = self.full_key("_").removesuffix("_"), self.list_prefix(prefix)
        # Walk only the deepest folder the prefix names, then filter on the full string.
        folder = root.joinpath(*full.split("/")[:-1])
        found = []
        for path in folder.rglob("*") if folder.is_dir() else ():
            relative = path.relative_to(root).as_posix()
            if path.is_file() and not relative.startswith(_INCOMING + "/"):
                key = relative.removeprefix(base)
                if key.startswith(prefix):
                    found.append(StoredObject(key=key, size=path.stat().st_size))
        return sorted(found, key=lambda o: o.key)

    def uri_for(self, key: str) -> str:
        return self._path(key).resolve().as_uri()

    def presigned_url(self, key: str, expires_s: int = 3600) -> str:
        # No signing for files: whoever shares this filesystem may read them; checked to exist
        # so both stores fail the same way for a missing key.
        if not self._path(key).is_file():
            raise ObjectNotFoundError(f"no object {self.uri_for(key)}")
        return self.uri_for(key)

    def pipes_message_reader(
        self, *, include_stdio: bool = True, interval_s: float = 10.0
    ) -> dg.PipesMessageReader:
        path = self._path(f"{PIPES_PREFIX}{uuid.uuid4().hex}.jsonl")
        path.parent.mkdir(parents=True, exist_ok=True)
        # Kept after the session like S3 chunks are (the lifecycle expires them there).
        return FileMessageReader(
            path=str(path), include_stdio_in_messages=include_stdio, cleanup_file=False
        )

    def pipes_env(self, *, with_credentials: bool = False) -> dict[str, str]:
        return {}

    @property
    def endpoint_url(self) -> str | None:
        return None

    @property
    def reachable_from_pods(self) -> bool:
        return False  # a folder of this machine (a shared volume would need mounting in pods)


class S3ObjectStore(ObjectStoreResource):
    """A bucket on S3 or an S3-compatible server; the client comes from dagster-aws."""

    bucket: str
    s3: S3Resource
    _client: Any = PrivateAttr(default=None)

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.s3.get_client()
        return self._client

    def put_bytes(self, key: str, data: bytes) -> str:
        self.client.put_object(Bucket=self.bucket, Key=self.full_key(key), Body=data)
        return self.uri_for(key)

    def put_file(self, key: str, path: Path) -> str:
        self.client.upload_file(str(path), self.bucket, self.full_key(key))
        return self.uri_for(key)

    def get_bytes(self, key: str) -> bytes:
        with self._found(key):
            response = self.client.get_object(Bucket=self.bucket, Key=self.full_key(key))
            return response["Body"].read()

    def get_file(self, key: str, path: Path) -> Path:
        with self._found(key):
            self.client.download_file(self.bucket, self.full_key(key), str(path))
        return path

    def list_objects(self, prefix: str = "") -> list[StoredObject]:
        base = self.full_key("_").removesuffix("_")
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.list_prefix(prefix)
        )
        found = [
            StoredObject(key=item["Key"].removeprefix(base), size=item["Size"])
            for page in pages
            for item in page.get("Contents", ())
        ]
        return sorted(found, key=lambda o: o.key)

    def uri_for(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.full_key(key)}"

    def presigned_url(self, key: str, expires_s: int = 3600) -> str:
        with self._found(key):  # a URL to nothing would only fail later, at the reader
            self.client.head_object(Bucket=self.bucket, Key=self.full_key(key))
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self.full_key(key)},
            ExpiresIn=expires_s,
        )

    def pipes_message_reader(
        self, *, include_stdio: bool = True, interval_s: float = 10.0
    ) -> dg.PipesMessageReader:
        return S3MessageReader(
            prefix=self.full_key(PIPES_PREFIX + "_").removesuffix("_"),
            bucket=self.bucket,
            client=self.client,
            interval=interval_s,
            include_stdio_in_messages=include_stdio,
        )

    @property
    def endpoint_url(self) -> str | None:
        return self.s3.endpoint_url

    @property
    def reachable_from_pods(self) -> bool:
        return True

    def pipes_env(self, *, with_credentials: bool = False) -> dict[str, str]:
        env = {}
        if self.s3.endpoint_url:
            env["AWS_ENDPOINT_URL_S3"] = self.s3.endpoint_url
        if self.s3.region_name:
            env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = self.s3.region_name
        if with_credentials and self.s3.aws_access_key_id and self.s3.aws_secret_access_key:
            env["AWS_ACCESS_KEY_ID"] = self.s3.aws_access_key_id
            env["AWS_SECRET_ACCESS_KEY"] = self.s3.aws_secret_access_key
        return env

    @contextmanager
    def _found(self, key: str) -> Iterator[None]:
        try:
            yield
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _NOT_FOUND_CODES:
                raise ObjectNotFoundError(f"no object {self.uri_for(key)}") from None
            raise


def build_object_store(settings: Settings) -> ObjectStoreResource:
    """The store the settings choose. Keys go in as `dg.EnvVar`s, so the Dagster UI shows the
    variable's name, never the secret (settings have already checked that both are set)."""
    if settings.object_store_kind == "local":
        root = settings.object_store_root or settings.home / "objects"
        return LocalObjectStore(root=str(root), prefix=settings.object_store_prefix)
    assert settings.object_store_bucket  # the settings validator guarantees it
    with_keys = settings.object_store_access_key_id is not None
    return S3ObjectStore(
        bucket=settings.object_store_bucket,
        prefix=settings.object_store_prefix,
        s3=S3Resource(
            endpoint_url=settings.object_store_endpoint_url,
            region_name=settings.object_store_region,
            aws_access_key_id=(
                dg.EnvVar("CATALOG_OBJECT_STORE_ACCESS_KEY_ID") if with_keys else None
            ),
            aws_secret_access_key=(
                dg.EnvVar("CATALOG_OBJECT_STORE_SECRET_ACCESS_KEY") if with_keys else None
            ),
        ),
    )
