"""Positive-unlabeled learning benchmark (issue 18, part 1).

On pu-llp/uci Adult, Mushroom and Spambase (positives: >50K, poisonous, spam), 70/30
split; features by truelabel's tabular featurizer (fitted on the training rows). For a
share c in {0.1, 0.3, 0.5} of the training positives labeled at random (SCAR), every
other training row unlabeled:

- prior: the estimated P(positive) (BBE — the default — and Elkan-Noto, both from a
  5-fold cross-fitted domain classifier) against the true prior of the training rows;
- test AUROC and accuracy against the clean labels of: nnPU (PUClassifier with the
  estimated prior), nnPU with the true prior, the naive classifier that takes
  unlabeled = negative, and the oracle trained on all clean labels. Same network
  (RobustLogisticRegression) everywhere.

    .venv/bin/python benchmarks/bench_weak_pu.py            # -> results/weak_pu.json
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, uci_split, write_results  # noqa: E402
from truelabel.learn import PUClassifier, RobustLogisticRegression  # noqa: E402
from truelabel.learn._pu import bbe_prior, domain_scores, elkan_noto_prior  # noqa: E402

DATASETS = ("adult", "mushroom", "spambase")
SHARES = (0.1, 0.3, 0.5)


def _scores(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {
        "auroc": round(float(roc_auc_score(y, p)), 4),
        "accuracy": round(float(((p >= 0.5) == y).mean()), 4),
    }


def main() -> None:
    rows = []
    for name in DATASETS:
        X, Xte, ytr, yte, rng = uci_split(name)
        true_prior = float(ytr.mean())
        t0 = time.time()
        oracle = RobustLogisticRegression().fit(X, ytr).predict_proba(Xte)[:, 1]
        oracle_s = _scores(oracle, yte)
        for c in SHARES:
            s = (ytr == 1) & (rng.random(len(ytr)) < c)
            t1 = time.time()
            dom = domain_scores(X, s, random_state=0)
            pri = {"bbe": bbe_prior(dom, s), "elkan-noto": elkan_noto_prior(dom, s)}
            m = PUClassifier(prior=pri["bbe"]).fit(X, s.astype(int))
            nnpu = _scores(m.predict_proba(Xte)[:, 1], yte)
            m_true = PUClassifier(prior=true_prior).fit(X, s.astype(int))
            nnpu_true = _scores(m_true.predict_proba(Xte)[:, 1], yte)
            naive = RobustLogisticRegression().fit(X, s.astype(int)).predict_proba(Xte)[:, 1]
            row = {
                "dataset": name,
                "c": c,
                "n_train": int(len(ytr)),
                "n_labeled": int(s.sum()),
                "true_prior": round(true_prior, 4),
                "prior_bbe": round(pri["bbe"], 4),
                "prior_elkan_noto": round(pri["elkan-noto"], 4),
                "abs_err_bbe": round(abs(pri["bbe"] - true_prior), 4),
                "abs_err_elkan_noto": round(abs(pri["elkan-noto"] - true_prior), 4),
                "nnpu": nnpu,
                "nnpu_true_prior": nnpu_true,
                "naive": _scores(naive, yte),
                "oracle": oracle_s,
                "seconds": round(time.time() - t1, 1),
            }
            rows.append(row)
            print(
                f"{name:9s} c={c:.1f} prior {true_prior:.3f} bbe {pri['bbe']:.3f} "
                f"en {pri['elkan-noto']:.3f} | AUROC/acc nnPU {nnpu['auroc']:.3f}/"
                f"{nnpu['accuracy']:.3f} nnPU(true pi) {nnpu_true['auroc']:.3f}/"
                f"{nnpu_true['accuracy']:.3f} naive {row['naive']['auroc']:.3f}/"
                f"{row['naive']['accuracy']:.3f} oracle {oracle_s['auroc']:.3f}/"
                f"{oracle_s['accuracy']:.3f}",
                flush=True,
            )
        print(f"{name}: {time.time() - t0:.0f}s", flush=True)
    mean_err = {
        k: round(float(np.mean([r[f"abs_err_{k}"] for r in rows])), 4)
        for k in ("bbe", "elkan_noto")
    }
    print("mean |prior error|:", mean_err)
    write_results(
        "weak_pu",
        {
            "machine": machine(),
            "loadavg": os.getloadavg(),
            "rows": rows,
            "mean_abs_prior_error": mean_err,
        },
    )


if __name__ == "__main__":
    main()
