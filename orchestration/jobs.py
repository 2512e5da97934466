"""Jobs: the whole catalog, the daily registry sync, and one benchmark run per partition."""

import dagster as dg

from assets.benchmarks.podspec import GPU_NODE_LABELS
from assets.benchmarks.run_assets import BenchmarkRunConfig
from resources.launcher import run_time_limit_s
from resources.settings import get_settings

# Own benchmark runs are partitioned by (model, GPU); a job cannot mix partitioned and
# unpartitioned assets, and a GPU run is never something to start by materialising "everything".
_BENCHMARK_RUNS = dg.AssetSelection.assets("benchmark_runs")
# Dagster's run tags (dagster._core.storage.tags; spelled out, the module is private).
RETRY_ON_STEP_FAILURE_TAG = "dagster/retry_on_asset_or_op_failure"
MAX_RUNTIME_TAG = "dagster/max_runtime"
MAX_RETRIES_TAG = "dagster/max_retries"
# The run coordinator's per-GPU queues (deploy/helm/dagster-values.yaml tagConcurrencyLimits)
# key on the GPU family, the same value as the harness pod's node pool label.
GPU_TYPE_TAG = "gpu-type"
# For a run launched without its own (by hand from the UI).
DEFAULT_MAX_RUNTIME_S: int = BenchmarkRunConfig.model_fields["max_runtime_s"].default


def benchmark_run_tags(max_runtime_s: int, gpu: str | None = None) -> dict[str, str]:
    """Run tags of a benchmark run on `gpu` whose attempts may each take `max_runtime_s`.

    `gpu-type` (the GPU family of a canonical GPU name; none for CPU) puts the run in its GPU's
    queue, so no more runs wait on a pool than it has GPUs.

    Dagster's run retries (deploy/helm/dagster-values.yaml) are off for these runs: a failed
    step is a genuine failure (bad model, OOM) or preemptions the launcher already retried up
    to its limit, and a rerun would rent the GPU again for nothing. Run monitoring fails a run
    past its time limit without a step failure, so the step-failure tag alone would not stop
    that rerun; `max_retries: 0` does. Work that never got going is not lost: the plan sensor
    re-plans failed partitions and the launcher itself retries preemptions.
    """
    tags = {
        RETRY_ON_STEP_FAILURE_TAG: "false",
        MAX_RETRIES_TAG: "0",
        MAX_RUNTIME_TAG: str(run_time_limit_s(max_runtime_s, get_settings())),
    }
    if gpu in GPU_NODE_LABELS:
        tags[GPU_TYPE_TAG] = GPU_NODE_LABELS[gpu].pool
    return tags


# The whole graph, checks included, except the partitioned benchmark runs.
catalog_job = dg.define_asset_job(
    "catalog_job", selection=dg.AssetSelection.all() - _BENCHMARK_RUNS
)

# The registry and everything that depends on it, so the catalog the API serves stays current.
registry_sync_job = dg.define_asset_job(
    "registry_sync_job",
    selection=dg.AssetSelection.groups("registry").downstream() - _BENCHMARK_RUNS,
)

# One own benchmark run: a (model, GPU) partition, requested by the API queue, the plan or by
# hand (partitioning is inferred from the asset). The sensors tag each run with its own limit.
benchmark_run_job = dg.define_asset_job(
    "benchmark_run_job",
    selection=_BENCHMARK_RUNS,
    tags=benchmark_run_tags(DEFAULT_MAX_RUNTIME_S),
)
