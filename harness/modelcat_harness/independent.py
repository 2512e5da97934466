"""An independent timing of one `generate()` call, to cross-check the harness's own numbers.

On a GPU the call is bracketed by CUDA events (device time, no streamer, no host stamps); on CPU
by `perf_counter`. The harness's E2E for a static batch should sit close to this: a large gap
means the streamer or the host bookkeeping costs more than the work it measures.
"""

from time import perf_counter
from typing import Any


def time_generate(model: Any, input_ids: Any, generate_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Milliseconds for `model.generate(input_ids)` and the output tokens/s that implies."""
    import torch

    on_gpu = input_ids.device.type == "cuda"
    mask = torch.ones_like(input_ids)
    with torch.inference_mode():
        if on_gpu:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize(input_ids.device)
            start.record()
            out = model.generate(input_ids, attention_mask=mask, **generate_kwargs)
            end.record()
            torch.cuda.synchronize(input_ids.device)
            elapsed_ms = start.elapsed_time(end)
        else:
            began = perf_counter()
            out = model.generate(input_ids, attention_mask=mask, **generate_kwargs)
            elapsed_ms = (perf_counter() - began) * 1000
    tokens = (out.shape[1] - input_ids.shape[1]) * input_ids.shape[0]
    return {
        "method": "cuda-events" if on_gpu else "perf_counter",
        "batch": input_ids.shape[0],
        "e2e_ms": elapsed_ms,
        "output_tokens": tokens,
        "output_tokens_per_s": tokens / (elapsed_ms / 1000) if elapsed_ms > 0 else None,
    }
