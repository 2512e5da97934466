"""One request's timestamps, and the per-request metrics of DESIGN §5 derived from them.

Every engine reduces a request to a `RequestTiming`: when it was sent, when each non-empty
streamed chunk arrived (host `time.perf_counter()` seconds) and how many output tokens it made.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestTiming:
    index: int
    sent: float
    input_tokens: int
    chunk_times: list[float] = field(default_factory=list)
    # From the server's usage report where there is one; else one token per chunk.
    output_tokens: int = 0
    error: str | None = None
    batch: int | None = None  # the static batch it ran in (transformers engine)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.chunk_times) and self.output_tokens > 0


def ttft_ms(r: RequestTiming) -> float:
    """Time to first token: first non-empty chunk minus send time."""
    return (r.chunk_times[0] - r.sent) * 1000


def e2e_ms(r: RequestTiming) -> float:
    """End-to-end latency: last non-empty chunk minus send time."""
    return (r.chunk_times[-1] - r.sent) * 1000


def tpot_ms(r: RequestTiming) -> float | None:
    """Time per output token after the first: (E2E - TTFT) / (N_out - 1); None for N_out = 1."""
    if r.output_tokens < 2:
        return None
    return (e2e_ms(r) - ttft_ms(r)) / (r.output_tokens - 1)


def itl_ms(r: RequestTiming) -> list[float]:
    """Gaps between consecutive streamed chunks (a chunk may carry more than one token)."""
    times = r.chunk_times
    return [(b - a) * 1000 for a, b in zip(times, times[1:], strict=False)]


def record(r: RequestTiming, window_start: float) -> dict[str, Any]:
    """The raw per-request record written to the JSONL artifact (times relative to the window)."""
    base = {
        "index": r.index,
        "batch": r.batch,
        "sent_s": round(r.sent - window_start, 6),
        "input_tokens": r.input_tokens,
        "output_tokens": r.output_tokens,
        "chunks": len(r.chunk_times),
        "ok": r.ok,
        "error": r.error,
    }
    if not r.ok:
        return base
    return base | {
        "ttft_ms": ttft_ms(r),
        "tpot_ms": tpot_ms(r),
        "e2e_ms": e2e_ms(r),
        "itl_ms": itl_ms(r),
    }
