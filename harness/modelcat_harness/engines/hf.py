"""The in-process `transformers` engine: static batches of `concurrency` requests.

What it measures, honestly: `generate()` on a batch of `concurrency` prompts that all start
together (no continuous batching, no scheduler). Every request of a batch shares the batch's
send time and per-step token times; a streamer hooked into `generate()` stamps each decoding
step as its tokens reach the host (the `.cpu()` copy `generate` makes synchronises the device,
so the stamp follows the GPU work). Exactly `output_len` tokens are forced (min = max new
tokens, EOS suppressed until then), so every request does the same work.
"""

import logging
from time import perf_counter
from typing import Any

from modelcat_harness.engines import EngineRun, Window
from modelcat_harness.job import HarnessError, Job
from modelcat_harness.timing import RequestTiming

# Prompt ids are drawn above the low ids, where most vocabularies keep their special tokens.
_LOWEST_PROMPT_ID = 10


def run(
    job: Job, window: Window, log: logging.Logger, independent_check: bool = False
) -> EngineRun:
    import torch
    import transformers

    device = _device(job.device, torch)
    model = load_model(job, device)
    vocab = model.config.get_text_config().vocab_size
    log.info(f"loaded {job.model_id} ({_params(model) / 1e6:.1f} M params) on {device}")
    generator = torch.Generator().manual_seed(job.seed)
    batches, size = job.num_requests // job.concurrency, job.concurrency
    warmup_batches = -(-job.warmup_requests // size)  # ceil: warm-up runs whole batches too

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with torch.inference_mode():
        for _ in range(warmup_batches):
            _run_batch(model, _prompts(generator, size, job.input_len, vocab, torch), job, device)
        window.open()
        timings: list[RequestTiming] = []
        for batch in range(batches):
            prompts = _prompts(generator, size, job.input_len, vocab, torch)
            timings += _run_batch(model, prompts, job, device, batch=batch, first=batch * size)
        window.close()
        extra: dict[str, Any] = {
            "batching": f"static batches of {size} (all requests of a batch start together)",
            # Counted from the instantiated model: the roofline check's bytes-per-token basis.
            "num_parameters": _params(model),
            "dtype": job.dtype,
            "torch_version": torch.__version__,
        }
        if device.type == "cuda":
            extra["torch_cuda_max_allocated_gb"] = torch.cuda.max_memory_allocated(device) / 1e9
            extra["torch_cuda_max_reserved_gb"] = torch.cuda.max_memory_reserved(device) / 1e9
            extra["cuda_device_name"] = torch.cuda.get_device_name(device)
        if independent_check:
            from modelcat_harness.independent import time_generate

            prompts = _prompts(generator, size, job.input_len, vocab, torch).to(device)
            extra["independent_check"] = time_generate(model, prompts, _generate_kwargs(job))
    return EngineRun(timings, transformers.__version__, str(device), extra)


def load_model(job: Job, device: Any) -> Any:
    """The model: random-initialised from a config (seeded), or pretrained weights from a local
    directory or a Hub repository at the job's revision."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    dtype = getattr(torch, job.dtype)
    source = job.model_source
    try:
        if source["kind"] == "config":
            fields = dict(source["config"])
            config = AutoConfig.for_model(fields.pop("model_type"), **fields)
            torch.manual_seed(job.seed)  # the same random weights on every attempt
            model = AutoModelForCausalLM.from_config(config, dtype=dtype)
        elif "repo_id" in source:  # from the Hub (or its cache when HF_HUB_OFFLINE=1)
            model = AutoModelForCausalLM.from_pretrained(
                source["repo_id"], revision=job.revision, dtype=dtype
            )
        else:
            model = AutoModelForCausalLM.from_pretrained(source["path"], dtype=dtype)
        return model.to(device).eval()
    except (ValueError, KeyError, TypeError, OSError) as error:
        raise HarnessError(f"cannot load model {job.model_id!r}: {error}") from error
    except torch.cuda.OutOfMemoryError as error:
        raise HarnessError(f"out of memory loading {job.model_id!r} on {device}") from error


def _device(requested: str, torch: Any) -> Any:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise HarnessError("device 'cuda' requested but torch sees no CUDA device")
    return torch.device(requested)


def _params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def _prompts(generator: Any, size: int, length: int, vocab: int, torch: Any) -> Any:
    low = min(_LOWEST_PROMPT_ID, vocab - 1)
    return torch.randint(low, vocab, (size, length), generator=generator)


def _generate_kwargs(job: Job) -> dict[str, Any]:
    return {
        "max_new_tokens": job.output_len,
        "min_new_tokens": job.output_len,
        "do_sample": False,
        "use_cache": True,
    }


class _StepClock:
    """A `generate()` streamer that stamps each decoding step (the first `put` is the prompt)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        self.times.append(perf_counter())

    def end(self) -> None:
        pass


def _run_batch(
    model: Any, prompts: Any, job: Job, device: Any, batch: int | None = None, first: int = 0
) -> list[RequestTiming]:
    import torch

    clock = _StepClock()
    sent = perf_counter()
    try:
        ids = prompts.to(device)
        out = model.generate(
            ids, attention_mask=torch.ones_like(ids), streamer=clock, **_generate_kwargs(job)
        )
    except torch.cuda.OutOfMemoryError as error:
        raise HarnessError(
            f"out of memory: batch {prompts.shape[0]} x {job.input_len}+{job.output_len} "
            f"tokens on {device}"
        ) from error
    produced = out.shape[1] - prompts.shape[1]
    if produced != len(clock.times):
        raise HarnessError(f"generate returned {produced} tokens but streamed {len(clock.times)}")
    return [
        RequestTiming(
            index=first + i,
            sent=sent,
            input_tokens=prompts.shape[1],
            chunk_times=list(clock.times),
            output_tokens=produced,
            batch=batch,
        )
        for i in range(prompts.shape[0])
    ]
