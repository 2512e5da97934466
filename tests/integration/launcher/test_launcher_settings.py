"""Launcher settings that cannot work are refused at start-up, with what to set instead."""

import pytest
from pydantic import ValidationError

from resources.launcher import build_launcher
from resources.object_store import build_object_store
from resources.settings import Settings


def test_pods_cannot_write_raw_records_to_a_local_object_store():
    with pytest.raises(ValidationError, match="CATALOG_LAUNCHER_KIND=k8s needs an object store"):
        Settings(database_url=None, redis_url=None, launcher_kind="k8s")
    pods = Settings(database_url=None, redis_url=None, launcher_kind="k8s",
                    object_store_kind="s3", object_store_bucket="benchmarks")  # fmt: skip
    assert pods.launcher_kind == "k8s"
    assert Settings(database_url=None, redis_url=None).object_store_kind == "local"


def test_the_credentials_secret_reaches_the_k8s_launcher_and_must_be_a_secret_name():
    pods = {"database_url": None, "redis_url": None, "launcher_kind": "k8s",
            "object_store_kind": "s3", "object_store_bucket": "benchmarks"}  # fmt: skip
    settings = Settings(**pods, launcher_credentials_secret="model-catalog-harness")
    launcher = build_launcher(settings, build_object_store(settings))
    assert launcher.credentials_secret == "model-catalog-harness"
    with pytest.raises(ValidationError, match="launcher_credentials_secret"):
        Settings(**pods, launcher_credentials_secret="AWS_SECRET_ACCESS_KEY=abc")
