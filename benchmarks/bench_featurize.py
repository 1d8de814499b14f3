"""Featurizer speed and quality: truelabel's minilm (ONNX int8) and static vs sentence-transformers.

For Banking77 train (10,003 texts) and AG News test (7,600 texts, title + description):

- sentences/s of ``minilm`` (ONNX Runtime, int8), sentence-transformers running the same
  bundled all-MiniLM-L6-v2 (the baseline), ``static`` and ``tfidf``; every featurizer
  warmed up first (model export/distillation is reported separately, not timed here);
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
    ap.add_argument("--quick", action="store_true", help="first 1,500 texts of each dataset")
    args = ap.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    from truelabel.crossfit import cross_val_predict_proba
    from truelabel.featurize import TfidfFeaturizer
    from truelabel.featurize._minilm import MiniLMFeaturizer
    from truelabel.featurize._onnx import minilm_dir
    from truelabel.featurize._static import StaticFeaturizer

    torch.set_num_threads(N_THREADS)
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
    for ds in ("banking77", "ag_news"):
        texts, y, classes = load_text_dataset(ds)
        if args.quick:
            texts, y = texts[:1500], y[:1500]
        feats: dict[str, Any] = {}
        for name, fn in featurizers.items():
            X, rate = _rate(fn, texts)
            feats[name] = X
            rows.append(
                {"dataset": ds, "n": len(texts), "featurizer": name, "sentences_per_s": rate}
            )
            print(f"{ds:10s} {name:34s} {rate:10.1f} sentences/s", flush=True)
        if ds == "banking77":  # fp32 ONNX on a subset: the int8 speed/fidelity trade-off
            sub = texts[:1000]
            X32, rate32 = _rate(minilm32.transform, sub)
            rows.append(
                {
                    "dataset": ds,
                    "n": len(sub),
                    "featurizer": "minilm (ONNX fp32, first 1,000)",
                    "sentences_per_s": rate32,
                }
            )
            print(f"{ds:10s} {'minilm (ONNX fp32, 1k)':34s} {rate32:10.1f} sentences/s")
            ref_sub = feats["sentence-transformers (baseline)"][:1000]
            cos32 = (X32 * ref_sub).sum(1)
            agreement["banking77 fp32 (first 1,000)"] = {
                "mean": float(cos32.mean()),
                "min": float(cos32.min()),
            }
        cos = (feats["minilm (ONNX int8)"] * feats["sentence-transformers (baseline)"]).sum(1)
        agreement[ds] = {
            "mean": float(cos.mean()),
            "min": float(cos.min()),
            "p01": float(np.percentile(cos, 1)),
        }
        print(f"{ds:10s} cosine minilm vs sentence-transformers: {agreement[ds]}")
        if ds == "banking77":
            for name, X in feats.items():
                p = cross_val_predict_proba(X, y, n_folds=5, random_state=0)
                quality[name] = float((p.argmax(1) == y).mean())
                print(f"banking77  5-fold accuracy {name:34s} {quality[name]:.4f}", flush=True)

    base = {
        (r["dataset"]): r["sentences_per_s"]
        for r in rows
        if r["featurizer"] == "sentence-transformers (baseline)"
    }
    for r in rows:
        r["speedup_vs_sentence_transformers"] = round(r["sentences_per_s"] / base[r["dataset"]], 2)
        r["sentences_per_s"] = round(r["sentences_per_s"], 1)

    print()
    print(f"{'dataset':10s} {'featurizer':34s} {'sent/s':>10s} {'vs ST':>7s}")
    for r in rows:
        print(
            f"{r['dataset']:10s} {r['featurizer']:34s} {r['sentences_per_s']:10.1f} "
            f"{r['speedup_vs_sentence_transformers']:6.2f}x"
        )
    payload = {
        "benchmark": "featurize",
        "settings": {
            "quick": args.quick,
            "threads": N_THREADS,
            "batch_size": 64,
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
    }
    print("\nwrote", write_results("featurize", payload))


if __name__ == "__main__":
    main()
