"""Preemption vs genuine failure, and the retry / fallback policy."""

import pytest

from assets.benchmarks.preemption import (
    PodObservation,
    RetryPolicy,
    backoff_delay,
    classify,
    next_step,
    observe_pod,
)


def _pod(phase="Failed", exit_code=None, ended=None, conditions=(), deleting=False, **status):
    """A pod as the API returns it; `ended` is the container's terminated reason."""
    container = {"name": "harness", "state": {}}
    if exit_code is not None:
        container["state"] = {"terminated": {"exitCode": exit_code, "reason": ended}}
    metadata = {"name": "p", **({"deletionTimestamp": "2026-01-01T00:00:00Z"} if deleting else {})}
    status = {"phase": phase, "conditions": list(conditions), "containerStatuses": [container],
              **status}  # fmt: skip
    return {"metadata": metadata, "status": status}


DISRUPTED = {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"}


@pytest.mark.parametrize(
    ("observation", "verdict", "needle"),
    [
        (observe_pod(_pod("Succeeded", 0, "Completed")), "succeeded", "completed"),
        (observe_pod(None), "preempted", "vanished"),
        (observe_pod(_pod(exit_code=137, conditions=[DISRUPTED])), "preempted",
         "EvictionByEvictionAPI"),
        (observe_pod(_pod(reason="Evicted", message="node low on resource")), "preempted",
         "Evicted"),
        (observe_pod(_pod(exit_code=137, ended="Error")), "preempted", "SIGKILL"),
        (observe_pod(_pod(exit_code=143, deleting=True)), "preempted", "deleted from outside"),
        (observe_pod(_pod(exit_code=137, ended="OOMKilled")), "failed", "OOMKilled"),
        (observe_pod(_pod(exit_code=1, ended="Error"), harness_error="LookupError: no model"),
         "failed", "LookupError: no model"),
        (observe_pod(_pod(exit_code=2)), "failed", "exited with code 2"),
        (observe_pod(_pod(reason="DeadlineExceeded")), "failed", "activeDeadlineSeconds"),
        (PodObservation(pending_timed_out=True, message="0/3 nodes are available"), "capacity",
         "0/3 nodes"),
    ],
)  # fmt: skip
def test_classify(observation: PodObservation, verdict: str, needle: str) -> None:
    result = classify(observation)
    assert result.verdict == verdict
    assert needle in result.reason


def test_an_oom_during_a_node_drain_is_still_a_failure() -> None:
    """OOM is the benchmark's fault even if a disruption condition appeared meanwhile."""
    pod = _pod(exit_code=137, ended="OOMKilled", conditions=[DISRUPTED])
    assert classify(observe_pod(pod)).verdict == "failed"


def test_an_image_pull_error_fails_fast() -> None:
    pod = _pod("Pending")
    pod["status"]["containerStatuses"][0]["state"] = {
        "waiting": {"reason": "ImagePullBackOff", "message": "pull access denied"}
    }
    result = classify(observe_pod(pod))
    assert result.verdict == "failed" and "pull access denied" in result.reason


def test_a_harness_error_wins_over_a_sigkill() -> None:
    """The harness said why it failed: a 137 after that is not a reclaimed node."""
    pod = _pod(exit_code=137, ended="Error")
    assert classify(observe_pod(pod, harness_error="ValueError: bad")).verdict == "failed"


def test_observe_pod_reads_the_scheduler_message_of_a_pending_pod() -> None:
    pending = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
               "message": "0/4 nodes are available: 4 Insufficient nvidia.com/gpu."}  # fmt: skip
    observed = observe_pod({"status": {"phase": "Pending", "conditions": [pending]}})
    assert not observed.started
    assert "Insufficient nvidia.com/gpu" in (observed.message or "")


POLICY = RetryPolicy(max_preemptions=2, backoff_s=10.0, max_backoff_s=25.0, jitter=0.5)


def _mid(_: object = None) -> float:
    return 0.5  # no jitter


def test_preempted_spot_is_retried_with_growing_backoff_then_falls_back() -> None:
    first = next_step([("spot", "preempted")], POLICY, True, _mid)
    assert (first.pricing, first.delay_s) == ("spot", 10.0)
    second = next_step([("spot", "preempted")] * 2, POLICY, True, _mid)
    assert second.pricing == "on-demand" and "2 spot preemptions" in second.reason


def test_without_fallback_preemptions_end_in_giving_up() -> None:
    assert next_step([("spot", "preempted")] * 2, POLICY, False, _mid).pricing is None


def test_a_spot_capacity_miss_falls_back_at_once() -> None:
    step = next_step([("spot", "capacity")], POLICY, True, _mid)
    assert step.pricing == "on-demand" and step.delay_s == 0.0


def test_on_demand_attempts_are_bounded_too() -> None:
    history = [("spot", "preempted")] * 2 + [("on-demand", "capacity")]
    assert next_step(history, POLICY, True, _mid).pricing == "on-demand"
    assert next_step([*history, ("on-demand", "preempted")], POLICY, True, _mid).pricing is None


def test_backoff_is_exponential_capped_and_jittered() -> None:
    assert [backoff_delay(n, POLICY, _mid) for n in (1, 2, 3, 10, 1000)] == [
        10.0, 20.0, 25.0, 25.0, 25.0,
    ]  # fmt: skip
    assert backoff_delay(1, POLICY, lambda: 0.0) == 5.0
    assert backoff_delay(1, POLICY, lambda: 0.999999) == pytest.approx(15.0, abs=1e-3)
    with pytest.raises(ValueError):
        backoff_delay(0, POLICY, _mid)
