"""Fixtures for own benchmark runs: a catalog model, the real harness behind the local
launcher, and a Dagster instance that knows the model partition."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy.engine import Engine

from resources.database import DatabaseResource
from resources.db.tables import MlModel
from resources.launcher_local import LocalBenchmarkLauncher
from resources.object_store import LocalObjectStore, ObjectStoreResource
from resources.settings import REPO_ROOT
from tests.support.seaweed import seaweed  # noqa: F401 (the S3 tests' fixture)

HARNESS = REPO_ROOT / "harness"
MODEL = "tiny-random/llama"
SHA = "0123456789abcdef0123456789abcdef01234567"
# A real architecture, random-initialised and tiny: seconds on CPU, nothing downloaded.
TINY_LLAMA = {
    "model_type": "llama", "vocab_size": 256, "hidden_size": 32, "intermediate_size": 64,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "max_position_embeddings": 128,
}  # fmt: skip
RUN_CONFIG = {
    "model_source": {"kind": "config", "config": TINY_LLAMA},
    "dtype": "float32", "concurrency": 2, "input_len": 12, "output_len": 6,
    "num_requests": 4, "warmup_requests": 1,
}  # fmt: skip
PARTITION = dg.MultiPartitionKey({"model": MODEL, "gpu": "CPU"})


@pytest.fixture
def catalog(clean_db: Engine) -> Engine:
    with clean_db.begin() as conn:
        conn.execute(
            MlModel.__table__.insert(),
            [{"id": MODEL, "source": "test", "pipeline_tag": "text-generation", "sha": SHA,
              "num_parameters": 30_000, "downloads": 10}],
        )  # fmt: skip
    return clean_db


@pytest.fixture
def object_store(tmp_path: Path) -> LocalObjectStore:
    """The embedded mode's store, in a temporary folder: raw records land under raw/benchmarks/."""
    return LocalObjectStore(root=str(tmp_path / "objects"))


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("models", [MODEL])
        yield instance


def resources_for(database_url: str, object_store: ObjectStoreResource) -> dict:
    """What `benchmark_runs` needs: the local launcher (the real harness) on `object_store`."""
    # PYTHONPATH: the harness is its own distribution; the subprocess imports it from the tree.
    launcher = LocalBenchmarkLauncher(object_store=object_store, env={"PYTHONPATH": str(HARNESS)})
    return {
        "database": DatabaseResource(url=database_url),
        "launcher": launcher,
        "object_store": object_store,
    }


@pytest.fixture
def run_resources(database_url: str, object_store: LocalObjectStore) -> dict:
    return resources_for(database_url, object_store)
