"""Client mode: load an OpenAI-compatible streaming server (vLLM, SGLang ...) and time it.

Measured client-side as `vllm bench serve` does: `/v1/completions` with `stream: true`, a prompt
of random token ids (no tokenizer needed), `ignore_eos` + `min_tokens` so every request makes
exactly `output_len` tokens, `stream_options.include_usage` for the server's own token count,
and at most `concurrency` requests in flight (a new one starts as soon as one ends).
"""

import asyncio
import json
import logging
import random
from time import perf_counter
from typing import Any

from modelcat_harness.engines import EngineRun, Window
from modelcat_harness.job import HarnessError, Job
from modelcat_harness.timing import RequestTiming

REQUEST_TIMEOUT_S = 600.0


def run(
    job: Job, window: Window, log: logging.Logger, independent_check: bool = False
) -> EngineRun:
    if independent_check:
        log.warning("--independent-check times generate() in-process; ignored in client mode")
    try:
        import httpx  # the `openai` extra
    except ImportError as error:
        raise HarnessError("the openai engine needs httpx (extra 'openai')") from error
    return asyncio.run(_run(job, window, log, httpx))


def prompts(job: Job, count: int) -> list[list[int]]:
    """Seeded random prompt token ids within the served model's vocabulary."""
    vocab = job.model_source.get("vocab_size", 1000)
    rng = random.Random(job.seed)
    low = min(10, vocab - 1)
    return [[rng.randrange(low, vocab) for _ in range(job.input_len)] for _ in range(count)]


def payload(job: Job, prompt: list[int]) -> dict[str, Any]:
    return {
        "model": job.model_source["model"],
        "prompt": prompt,
        "max_tokens": job.output_len,
        "min_tokens": job.output_len,
        "ignore_eos": True,
        "temperature": 0.0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def _run(job: Job, window: Window, log: logging.Logger, httpx: Any) -> EngineRun:
    source = job.model_source
    base_url = source["base_url"].rstrip("/")
    headers = {"Authorization": f"Bearer {source['api_key']}"} if source.get("api_key") else {}
    limits = httpx.Limits(
        max_connections=job.concurrency, max_keepalive_connections=job.concurrency
    )
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=30.0)
    all_prompts = prompts(job, job.warmup_requests + job.num_requests)
    async with httpx.AsyncClient(limits=limits, timeout=timeout, headers=headers) as client:
        server = await _server_info(client, base_url, httpx)
        log.info(f"server {base_url}: {server}")
        warmup = await _load(client, job, base_url, all_prompts[: job.warmup_requests], httpx)
        if any(t.error for t in warmup):
            raise HarnessError(
                f"warm-up request failed: {next(t.error for t in warmup if t.error)}"
            )
        window.open()
        timings = await _load(client, job, base_url, all_prompts[job.warmup_requests :], httpx)
        window.close()
    if not any(t.ok for t in timings):
        raise HarnessError(f"all {len(timings)} requests failed; first: {timings[0].error}")
    return EngineRun(timings, server.get("version"), "client", {"server": server})


async def _load(
    client: Any, job: Job, base_url: str, prompt_list: list[list[int]], httpx: Any
) -> list[RequestTiming]:
    gate = asyncio.Semaphore(job.concurrency)

    async def one(index: int, prompt: list[int]) -> RequestTiming:
        async with gate:
            return await _request(client, job, base_url, index, prompt, httpx)

    return list(await asyncio.gather(*(one(i, p) for i, p in enumerate(prompt_list))))


async def _request(
    client: Any, job: Job, base_url: str, index: int, prompt: list[int], httpx: Any
) -> RequestTiming:
    timing = RequestTiming(index=index, sent=perf_counter(), input_tokens=len(prompt))
    usage_tokens = None
    try:
        async with client.stream(
            "POST", f"{base_url}/completions", json=payload(job, prompt)
        ) as response:
            if response.status_code != 200:
                body = (await response.aread()).decode(errors="replace")[:200]
                timing.error = f"HTTP {response.status_code}: {body}"
                return timing
            async for line in response.aiter_lines():
                arrived = perf_counter()  # stamped before parsing, as the bytes arrive
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                choices = chunk.get("choices") or []
                if choices and choices[0].get("text"):
                    timing.chunk_times.append(arrived)
                if chunk.get("usage"):
                    usage_tokens = chunk["usage"].get("completion_tokens")
    except (httpx.HTTPError, json.JSONDecodeError) as error:
        timing.error = f"{type(error).__name__}: {error}"
        return timing
    if not timing.chunk_times:
        timing.error = "the stream carried no text"
    # The server's count when it reports usage; else one token per chunk (a lower bound).
    timing.output_tokens = usage_tokens if usage_tokens is not None else len(timing.chunk_times)
    return timing


async def _server_info(client: Any, base_url: str, httpx: Any) -> dict[str, Any]:
    """What the server says it is (vLLM: `GET /version`, `GET /v1/models`); best effort."""
    info: dict[str, Any] = {"base_url": base_url}
    root = base_url.removesuffix("/v1")
    try:
        version = await client.get(f"{root}/version")
        if version.status_code == 200:
            info["version"] = version.json().get("version")
        models = await client.get(f"{base_url}/models")
        if models.status_code == 200:
            served = models.json().get("data", [])
            info["models"] = [m.get("id") for m in served]
            info["owned_by"] = sorted({str(m.get("owned_by")) for m in served})
    except (httpx.HTTPError, ValueError) as error:
        info["info_error"] = f"{type(error).__name__}: {error}"
    return info
