"""Why a benchmark attempt ended, and what to do next: pure functions of what was observed.

A spot node being reclaimed shows up in several ways depending on how fast the cloud is: the pod
vanishes (404 while it was running), it is evicted, it carries a `DisruptionTarget` condition, or
its container is SIGKILLed (exit 137) without the kernel's OOM killer being involved. Those are
retried. Everything else (OOM, an image that cannot be pulled, a harness that exits non-zero with
a reason) is the benchmark's own fault and fails fast: retrying would fail the same way.
"""

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["succeeded", "preempted", "capacity", "failed"]
Pricing = Literal["spot", "on-demand"]

SIGKILL_EXIT = 137
SIGTERM_EXIT = 143
# Waiting reasons that never resolve by waiting longer.
FATAL_WAITING = {
    "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError",
    "CreateContainerError", "CrashLoopBackOff", "RunContainerError",
}  # fmt: skip


@dataclass(frozen=True)
class PodObservation:
    """The last state seen of one attempt's pod, plus what the launcher itself noticed."""

    found: bool = True  # False: the API answered 404 (the pod is gone)
    started: bool = False  # the container was seen running or terminated at least once
    phase: str | None = None
    reason: str | None = None  # pod-level: "Evicted", "DeadlineExceeded", "NodeLost"...
    message: str | None = None
    deleting: bool = False  # a deletionTimestamp the launcher did not set
    disruption: str | None = None  # reason of a true `DisruptionTarget` condition
    waiting_reason: str | None = None
    waiting_message: str | None = None
    exit_code: int | None = None
    terminated_reason: str | None = None  # container-level: "OOMKilled", "Error", "Completed"
    terminated_message: str | None = None
    pending_timed_out: bool = False
    harness_error: str | None = None  # the exception the harness reported when it closed Pipes
    launcher_error: str | None = None  # what the Pipes client raised, if anything


@dataclass(frozen=True)
class Classification:
    verdict: Verdict
    reason: str


def classify(pod: PodObservation) -> Classification:
    """The verdict on one attempt. Order matters: the most specific evidence wins."""
    if pod.pending_timed_out:
        why = pod.message or pod.waiting_reason or "no node could take it"
        return Classification("capacity", f"pod still Pending at the pending timeout: {why}")
    if pod.terminated_reason == "OOMKilled":
        return Classification("failed", "out of memory: the container was OOMKilled")
    if pod.waiting_reason in FATAL_WAITING:
        detail = f": {pod.waiting_message}" if pod.waiting_message else ""
        return Classification("failed", f"container cannot start ({pod.waiting_reason}){detail}")
    if pod.disruption:
        return Classification("preempted", f"pod disrupted ({pod.disruption})")
    if pod.reason in {"Evicted", "NodeLost", "Shutdown", "Terminated", "NodeShutdown"}:
        return Classification("preempted", f"pod {pod.reason}: {pod.message or 'node reclaimed'}")
    if pod.reason == "DeadlineExceeded":
        return Classification("failed", "ran past activeDeadlineSeconds (max runtime)")
    if not pod.found and pod.exit_code is None:
        return Classification("preempted", "pod vanished before it finished (node reclaimed)")
    if pod.exit_code == 0 and pod.launcher_error is None:
        return Classification("succeeded", "completed")
    if pod.deleting and pod.exit_code in {None, SIGKILL_EXIT, SIGTERM_EXIT}:
        return Classification("preempted", "pod deleted from outside while running")
    if pod.exit_code == SIGKILL_EXIT and pod.harness_error is None:
        # SIGKILL that is not the OOM killer: the node went away under the container.
        return Classification("preempted", "container SIGKILLed (exit 137, not OOM)")
    if pod.exit_code not in {None, 0}:
        reason = pod.harness_error or _last_line(pod.terminated_message) or "no reason given"
        return Classification("failed", f"harness exited with code {pod.exit_code}: {reason}")
    reason = pod.harness_error or pod.launcher_error or "ended without an exit code"
    return Classification("failed", reason)


