"""Serving throughput benchmark (issue 4).

Trains a model on Banking77 for each featurizer (tfidf, minilm), serves it with
`truelabel serve-model` (a real uvicorn process on 127.0.0.1) and posts batches of 256
test texts with httpx: items/s and p50/p99 request latency. Baseline in the same run:
the same model's in-process ``predict_proba`` on the same batches (no HTTP).

    .venv/bin/python benchmarks/bench_serve.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "src"))


LOAD_BEFORE = os.getloadavg()[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench(featurizer: str, n_batches: int, workdir: Path) -> dict[str, Any]:
    import httpx

    from truelabel.learn import load_model, train_model

    train = pd.read_csv(DATA / "text/banking77/train.csv")
    test = pd.read_csv(DATA / "text/banking77/test.csv")["text"].tolist()
    mdir = workdir / f"model_{featurizer}"
    t0 = time.time()
    train_model(
        train,
        text_column="text",
        label_column="category",
        featurizer=featurizer,
        epochs=10,
        random_state=0,
    ).save(mdir, overwrite=True)
    train_s = time.time() - t0
    batches = [test[(i * 256) % 2800 : (i * 256) % 2800 + 256] for i in range(n_batches)]
    # in-process baseline
    tm = load_model(mdir)
    tm.predict_proba(batches[0])
    lat_local = []
    for b in batches:
        t = time.perf_counter()
        tm.predict_proba(b)
        lat_local.append(time.perf_counter() - t)
    port = free_port()
    env = dict(os.environ)
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "truelabel"),
            "serve-model",
            str(mdir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--max-batch",
            "1024",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 300
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(
                    "server did not start: " + proc.stderr.read().decode()[-2000:]
                    if proc.stderr
                    else ""
                )
            time.sleep(0.2)
        lat = []
        with httpx.Client(base_url=url, timeout=120) as c:
            c.post("/predict", json={"texts": batches[0]})  # warm-up
            t_all = time.perf_counter()
            for b in batches:
                t = time.perf_counter()
                r = c.post("/predict", json={"texts": b})
                lat.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text[:300]
            total = time.perf_counter() - t_all
    finally:
        proc.send_signal(signal.SIGINT)  # graceful shutdown
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    lat_ms = np.array(lat) * 1000
    loc_ms = np.array(lat_local) * 1000
    return {
        "featurizer": featurizer,
        "batch_size": 256,
        "n_batches": n_batches,
        "train_s": round(train_s, 1),
        "http_items_per_s": 256 * n_batches / total,
        "http_p50_ms": float(np.percentile(lat_ms, 50)),
        "http_p99_ms": float(np.percentile(lat_ms, 99)),
        "inprocess_items_per_s": 256 * n_batches / float(np.sum(lat_local)),
        "inprocess_p50_ms": float(np.percentile(loc_ms, 50)),
        "server_exit_code": proc.returncode,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(RESULTS / "serve.json"))
    ap.add_argument("--featurizers", default="tfidf,minilm")
    args = ap.parse_args()
    n_batches = 10 if args.quick else 40
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for feat in args.featurizers.split(","):
            r = bench(feat, n_batches, Path(tmp))
            rows.append(r)
            print(
                f"{feat:7s} HTTP {r['http_items_per_s']:8.0f} items/s  p50 {r['http_p50_ms']:7.1f} ms"
                f"  p99 {r['http_p99_ms']:7.1f} ms | in-process {r['inprocess_items_per_s']:8.0f} "
                f"items/s",
                flush=True,
            )
    import fastapi
    import uvicorn

    import truelabel

    out = {
        "benchmark": "serve",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": "python benchmarks/bench_serve.py" + (" --quick" if args.quick else ""),
        "settings": {
            "data": "Banking77 train -> model (logreg, 10 epochs); test texts as requests",
            "client": "httpx, sequential requests, one connection",
        },
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores; server and client "
        "on the same cores; 1-min load average before / after the run: "
        f"{LOAD_BEFORE:.2f} / {os.getloadavg()[0]:.2f}",
        "versions": {
            "truelabel": truelabel.__version__,
            "fastapi": fastapi.__version__,
            "uvicorn": uvicorn.__version__,
            "python": platform.python_version(),
        },
        "results": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
