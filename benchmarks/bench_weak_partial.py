"""Partial-label learning benchmark (issue 18, part 2).

Lost, MSRCv2 and BirdSong (partial-label/realworld: real candidate sets and true
labels). Protocol: 10 random 80/20 splits (features standardised on the training part);
PartialLabelClassifier (PRODEN) with the linear model and the MLP head at their default
settings. Transductive accuracy = the disambiguated label of each training row against
its true label; inductive accuracy = test predictions against the true labels. Baselines
in the same run: "uniform" (cross-entropy against the uniform distribution over each
row's candidates, no disambiguation — the CC-style average baseline) and the oracle
trained on the true labels. Published numbers (test accuracy, from the ED-PLL paper,
CVPR 2026, its own protocol and backbones) are printed beside.

    .venv/bin/python benchmarks/bench_weak_partial.py     # -> results/weak_partial.json
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import load_partial_label, machine, write_results  # noqa: E402
from truelabel.learn import (  # noqa: E402
    PartialLabelClassifier,
    RobustLogisticRegression,
    RobustMLPClassifier,
)

DATASETS = ("lost", "MSRCv2", "BirdSong")
N_SPLITS = int(os.environ.get("PLL_SPLITS", "10"))
#: Test accuracy (%) reported in the ED-PLL paper (CVPR 2026) for its baselines and itself.
PUBLISHED = {
    "lost": {"RC": 75.89, "CAVL": 63.11, "PiCO": 65.33, "DIRK": 74.26, "ED-PLL": 76.78},
    "MSRCv2": {"RC": 58.28, "CAVL": 52.84, "PiCO": 49.14, "DIRK": 44.61, "ED-PLL": 59.85},
    "BirdSong": {"RC": 60.52, "CAVL": 70.50, "PiCO": 61.29, "DIRK": 71.28, "ED-PLL": 74.94},
}
MODELS = {"logreg": RobustLogisticRegression, "mlp": RobustMLPClassifier}


def main() -> None:
    out: dict[str, dict[str, object]] = {}
    for name in DATASETS:
        X, C, y = load_partial_label(name)
        rng = np.random.default_rng(0)
        res: dict[str, list[float]] = {}
        t0 = time.time()
        for split in range(N_SPLITS):
            perm = rng.permutation(len(y))
            cut = int(0.8 * len(y))
            tr, te = perm[:cut], perm[cut:]
            mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0) + 1e-8
            Z = ((X - mu) / sd).astype(np.float32)
            for mname, cls in MODELS.items():
                m = PartialLabelClassifier(cls(), random_state=split).fit(Z[tr], C[tr])
                res.setdefault(f"proden_{mname}_transductive", []).append(
                    float((m.labels_ == y[tr]).mean())
                )
                res.setdefault(f"proden_{mname}_test", []).append(
                    float((m.predict(Z[te]) == y[te]).mean())
                )
                uni = C[tr] / C[tr].sum(axis=1, keepdims=True)
                avg = cls(random_state=split).fit(Z[tr], uni.astype(np.float32))
                res.setdefault(f"uniform_{mname}_test", []).append(
                    float((avg.predict(Z[te]) == y[te]).mean())
                )
                res.setdefault(f"uniform_{mname}_transductive", []).append(
                    float(((avg.predict_proba(Z[tr]) * C[tr]).argmax(axis=1) == y[tr]).mean())
                )
                ora = cls(random_state=split).fit(Z[tr], y[tr])
                res.setdefault(f"oracle_{mname}_test", []).append(
                    float((ora.predict(Z[te]) == y[te]).mean())
                )
            print(f"{name} split {split + 1}/{N_SPLITS} {time.time() - t0:.0f}s", flush=True)
        summary = {
            k: {"mean": round(float(np.mean(v)), 4), "std": round(float(np.std(v)), 4)}
            for k, v in res.items()
        }
        out[name] = {
            "n": int(len(y)),
            "classes": int(C.shape[1]),
            "mean_candidates": round(float(C.sum(axis=1).mean()), 3),
            "results": summary,
            "published_test_accuracy_pct": PUBLISHED[name],
        }
        print(f"\n{name} (n={len(y)}, {N_SPLITS} x 80/20)")
        for k, v in summary.items():
            print(f"  {k:32s} {v['mean']:.3f} ± {v['std']:.3f}")
        print("  published (ED-PLL paper):", PUBLISHED[name], flush=True)
    write_results(
        "weak_partial",
        {"machine": machine(), "loadavg": os.getloadavg(), "splits": N_SPLITS, "datasets": out},
    )


if __name__ == "__main__":
    main()
