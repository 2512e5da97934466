"""A small, real OpenAI-compatible streaming server on 127.0.0.1, for the harness's client mode.

It speaks the subset of vLLM's API that `vllm bench serve` and our harness use: `POST
/v1/completions` with `stream`, `stream_options.include_usage`, `ignore_eos`, `min_tokens` and a
prompt of token ids; `GET /v1/models`; `GET /version`. Tokens come from a tiny random-initialised
Llama decoded greedily with its KV cache, one SSE chunk per token, optionally after a fixed
per-token delay (so tests can assert lower bounds). `fail_every=n` answers every n-th completion
with HTTP 500, to exercise partial failure.

    python tests/support/openai_server.py --port 8000 --token-delay-ms 5
"""

import argparse
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TINY_LLAMA = {
    "model_type": "llama", "vocab_size": 512, "hidden_size": 64, "intermediate_size": 128,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "max_position_embeddings": 512,
}  # fmt: skip
VERSION = "modelcat-test-server 0.1"


class TinyLM:
    """Greedy token-by-token decoding of a seeded random tiny Llama (CPU)."""

    def __init__(self, config: dict[str, Any] = TINY_LLAMA, seed: int = 0) -> None:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM

        fields = dict(config)
        torch.manual_seed(seed)
        self.config = AutoConfig.for_model(fields.pop("model_type"), **fields)
        self.model = AutoModelForCausalLM.from_config(self.config).eval()
        self.vocab_size = self.config.vocab_size

    def stream(self, prompt: list[int], max_tokens: int, stop_at_eos: bool) -> Iterator[int]:
        import torch

        with torch.inference_mode():
            ids = torch.tensor([prompt])
            out = self.model(input_ids=ids, use_cache=True)
            for _ in range(max_tokens):
                token = int(out.logits[0, -1].argmax())
                yield token
                if stop_at_eos and token == self.config.eos_token_id:
                    return
                out = self.model(
                    input_ids=torch.tensor([[token]]),
                    cache=out.cache,  # transformers 5.x renamed `past_key_values`
                    use_cache=True,
                )


class OpenAIServer:
    """Serves a `TinyLM` on 127.0.0.1 in background threads; use as a context manager."""

    def __init__(
        self,
        model_name: str = "tiny-llama",
        token_delay_s: float = 0.0,
        fail_every: int = 0,
        port: int = 0,
        lm: TinyLM | None = None,
    ) -> None:
        self.model_name = model_name
        self.token_delay_s = token_delay_s
        self.fail_every = fail_every
        self.lm = lm or TinyLM()
        self.completions = 0  # completion requests received (valid ones), warm-up included
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def count_completion(self) -> int:
        with self._lock:
            self.completions += 1
            return self.completions

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> "OpenAIServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: the stream ends when the connection closes (no chunked encoding to write).
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:
            if self.path == "/version":
                self._json(200, {"version": VERSION})
            elif self.path == "/v1/models":
                model = {"id": server.model_name, "object": "model", "owned_by": "modelcat-test"}
                self._json(200, {"object": "list", "data": [model]})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            if self.path != "/v1/completions":
                return self._json(404, {"error": {"message": f"no route {self.path}"}})
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            if body.get("model") != server.model_name:
                return self._json(404, {"error": {"message": f"model {body.get('model')!r}"}})
            prompt = body.get("prompt")
            vocab = server.lm.vocab_size
            if not (isinstance(prompt, list) and prompt and all(0 <= t < vocab for t in prompt)):
                return self._json(400, {"error": {"message": "prompt: token ids in vocab"}})
            number = server.count_completion()
            if server.fail_every and number % server.fail_every == 0:
                return self._json(500, {"error": {"message": "injected failure"}})
            self._stream(body, prompt)

        def _stream(self, body: dict[str, Any], prompt: list[int]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            stop_at_eos = not body.get("ignore_eos", False)
            count = 0
            for token in server.lm.stream(prompt, int(body.get("max_tokens", 16)), stop_at_eos):
                time.sleep(server.token_delay_s)
                count += 1
                choice = {"index": 0, "text": f" t{token}", "finish_reason": None}
                self._event({"object": "text_completion", "choices": [choice], "usage": None})
            if (body.get("stream_options") or {}).get("include_usage"):
                usage = {"prompt_tokens": len(prompt), "completion_tokens": count}
                self._event({"object": "text_completion", "choices": [], "usage": usage})
            self.wfile.write(b"data: [DONE]\n\n")

        def _event(self, data: dict[str, Any]) -> None:
            self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        def _json(self, status: int, data: dict[str, Any]) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--token-delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    with OpenAIServer(port=args.port, token_delay_s=args.token_delay_ms / 1000) as running:
        print(f"serving {running.model_name} at {running.base_url}", flush=True)
        threading.Event().wait()
