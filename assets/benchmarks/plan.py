"""Which (model, GPU, config) to benchmark next, within a budget (pure logic).

A pair is due when it was never measured, when the Hub revision (`sha`) differs from the
revision of its latest own result, or when the engine version differs. Due items are taken in
order of popularity (30-day downloads, then model id), greedily: an item that would exceed the
budget is deferred and cheaper items after it may still fit.

Estimates, per run:
- GPUs: the fewest (1, 2, 4, 8) whose memory holds the weights with `HEADROOM` for KV cache and
  activations; a model that needs more than 8 is unplannable.
- Throughput: the latest own result of the same work when there is one; else a memory-bound
  heuristic, `ROOFLINE_EFFICIENCY` x the bandwidth roofline per user (see roofline.py) x the
  concurrency (decode reads the weights once per step for the whole batch).
- Duration: `SETUP_S` (node, image, start) + weight load at `LOAD_GBPS` + the requested output
  tokens at that throughput. GPU-hours = duration x GPUs.
- Cost: GPU-hours x the effective spot price (spot is what we launch); the on-demand cost is what
  the fallback would cost and is shown beside it. Budget counts the spot estimate.
"""

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from assets.benchmarks.roofline import BYTES_PER_PARAM
from assets.benchmarks.runs import DEFAULT_SAMPLING, config_key

HEADROOM = 1.3
MAX_GPUS = 8
ROOFLINE_EFFICIENCY = 0.5
SETUP_S = 600.0
LOAD_GBPS = 1.0

Status = Literal["planned", "over_budget", "unplannable", "given_up"]


@dataclass(frozen=True)
class Outcomes:
    """What the plan's earlier runs of one piece of work (`work_key`) ended with."""

    failed: int = 0
    succeeded: int = 0
    last_run_id: str | None = None


@dataclass(frozen=True)
class Candidate:
    """A catalog model that could be benchmarked."""

    model_id: str
    sha: str | None
    downloads: int | None
    num_parameters: int | None


@dataclass(frozen=True)
class LastRun:
    """The latest own result of a (model, GPU, config_key)."""

    revision: str | None
    engine_version: str | None
    output_throughput: float | None


@dataclass(frozen=True)
class GpuOffer:
    """A GPU we can run on, with its prices in $/GPU-hour (None: no price known)."""

    gpu: str
    memory_gb: float
    bandwidth_gbps: float | None
    spot_usd_per_gpu_hour: float | None
    on_demand_usd_per_gpu_hour: float | None


@dataclass(frozen=True)
class Budget:
    """Caps of one plan (totals) and of each run in it."""

    max_gpu_hours: float
    max_usd: float
    max_gpu_hours_per_run: float = math.inf
    max_usd_per_run: float = math.inf


@dataclass
class PlanItem:
    model_id: str
    revision: str | None
    gpu: str
    num_gpus: int
    config: dict[str, Any]
    config_key: str
    reason: str
    downloads: int | None
    status: Status = "planned"
    note: str = ""
    estimate_basis: str = ""
    est_gpu_hours: float | None = None
    est_usd_spot: float | None = None
    est_usd_on_demand: float | None = None
    rank: int = 0
    work_key: str = ""  # not stored: the sensor derives it again from the row
    extra: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("extra", "work_key")
        }


def work_key(
    model_id: str, gpu: str, key: str, revision: str | None, engine_version: str | None
) -> str:
    """One planned piece of work: (model, GPU, config) at a revision and engine version. Its
    runs are counted under it, and a new revision or engine version starts a fresh count."""
    identity = repr((model_id, gpu, key, revision or "", engine_version or ""))
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def due_reason(
    candidate: Candidate, last: LastRun | None, engine_version: str | None
) -> str | None:
    """Why this (model, GPU, config) should run now, or None when its result is current."""
    if last is None:
        return "never measured"
    if candidate.sha and last.revision != candidate.sha:
        return f"new revision {(last.revision or 'unknown')[:12]} -> {candidate.sha[:12]}"
    if engine_version and last.engine_version != engine_version:
        return f"engine {last.engine_version or 'unknown'} -> {engine_version}"
    return None


def gpus_needed(num_parameters: int, dtype: str, memory_gb: float) -> int | None:
    weights_gb = num_parameters * BYTES_PER_PARAM[dtype] / 1e9
    for count in (1, 2, 4, 8):
        if weights_gb * HEADROOM <= memory_gb * count:
            return count
    return None


def estimate_gpu_hours(
    num_parameters: int,
    config: Mapping[str, Any],
    offer: GpuOffer,
    num_gpus: int,
    measured_throughput: float | None,
) -> tuple[float | None, str]:
    """(GPU-hours of one run, which basis it used); None when nothing to estimate from."""
    weight_bytes = num_parameters * BYTES_PER_PARAM[config["dtype"]]
    if measured_throughput:
        throughput, basis = measured_throughput, "past run"
    elif offer.bandwidth_gbps:
        per_user = ROOFLINE_EFFICIENCY * offer.bandwidth_gbps * 1e9 * num_gpus / weight_bytes
        throughput, basis = per_user * config["concurrency"], "roofline heuristic"
    else:
        return None, "no bandwidth and no past run"
    sampling = {**DEFAULT_SAMPLING, **config}
    tokens = (sampling["num_requests"] + sampling["warmup_requests"]) * config["output_len"]
    seconds = SETUP_S + weight_bytes / (LOAD_GBPS * 1e9) + tokens / throughput
    return seconds / 3600 * num_gpus, basis


