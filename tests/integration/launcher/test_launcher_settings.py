"""Launcher settings that cannot work are refused at start-up, with what to set instead."""

import pytest
from pydantic import ValidationError

from resources.settings import Settings


def test_pods_cannot_write_raw_records_to_a_local_object_store():
    with pytest.raises(ValidationError, match="CATALOG_LAUNCHER_KIND=k8s needs an object store"):
        Settings(database_url=None, redis_url=None, launcher_kind="k8s")
    pods = Settings(database_url=None, redis_url=None, launcher_kind="k8s",
                    object_store_kind="s3", object_store_bucket="benchmarks")  # fmt: skip
    assert pods.launcher_kind == "k8s"
    assert Settings(database_url=None, redis_url=None).object_store_kind == "local"