def _last_line(text: str | None) -> str | None:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


@dataclass(frozen=True)
class RetryPolicy:
    max_preemptions: int = 3  # per pricing, before falling back (spot) or giving up
    backoff_s: float = 30.0
    max_backoff_s: float = 600.0
    jitter: float = 0.5  # +- this fraction of the delay, so retries of many runs spread out


@dataclass(frozen=True)
class NextStep:
    """None `pricing`: give up (the reason says why)."""

    pricing: Pricing | None
    delay_s: float
    reason: str


def next_step(
    history: Sequence[tuple[Pricing, Verdict]],
    policy: RetryPolicy,
    allow_on_demand_fallback: bool,
    random: Callable[[], float],
) -> NextStep:
    """After a preempted or capacity-missed attempt (the last of `history`): where to run next.

    A capacity miss on spot moves to on-demand at once (waiting for spot that is not there is
    the 24 h wait this avoids); a preemption retries spot with backoff until `max_preemptions`.
    """
    pricing, verdict = history[-1]
    misses = sum(1 for p, v in history if p == pricing and v in {"preempted", "capacity"})
    can_fall_back = pricing == "spot" and allow_on_demand_fallback
    if can_fall_back and (verdict == "capacity" or misses >= policy.max_preemptions):
        why = "no spot capacity" if verdict == "capacity" else f"{misses} spot preemptions"
        return NextStep("on-demand", 0.0, f"{why}: falling back to on-demand")
    if misses >= policy.max_preemptions:
        return NextStep(None, 0.0, f"{misses} {pricing} attempts preempted or unscheduled")
    return NextStep(pricing, backoff_delay(misses, policy, random), f"retrying {pricing}")


def backoff_delay(attempt: int, policy: RetryPolicy, random: Callable[[], float]) -> float:
    """Exponential backoff (base * 2^(attempt-1), capped) with symmetric jitter; `random()` in
    [0, 1) is injected so tests and callers decide the randomness."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    exponent = min(attempt - 1, 32)  # 2**32 * any sane base is past every cap already
    delay = min(policy.max_backoff_s, policy.backoff_s * math.pow(2, exponent))
    return max(0.0, delay * (1 + policy.jitter * (2 * random() - 1)))


def observe_pod(pod: Mapping[str, Any] | None, **launcher_notes: Any) -> PodObservation:
    """A PodObservation from a pod as the API returns it (camelCase JSON), or None for a 404.

    `launcher_notes` are the PodObservation fields only the launcher knows (started,
    pending_timed_out, harness_error, launcher_error).
    """
    if pod is None:
        return PodObservation(found=False, **launcher_notes)
    status = pod.get("status") or {}
    disruption = next(
        (
            c.get("reason") or "DisruptionTarget"
            for c in status.get("conditions") or []
            if c.get("type") == "DisruptionTarget" and c.get("status") == "True"
        ),
        None,
    )
    container = next(iter(status.get("containerStatuses") or []), {})
    state = container.get("state") or {}
    waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
    started = bool(state.get("running") or terminated)
    return PodObservation(
        found=True,
        phase=status.get("phase"),
        reason=status.get("reason"),
        message=status.get("message") or _unschedulable(status),
        deleting=bool((pod.get("metadata") or {}).get("deletionTimestamp")),
        disruption=disruption,
        waiting_reason=waiting.get("reason"),
        waiting_message=waiting.get("message"),
        exit_code=terminated.get("exitCode"),
        terminated_reason=terminated.get("reason"),
        terminated_message=terminated.get("message"),
        **{"started": started, **launcher_notes},
    )


def _unschedulable(status: Mapping[str, Any]) -> str | None:
    """The scheduler's word on a Pending pod ("0/12 nodes are available: ...")."""
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return condition.get("message") or condition.get("reason")
    return None
