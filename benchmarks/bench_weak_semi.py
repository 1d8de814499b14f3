"""Semi-supervised benchmark (issue 18, part 4).

AG News (7,600 rows, 80/20 split), Banking77 (train 10,003 -> test 3,080, 77 classes) and
SST-2 (6,000 random training rows -> dev 872). For 1%, 5% and 10% of the training rows
labeled (the rest unlabeled), test accuracy of:

- labeled only: RobustLogisticRegression on the labeled rows (its defaults: 30 epochs,
  i.e. only 30-90 optimizer steps on 60-600 rows), and the same model run for at least
  300 steps (``labeled_only_300_steps``: a converged baseline, so that the gain of
  self-training is not just more steps);
- self-training: SelfTrainingClassifier (default settings: cross-fitted pseudo-labels,
  per-class dynamic thresholds, confidence weights, 2 rounds, drift guard) on the same
  labeled rows plus the unlabeled ones;
- ceiling: RobustLogisticRegression on every training label.

Features: ``--featurizer static`` (default here: fast on this shared machine) or
``minilm`` (the product's default; AG News only unless its cache is warm).

    .venv/bin/python benchmarks/bench_weak_semi.py                       # static
    .venv/bin/python benchmarks/bench_weak_semi.py --featurizer minilm --datasets ag_news
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, machine, write_results  # noqa: E402
from truelabel.featurize import featurize  # noqa: E402
from truelabel.learn import RobustLogisticRegression  # noqa: E402
from truelabel.learn._semi import SelfTrainingClassifier  # noqa: E402

SHARES = (0.01, 0.05, 0.1)


def load(name: str) -> tuple[list[str], np.ndarray, list[str], np.ndarray, int]:
    """texts, labels, class names, test mask, number of classes"""
    rng = np.random.default_rng(0)
    if name == "ag_news":
        df = pd.read_csv(DATA / "text/ag_news/test.csv")
        texts = (df["title"].astype(str) + ". " + df["description"].astype(str)).tolist()
        y = df["label"].to_numpy() - 1
        test = np.zeros(len(y), dtype=bool)
        test[rng.permutation(len(y))[int(0.8 * len(y)) :]] = True
        return texts, y, ["World", "Sports", "Business", "Sci/Tech"], test, 4
    if name == "banking77":
        tr = pd.read_csv(DATA / "text/banking77/train.csv")
        te = pd.read_csv(DATA / "text/banking77/test.csv")
        classes = json.loads((DATA / "text/banking77/categories.json").read_text())
        df = pd.concat([tr, te], ignore_index=True)
        y = pd.Index(classes).get_indexer(df["category"])
        test = np.r_[np.zeros(len(tr), bool), np.ones(len(te), bool)]
        return df["text"].astype(str).tolist(), y, classes, test, len(classes)
    if name == "sst2":
        tr = pd.read_csv(DATA / "text/sst2/train.tsv", sep="\t", quoting=3)
        tr = tr.iloc[rng.permutation(len(tr))[:6000]]
        te = pd.read_csv(DATA / "text/sst2/dev.tsv", sep="\t", quoting=3)
        df = pd.concat([tr, te], ignore_index=True)
        test = np.r_[np.zeros(len(tr), bool), np.ones(len(te), bool)]
        return df["sentence"].astype(str).tolist(), df["label"].to_numpy(), ["neg", "pos"], test, 2
    raise ValueError(name)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--featurizer", default="static")
    ap.add_argument("--datasets", default="ag_news,banking77,sst2")
    args = ap.parse_args()
    rows = []
    for name in args.datasets.split(","):
        texts, y, _, test, K = load(name)
        t0 = time.time()
        X = np.asarray(featurize(texts, args.featurizer), dtype=np.float32)
        print(f"{name}: features {X.shape} in {time.time() - t0:.0f}s", flush=True)
        Xtr, ytr, Xte, yte = X[~test], y[~test], X[test], y[test]
        ceiling = float((RobustLogisticRegression().fit(Xtr, ytr).predict(Xte) == yte).mean())
        rng = np.random.default_rng(0)
        for share in SHARES:
            lab = rng.random(len(ytr)) < share
            lo = RobustLogisticRegression().fit(Xtr[lab], ytr[lab])
            acc_lo = float((np.asarray(lo.classes_)[lo.predict_proba(Xte).argmax(1)] == yte).mean())
            steps = int(np.ceil(lab.sum() / 256))
            lo3 = RobustLogisticRegression(epochs=max(30, int(np.ceil(300 / steps))))
            lo3.fit(Xtr[lab], ytr[lab])
            acc_lo3 = float(
                (np.asarray(lo3.classes_)[lo3.predict_proba(Xte).argmax(1)] == yte).mean()
            )
            t1 = time.time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                st = SelfTrainingClassifier().fit(Xtr, np.where(lab, ytr, -1), n_classes=K)
            acc_st = float((st.predict(Xte) == yte).mean())
            row = {
                "dataset": name,
                "featurizer": args.featurizer,
                "share": share,
                "n_labeled": int(lab.sum()),
                "n_unlabeled": int((~lab).sum()),
                "labeled_only": round(acc_lo, 4),
                "labeled_only_300_steps": round(acc_lo3, 4),
                "self_training": round(acc_st, 4),
                "ceiling": round(ceiling, 4),
                "accepted": bool(st.accepted_),
                "n_pseudo_labeled": int(st.pseudo_mask_.sum()),
                "guard_heldout_accuracy": st.labeled_oof_accuracy_,
                "seconds": round(time.time() - t1, 1),
            }
            rows.append(row)
            print(
                f"{name:9s} {share:4.0%} labeled ({lab.sum()}): labeled-only {acc_lo:.4f} "
                f"(300 steps {acc_lo3:.4f}) "
                f"self-training {acc_st:.4f} ceiling {ceiling:.4f} "
                f"(pseudo {row['n_pseudo_labeled']}, accepted {st.accepted_})",
                flush=True,
            )
    write_results(
        f"weak_semi_{args.featurizer}",
        {"machine": machine(), "loadavg": os.getloadavg(), "rows": rows},
    )


if __name__ == "__main__":
    main()
