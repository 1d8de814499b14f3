"""Featurizer speed and quality: truelabel's minilm (ONNX int8) and static vs sentence-transformers.

For Banking77 train (10,003 texts) and AG News test (7,600 texts, title + description):

- sentences/s of ``minilm`` (ONNX Runtime, int8; also fp32 on Banking77) and
  sentence-transformers running the same bundled all-MiniLM-L6-v2 (the baseline) on the
  same random sample (2,000 / 1,000 texts), and of ``static`` and ``tfidf`` (and minilm
  on Banking77) on the whole set; every featurizer warmed up first (model
  export/distillation is reported separately, not timed here);
- agreement of ``minilm`` with sentence-transformers: cosine of each text's two vectors;
- quality: 5-fold out-of-sample accuracy of the default end model
  (``truelabel.crossfit.cross_val_predict_proba``) on Banking77's 77 intents.

Run: ``.venv/bin/python benchmarks/bench_featurize.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from _common import load_text_dataset, machine, write_results

N_THREADS = 2
#: Random sample on which minilm and sentence-transformers are timed side by side.
SAMPLE = {"banking77": 2000, "ag_news": 1000}


def _rate(fn: Callable[[list[str]], Any], texts: list[str]) -> tuple[Any, float]:
    fn(texts[:64])  # warm-up: sessions, tokenizer, allocations
    t0 = time.perf_counter()
    X = fn(texts)
    return X, len(texts) / (time.perf_counter() - t0)


def _versions() -> dict[str, str]:
    import onnxruntime
    import sentence_transformers
    import sklearn
    import tokenizers
    import torch

    import truelabel

    return {
        "truelabel": truelabel.__version__,
        "onnxruntime": onnxruntime.__version__,
        "tokenizers": tokenizers.__version__,
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "scikit-learn": sklearn.__version__,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="first 1,500 texts of each dataset, 300 sampled"
    )
    args = ap.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    from truelabel.crossfit import cross_val_predict_proba
    from truelabel.featurize import TfidfFeaturizer
    from truelabel.featurize._minilm import MiniLMFeaturizer
    from truelabel.featurize._onnx import minilm_dir
    from truelabel.featurize._static import StaticFeaturizer

    torch.set_num_threads(N_THREADS)
    load_start = os.getloadavg()
    setup: dict[str, float] = {}
    t0 = time.perf_counter()
    minilm = MiniLMFeaturizer(n_threads=N_THREADS)
    minilm.transform(["warm up"])
    setup["minilm_load_or_export_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    minilm32 = MiniLMFeaturizer(n_threads=N_THREADS, quantize=False)
    minilm32.transform(["warm up"])
    setup["minilm_fp32_load_or_export_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    static = StaticFeaturizer(n_threads=N_THREADS)
    static.transform(["warm up"])
    setup["static_load_or_distill_s"] = round(time.perf_counter() - t0, 2)
    setup["static_distillation_s (recorded when the table was built)"] = round(
        float(static.distill_seconds_ or 0.0), 1
    )
    t0 = time.perf_counter()
    st = SentenceTransformer(str(minilm_dir()), device="cpu")
    setup["sentence_transformers_load_s"] = round(time.perf_counter() - t0, 2)

    def st_encode(texts: list[str]) -> np.ndarray:
        return np.asarray(st.encode(texts, batch_size=64, normalize_embeddings=True))

    featurizers: dict[str, Callable[[list[str]], Any]] = {
        "minilm (ONNX int8)": minilm.transform,
        "sentence-transformers (baseline)": st_encode,
        "static": static.transform,
        "tfidf": lambda t: TfidfFeaturizer().transform(t),
    }
    rows: list[dict[str, Any]] = []
    agreement: dict[str, Any] = {}
    quality: dict[str, float] = {}
    rng = np.random.default_rng(0)
    for ds in ("banking77", "ag_news"):
        texts, y, _ = load_text_dataset(ds)
        if args.quick:
            texts, y = texts[:1500], y[:1500]
        # the two transformer paths run on the same random sample (the baseline is slow on
        # this shared machine); static and tfidf on everything; minilm on everything for
        # Banking77 (its features feed the quality check)
        n_sample = min(len(texts), SAMPLE[ds] if not args.quick else 300)
        sample_idx = np.sort(rng.choice(len(texts), n_sample, replace=False))
        sample = [texts[i] for i in sample_idx]
        feats: dict[str, Any] = {}

        def record(name: str, n: int, rate: float, ds: str = ds) -> None:
            rows.append({"dataset": ds, "n": n, "featurizer": name, "sentences_per_s": rate})
            print(f"{ds:10s} {name:40s} n={n:6d} {rate:10.1f} sentences/s", flush=True)

        for name in ("minilm (ONNX int8)", "sentence-transformers (baseline)"):
            X, rate = _rate(featurizers[name], sample)
            feats[name + " sample"] = X
            record(name, len(sample), rate)
        if ds == "banking77":
            X32, rate32 = _rate(minilm32.transform, sample)
            record("minilm (ONNX fp32)", len(sample), rate32)
            cos32 = (X32 * feats["sentence-transformers (baseline) sample"]).sum(1)
            agreement["banking77 (ONNX fp32)"] = {
                "n": len(sample),
                "mean": float(cos32.mean()),
                "min": float(cos32.min()),
            }
            X, rate = _rate(minilm.transform, texts)
            feats["minilm (ONNX int8)"] = X
            record("minilm (ONNX int8)", len(texts), rate)
        for name in ("static", "tfidf"):
            X, rate = _rate(featurizers[name], texts)
            feats[name] = X
            record(name, len(texts), rate)
        cos = (
            feats["minilm (ONNX int8) sample"] * feats["sentence-transformers (baseline) sample"]
        ).sum(1)
        agreement[ds] = {
            "n": len(sample),
            "mean": float(cos.mean()),
            "min": float(cos.min()),
            "p01": float(np.percentile(cos, 1)),
        }
        print(f"{ds:10s} cosine minilm (int8) vs sentence-transformers: {agreement[ds]}")
        if ds == "banking77":
            for name in ("minilm (ONNX int8)", "static", "tfidf"):
                p = cross_val_predict_proba(feats[name], y, n_folds=5, random_state=0)
                quality[name] = float((p.argmax(1) == y).mean())
                print(f"banking77  5-fold accuracy {name:34s} {quality[name]:.4f}", flush=True)

    base = {
        r["dataset"]: r["sentences_per_s"]
        for r in rows
        if r["featurizer"] == "sentence-transformers (baseline)"
    }
    for r in rows:
        r["speedup_vs_sentence_transformers"] = round(r["sentences_per_s"] / base[r["dataset"]], 2)
        r["sentences_per_s"] = round(r["sentences_per_s"], 1)

    print()
    print(f"{'dataset':10s} {'featurizer':34s} {'n':>6s} {'sent/s':>10s} {'vs ST':>7s}")
    for r in rows:
        print(
            f"{r['dataset']:10s} {r['featurizer']:34s} {r['n']:6d} {r['sentences_per_s']:10.1f} "
            f"{r['speedup_vs_sentence_transformers']:6.2f}x"
        )
    payload = {
        "benchmark": "featurize",
        "settings": {
            "quick": args.quick,
            "threads": N_THREADS,
            "batch_size": 64,
            "transformer_sample": SAMPLE if not args.quick else 300,
            "max_length": 256,
            "static": {"dims": static.dims, "sif_coefficient": static.sif_coefficient},
            "end_model": "truelabel.crossfit default (5-fold, random_state=0)",
            "TOKENIZERS_PARALLELISM": os.environ.get("TOKENIZERS_PARALLELISM", "unset"),
        },
        "setup_seconds": setup,
        "speed": rows,
        "cosine_minilm_vs_sentence_transformers": agreement,
        "banking77_5fold_accuracy": quality,
        "targets": {
            "minilm_sentences_per_s": 250,
            "static_sentences_per_s": 10_000,
            "mean_cosine": 0.99,
        },
        "versions": _versions(),
        "machine": machine(),
        "load_average_1_5_15min": {"start": load_start, "end": os.getloadavg()},
    }
    print("\nwrote", write_results("featurize", payload))


if __name__ == "__main__":
    main()
