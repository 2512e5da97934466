"""The local launcher: the harness as a subprocess on this machine (embedded mode, CPU, tests).

There is no spot capacity here, so an attempt either succeeds or fails: a non-zero exit is the
benchmark's own failure, reported with the reason the harness gave through Pipes. The subprocess
gets the object store's environment with its credentials (same machine, nothing leaves it), so the
harness can write raw records to an S3 store too.
"""

import sys

import dagster as dg
from dagster._core.errors import DagsterPipesExecutionError
from pydantic import Field

from assets.benchmarks.preemption import Classification
from resources.launcher import (
    HARNESS_MODULE,
    JOB_EXTRAS_KEY,
    AttemptReport,
    BenchmarkLauncherResource,
    LaunchRequest,
)
from resources.launcher_pipes import SubprocessMessageReader


class LocalBenchmarkLauncher(BenchmarkLauncherResource):
    """Runs `python -m modelcat_harness` (or `command`) as a Pipes subprocess."""

    command: list[str] = Field(default_factory=lambda: [sys.executable, "-m", HARNESS_MODULE])
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None

    def _run_attempt(
        self, context: dg.AssetExecutionContext, request: LaunchRequest, pricing: str
    ) -> AttemptReport:
        reader = SubprocessMessageReader()
        env = {**self.object_store.pipes_env(with_credentials=True), **self.env}
        client = dg.PipesSubprocessClient(env=env, cwd=self.cwd, message_reader=reader)
        try:
            invocation = client.run(
                context=context, command=self.command, extras={JOB_EXTRAS_KEY: request.job}
            )
        except DagsterPipesExecutionError as error:
            reason = reader.harness_error or str(error)
            return AttemptReport(Classification("failed", f"harness failed: {reason}"))
        except OSError as error:  # the command itself cannot start (not found, not executable)
            return AttemptReport(Classification("failed", f"cannot start {self.command}: {error}"))
        results = tuple(invocation.get_results())
        return AttemptReport(Classification("succeeded", "completed"), results)