def plan(
    candidates: Iterable[Candidate],
    offers: Sequence[GpuOffer],
    configs: Sequence[Mapping[str, Any]],
    last_runs: Mapping[tuple[str, str, str], LastRun],
    engine_version: str | None,
    budget: Budget,
    outcomes: Mapping[str, Outcomes] | None = None,
    max_failures: int = 2,
) -> list[PlanItem]:
    """Due items, most popular first, each `planned`, `over_budget`, `unplannable` or
    `given_up`.

    `last_runs` is keyed by (model_id, gpu, config_key), `outcomes` by `work_key`. Work whose
    runs failed `max_failures` times is given up (until a new revision or engine version), and
    so is work still due after a run of it succeeded: a rerun would measure the same thing
    again. Given-up items cost nothing. Duplicate models, GPUs and configs are planned once.
    """
    outcomes = outcomes or {}
    models = sorted(_first_of_each(candidates, lambda c: c.model_id).values(),
                    key=lambda c: (-(c.downloads or 0), c.model_id))  # fmt: skip
    gpus = _first_of_each(offers, lambda o: o.gpu).values()
    unique_configs = _first_of_each(map(dict, configs), config_key).items()
    items: list[PlanItem] = []
    hours_left, usd_left = budget.max_gpu_hours, budget.max_usd
    for candidate in models:
        for offer in gpus:
            for key, config in unique_configs:
                last = last_runs.get((candidate.model_id, offer.gpu, key))
                reason = due_reason(candidate, last, engine_version)
                if reason is None:
                    continue
                item = PlanItem(candidate.model_id, candidate.sha, offer.gpu, 1, config, key,
                                reason, candidate.downloads)  # fmt: skip
                item.work_key = work_key(candidate.model_id, offer.gpu, key, candidate.sha,
                                         engine_version)  # fmt: skip
                _estimate(item, candidate, offer, last)
                if item.status == "planned":
                    _judge_outcomes(item, outcomes.get(item.work_key), last, max_failures)
                if item.status == "planned":
                    hours_left, usd_left = _charge(item, budget, hours_left, usd_left)
                items.append(item)
    for rank, item in enumerate(items, start=1):
        item.rank = rank
    return items


def _first_of_each(items: Iterable, key: Callable) -> dict:
    """The first item per key, in input order."""
    first: dict = {}
    for item in items:
        first.setdefault(key(item), item)
    return first


def _estimate(item: PlanItem, candidate: Candidate, offer: GpuOffer, last: LastRun | None) -> None:
    if not candidate.num_parameters:
        item.status, item.note = "unplannable", "unknown model size"
        return
    if item.config.get("dtype") not in BYTES_PER_PARAM:
        item.status, item.note = "unplannable", f"unknown dtype {item.config.get('dtype')!r}"
        return
    count = gpus_needed(candidate.num_parameters, item.config["dtype"], offer.memory_gb)
    if count is None:
        item.status, item.note = "unplannable", f"needs more than {MAX_GPUS} x {offer.gpu}"
        return
    item.num_gpus = count
    hours, item.estimate_basis = estimate_gpu_hours(
        candidate.num_parameters, item.config, offer, count, last and last.output_throughput
    )
    if hours is None:
        item.status, item.note = "unplannable", item.estimate_basis
        return
    item.est_gpu_hours = hours
    if offer.spot_usd_per_gpu_hour is None or offer.on_demand_usd_per_gpu_hour is None:
        item.status, item.note = "unplannable", f"no price for {offer.gpu}"
        return
    item.est_usd_spot = hours * offer.spot_usd_per_gpu_hour
    item.est_usd_on_demand = hours * offer.on_demand_usd_per_gpu_hour


def _charge(
    item: PlanItem, budget: Budget, hours_left: float, usd_left: float
) -> tuple[float, float]:
    hours, usd = item.est_gpu_hours or 0.0, item.est_usd_spot or 0.0
    if hours > budget.max_gpu_hours_per_run or usd > budget.max_usd_per_run:
        item.status, item.note = "over_budget", "over the per-run cap"
    elif hours > hours_left or usd > usd_left:
        item.status = "over_budget"
        item.note = f"plan budget left: {hours_left:.2f} GPU-h, ${usd_left:.2f}"
    else:
        return hours_left - hours, usd_left - usd
    return hours_left, usd_left


def _judge_outcomes(
    item: PlanItem, outcomes: Outcomes | None, last: LastRun | None, max_failures: int
) -> None:
    if outcomes is None:
        return
    run = f" (last run {outcomes.last_run_id})" if outcomes.last_run_id else ""
    if outcomes.succeeded:
        found = f"revision {last.revision}, engine {last.engine_version}" if last else "no result"
        item.status = "given_up"
        item.note = f"a run of this work succeeded but the result is still not current ({found})"
        item.note += f"; check benchmark_engine_version{run}"
    elif outcomes.failed >= max_failures:
        item.status = "given_up"
        item.note = f"failed {outcomes.failed} times{run}; retried at a new revision or engine"
    elif outcomes.failed:
        item.note = f"retry after {outcomes.failed} failure(s){run}"
