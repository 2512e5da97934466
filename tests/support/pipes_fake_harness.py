"""A stand-in for `python -m modelcat_harness` that speaks the same Pipes contract
(/tmp/briefs/contract.md §2-3) without measuring anything: the launcher tests need a real process
on the other end of Pipes, not a real benchmark.

It reads the job from the Pipes extras (`"job"`), and reports one materialization carrying
`benchmark_result` plus the two harness checks. A job with `"model_id"` starting `missing/`
fails as a bad model id would: an exception inside the Pipes session, so its reason travels in
the `closed` message. `"fake_sleep_s"` keeps it running for a while (time for a test to preempt
or time it out); `"fake_child_pid_file"` makes it start a child process first and write the
child's pid there (what a time limit must stop too).

The session is opened by the real harness's `open_pipes`, so messages travel exactly as the
harness sends them: through S3 (`PipesS3MessageWriter`) when the launcher's reader asks for it.
"""

import subprocess
import sys
import time
from datetime import UTC, datetime

from modelcat_harness.pipes_io import open_pipes

TOKENS_PER_S = 100.0
RUNNING = "fake harness: running"


def result_for(job: dict) -> dict:
    """A benchmark_result with the contract's columns, derived from the job (not measured)."""
    return {
        "task": job["task"], "model_id": job["model_id"], "model_revision": job.get("revision"),
        "gpu": job["gpu"], "num_gpus": job["num_gpus"], "engine": job["engine"],
        "engine_version": "fake", "harness_version": "fake", "config": job,
        "concurrency": job["concurrency"], "input_len": job["input_len"],
        "output_len": job["output_len"], "output_unit": "token",
        "output_throughput": TOKENS_PER_S, "throughput_per_gpu": TOKENS_PER_S,
        "measured_at": datetime.now(UTC).isoformat(),
    }  # fmt: skip


def main() -> None:
    with open_pipes() as pipes:
        job = pipes.get_extra("job")
        # What the fake kubelet waits for to reclaim a node "mid-run", whichever way messages go.
        print(RUNNING, file=sys.__stderr__, flush=True)
        if job.get("fake_child_pid_file"):
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
            with open(job["fake_child_pid_file"], "w") as file:
                file.write(str(child.pid))
        time.sleep(float(job.get("fake_sleep_s", 0)))
        if job["model_id"].startswith("missing/"):
            raise LookupError(f"model {job['model_id']!r} not found")
        result = result_for(job)
        pipes.report_asset_materialization(
            metadata={
                "benchmark_result": {"raw_value": result, "type": "json"},
                "output_throughput": result["output_throughput"],
            }
        )
        pipes.report_asset_check("harness_requests_succeeded", passed=True)
        pipes.report_asset_check("harness_metrics_consistent", passed=True)


if __name__ == "__main__":
    main()
