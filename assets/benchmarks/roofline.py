"""Physics check: a measured decode rate cannot beat the memory-bandwidth roofline of its GPU.

Decoding one token for one sequence reads every active weight from GPU memory at least once.
Weights read in a step are shared by the whole batch, so the bound is per *user* (per sequence),
not per system: each sequence gets at most one token per decode step, and a step takes at least
``weight bytes / bandwidth``. Hence

    tokens/s per user  <=  bandwidth x gpus_per_replica / (active_params x bytes_per_param)

- ``gpus_per_replica = num_gpus / data_parallel``: data-parallel replicas each hold a full copy
  of the weights and serve different users, so they add no bandwidth to one user's stream.
- ``active_params``: parameters read per token. For a mixture of experts that is the activated
  count, not the total (29 ML.ENERGY MoE rows beat a total-parameter bound, by up to 2.3x:
  routing, not a bug). KV-cache reads only add bytes, so leaving them out keeps the bound an
  upper one.
- ``bytes_per_param`` from the stored weight precision (ML.ENERGY) or the run's dtype (own runs).
- ``tolerance`` (default 1.05) absorbs rounding in published spec-sheet bandwidths.

A row without a known size, precision, bandwidth or decode rate is skipped and counted.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

DEFAULT_TOLERANCE = 1.05
BYTES_PER_PARAM = {
    "float32": 4.0, "fp32": 4.0,
    "bfloat16": 2.0, "bf16": 2.0, "float16": 2.0, "fp16": 2.0,
    "fp8": 1.0, "float8": 1.0, "int8": 1.0,
    "mxfp4": 0.5, "nvfp4": 0.5, "fp4": 0.5, "int4": 0.5,
}  # fmt: skip

Verdict = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class RowVerdict:
    verdict: Verdict
    reason: str  # why skipped, or "" when judged
    per_user_tokens_s: float | None = None
    bound_tokens_s: float | None = None

    @property
    def utilisation(self) -> float | None:
        """Measured rate as a share of the roofline (1.0 = at the bound)."""
        if self.per_user_tokens_s is None or not self.bound_tokens_s:
            return None
        return self.per_user_tokens_s / self.bound_tokens_s


@dataclass(frozen=True)
class RooflineSummary:
    passed: int = 0
    failed: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> rows
    violations: tuple[dict[str, Any], ...] = ()  # the failing rows, worst first
    max_utilisation: float | None = None


def active_params(row: Mapping[str, Any], catalog_params: int | None = None) -> float | None:
    """Parameters read per decoded token: activated (MoE) > total > the catalog's count."""
    extra = row.get("extra") or {}
    for key in ("activated_params_billions", "total_params_billions"):
        if extra.get(key):
            return float(extra[key]) * 1e9
    if extra.get("num_parameters"):
        return float(extra["num_parameters"])
    return float(catalog_params) if catalog_params else None


def bytes_per_param(row: Mapping[str, Any]) -> float | None:
    config = row.get("config") or {}
    precision = config.get("weight_precision") or config.get("dtype")
    return BYTES_PER_PARAM.get(str(precision).lower()) if precision else None


def per_user_decode_rate(row: Mapping[str, Any]) -> float | None:
    """Tokens/s per user: the stored value, else 1000 / median ITL, else 1000 / median TPOT."""
    if row.get("output_unit", "token") != "token":
        return None
    if row.get("tokens_per_s_per_user"):
        return float(row["tokens_per_s_per_user"])
    for column in ("itl_ms_p50", "tpot_ms_p50"):
        if row.get(column):
            return 1000.0 / float(row[column])
    return None


def judge(
    row: Mapping[str, Any],
    bandwidth_gbps: float | None,
    catalog_params: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> RowVerdict:
    """Whether one `benchmark_results` row respects the roofline of its GPU."""
    rate = per_user_decode_rate(row)
    if rate is None:
        return RowVerdict("skipped", "no decode rate (not a token result)")
    if not bandwidth_gbps:
        return RowVerdict("skipped", f"no memory bandwidth for GPU {row.get('gpu')!r}")
    params = active_params(row, catalog_params)
    if not params:
        return RowVerdict("skipped", "unknown model size")
    width = bytes_per_param(row)
    if width is None:
        return RowVerdict("skipped", "unknown weight precision")
    data_parallel = max(int((row.get("config") or {}).get("data_parallel") or 1), 1)
    gpus_per_replica = max(int(row.get("num_gpus") or 1) / data_parallel, 1.0)
    bound = bandwidth_gbps * 1e9 * gpus_per_replica / (params * width)
    verdict: Verdict = "passed" if rate <= bound * tolerance else "failed"
    return RowVerdict(verdict, "", rate, bound)


def check_rows(
    rows: Iterable[Mapping[str, Any]],
    bandwidths: Mapping[str, float | None],
    catalog_params: Mapping[str, int | None] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> RooflineSummary:
    """Judge every row; `bandwidths` by canonical GPU name, `catalog_params` by model id."""
    catalog_params = catalog_params or {}
    passed = failed = 0
    skipped: Counter = Counter()
    violations: list[dict[str, Any]] = []
    utilisations: list[float] = []
    for row in rows:
        verdict = judge(
            row, bandwidths.get(row.get("gpu", "")), catalog_params.get(row["model_id"]), tolerance
        )
        if verdict.verdict == "skipped":
            skipped[verdict.reason] += 1
            continue
        utilisations.append(verdict.utilisation or 0.0)
        if verdict.verdict == "passed":
            passed += 1
            continue
        failed += 1
        violations.append({
            "result_key": row.get("result_key"), "source": row.get("source"),
            "model_id": row["model_id"], "gpu": row.get("gpu"), "num_gpus": row.get("num_gpus"),
            "per_user_tokens_s": verdict.per_user_tokens_s,
            "bound_tokens_s": verdict.bound_tokens_s, "utilisation": verdict.utilisation,
        })  # fmt: skip
    violations.sort(key=lambda v: -(v["utilisation"] or 0.0))
    return RooflineSummary(
        passed, failed, skipped, tuple(violations), max(utilisations) if utilisations else None
    )
