"""The local launcher: the harness as a subprocess on this machine (embedded mode, CPU, tests).

There is no spot capacity here, so an attempt either succeeds or fails: a non-zero exit is the
benchmark's own failure, reported with the reason the harness gave through Pipes, and a harness
still running after the request's `max_runtime_s` is killed (with everything it started) and
fails the same way. The subprocess gets the object store's environment with its credentials
(same machine, nothing leaves it), so the harness can write raw records to an S3 store too.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

import dagster as dg
from dagster._core.errors import DagsterExecutionInterruptedError, DagsterPipesExecutionError
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

# After SIGTERM, how long the harness may take to exit before SIGKILL.
KILL_GRACE_S = 10.0


class HarnessTimedOut(Exception):
    """The harness ran past its time limit and was killed."""


class TimedSubprocessClient(dg.PipesSubprocessClient):
    """`PipesSubprocessClient` with a time limit.

    The stock client waits for its process forever and gives no handle to it, so this `run`
    is the stock one plus the limit: the harness starts in a session of its own, and past
    `time_limit_s` its whole process group (torch workers, a server it started) is stopped.
    """

    def __init__(self, *, time_limit_s: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.time_limit_s = time_limit_s

    def run(  # type: ignore[override]
        self,
        *,
        context: dg.AssetExecutionContext,
        command: Sequence[str],
        extras: Mapping | None = None,
    ) -> dg.PipesClientCompletedInvocation:
        with dg.open_pipes_session(
            context=context,
            context_injector=self.context_injector,
            message_reader=self.message_reader,
            extras=extras,
        ) as session:
            env = {**os.environ, **self.env, **session.get_bootstrap_env_vars()}
            process = subprocess.Popen(command, cwd=self.cwd, env=env, start_new_session=True)
            # Whatever the harness leaves in its group once it has exited by itself is killed.
            first = signal.SIGKILL
            try:
                if not _wait_unreaped(process.pid, self.time_limit_s):
                    first = signal.SIGTERM
                    raise HarnessTimedOut(
                        f"the harness ran past max_runtime_s={self.time_limit_s:g} s and was "
                        "killed (with its child processes)"
                    )
            except DagsterExecutionInterruptedError:
                # Its own session does not get the terminal's Ctrl-C: forward it, as upstream.
                first = signal.SIGINT
                raise
            finally:
                _stop_group(process, first)
            if process.returncode != 0:
                raise DagsterPipesExecutionError(
                    f"External execution process failed with code {process.returncode}"
                )
        return dg.PipesClientCompletedInvocation(session)


def _wait_unreaped(pid: int, timeout_s: float) -> bool:
    """Whether child `pid` exited within `timeout_s`, without reaping it: until it is reaped its
    pid, and so its process group's id, cannot be reused, so `killpg` cannot hit another group.
    (`os.waitid` has no timeout; polling with WNOHANG is the portable way to bound it.)"""
    deadline = time.monotonic() + timeout_s
    delay = 0.01
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is None:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(delay, left))
        delay = min(2 * delay, 0.5)
    return True


def _stop_group(process: subprocess.Popen, first: signal.Signals) -> None:
    """`first` to the harness's process group, SIGKILL to whatever is left after `KILL_GRACE_S`
    (at once when `first` is SIGKILL), then reap the harness. Only the reaping frees its pid:
    the group id is still ours for both signals. The group is gone after."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, first)
        if first != signal.SIGKILL:
            _wait_unreaped(process.pid, KILL_GRACE_S)
        # The leader may be gone while children it started still run in its group.
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


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
        client = TimedSubprocessClient(
            env=env, cwd=self.cwd, message_reader=reader, time_limit_s=request.max_runtime_s
        )
        try:
            invocation = client.run(
                context=context, command=self.command, extras={JOB_EXTRAS_KEY: request.job}
            )
        except DagsterPipesExecutionError as error:
            reason = reader.harness_error or str(error)
            return AttemptReport(Classification("failed", f"harness failed: {reason}"))
        except HarnessTimedOut as error:
            return AttemptReport(Classification("failed", f"harness timed out: {error}"))
        except OSError as error:  # the command itself cannot start (not found, not executable)
            return AttemptReport(Classification("failed", f"cannot start {self.command}: {error}"))
        results = tuple(invocation.get_results())
        return AttemptReport(Classification("succeeded", "completed"), results)
