"""The canonical metrics of a run (DESIGN §5) from its request timings, and their definitions.

Only successful requests inside the measured window count; warm-up requests never reach here.
TPOT (per request, then percentiles) and ITL (pooled chunk gaps) are kept apart.
"""

import math
from collections.abc import Sequence
from typing import Any

from modelcat_harness.stats import PERCENTILES, mean, percentile, summary
from modelcat_harness.timing import RequestTiming, e2e_ms, itl_ms, tpot_ms, ttft_ms

DEFINITIONS = {
    "ttft": "time to first token: first non-empty streamed chunk minus request send time, "
    "per request (ms); percentiles over requests",
    "tpot": "time per output token, per request: (E2E - TTFT) / (N_out - 1) (ms); "
    "percentiles over requests with N_out > 1",
    "itl": "inter-token latency: gaps between consecutive streamed chunks, pooled over all "
    "requests (ms); never mixed with TPOT",
    "e2e": "end-to-end latency: last streamed chunk minus request send time, per request (ms)",
    "output_throughput": "output tokens of successful requests / measured window (tokens/s), "
    "at the stated concurrency, input/output lengths and engine; warm-up excluded",
    "throughput_per_gpu": "output_throughput / num_gpus",
    # DESIGN §5 "1/ITL" per token: a server may stream several tokens in one chunk, so 1000 /
    # median chunk gap would count chunks; TPOT divides a request's decode time by its tokens.
    "tokens_per_s_per_user": "1000 / median TPOT (ms): output tokens per second one request "
    "sees while decoding (1/ITL per token, equal to 1000 / median ITL when every streamed "
    "chunk carries one token)",
    "percentiles": "linear interpolation between closest ranks (numpy default)",
}


def aggregate(timings: Sequence[RequestTiming], duration_s: float, num_gpus: int) -> dict:
    """The `benchmark_results` metric columns for one measured window."""
    ok = [t for t in timings if t.ok]
    itl = [gap for t in ok for gap in itl_ms(t)]
    tpot = [v for t in ok if (v := tpot_ms(t)) is not None]
    output_tokens = sum(t.output_tokens for t in ok)
    throughput = output_tokens / duration_s if ok and duration_s > 0 else None
    tpot_p50 = percentile(tpot, 50)
    return {
        "output_throughput": throughput,
        "throughput_per_gpu": throughput / num_gpus if throughput is not None else None,
        "tokens_per_s_per_user": 1000 / tpot_p50 if tpot_p50 else None,
        **summary([ttft_ms(t) for t in ok], "ttft_ms"),
        **summary(tpot, "tpot_ms"),
        **summary(itl, "itl_ms"),
        **summary([e2e_ms(t) for t in ok], "e2e_ms"),
    }


def counts(timings: Sequence[RequestTiming], duration_s: float) -> dict[str, Any]:
    """Request and token counts for `extra` and the `harness_requests_succeeded` check."""
    ok = [t for t in timings if t.ok]
    itl = [gap for t in ok for gap in itl_ms(t)]
    return {
        "requests_total": len(timings),
        "requests_succeeded": len(ok),
        "requests_failed": len(timings) - len(ok),
        "output_tokens": sum(t.output_tokens for t in ok),
        "input_tokens": sum(t.input_tokens for t in ok),
        "duration_s": duration_s,
        "itl_ms_mean": mean(itl),
        "first_errors": sorted({t.error for t in timings if t.error})[:5],
    }


def consistency_problems(
    timings: Sequence[RequestTiming], columns: dict[str, Any], duration_s: float, output_len: int
) -> list[str]:
    """Bookkeeping invariants a correct run satisfies; each broken one is named.

    These catch unit and accounting bugs (ms vs s, a token counted twice, warm-up leaking in),
    not slow hardware: nothing here depends on how fast the run was.
    """
    problems: list[str] = []
    ok = [t for t in timings if t.ok]
    if not ok:
        return ["no successful request"]
    for prefix in ("ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"):
        values = [columns[f"{prefix}_p{q}"] for q in PERCENTILES]
        if any(v is not None and (v < 0 or not math.isfinite(v)) for v in values):
            problems.append(f"{prefix} has a negative or non-finite percentile: {values}")
        present = [v for v in values if v is not None]
        if present != sorted(present):
            problems.append(f"{prefix} percentiles are not ordered p50<=p90<=p95<=p99: {values}")
    for t in ok:
        if t.chunk_times != sorted(t.chunk_times) or t.chunk_times[0] < t.sent:
            problems.append(f"request {t.index}: chunk times are not after the send time, in order")
        if len(t.chunk_times) > t.output_tokens:
            problems.append(f"request {t.index}: {len(t.chunk_times)} chunks > tokens")
        if t.output_tokens != output_len:
            problems.append(
                f"request {t.index}: {t.output_tokens} output tokens, asked {output_len}"
            )
        gaps = sum(itl_ms(t))
        if not math.isclose(gaps, e2e_ms(t) - ttft_ms(t), rel_tol=1e-6, abs_tol=1e-6):
            problems.append(f"request {t.index}: chunk gaps {gaps} ms != E2E - TTFT")
    tokens = sum(t.output_tokens for t in ok)
    throughput = columns["output_throughput"]
    if throughput is None or not math.isclose(throughput * duration_s, tokens, rel_tol=1e-9):
        problems.append(f"throughput {throughput} x window {duration_s}s != {tokens} tokens")
    longest = max(e2e_ms(t) for t in ok) / 1000
    if duration_s + 1e-9 < longest:
        problems.append(f"window {duration_s}s is shorter than the longest request {longest}s")
    return problems
