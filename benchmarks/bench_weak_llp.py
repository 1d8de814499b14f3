"""Learning-from-label-proportions benchmark (issue 18, part 3).

pu-llp/uci Adult, Mushroom and Spambase, 70/30 split; the training rows are put in
random bags of 16, 64 or 256 and only each bag's class shares are kept. Test accuracy
against the clean labels of LabelProportionClassifier with ``method="proportion"``
(DLLP alone) and ``method="em"`` (the default: DLLP then bag-constrained EM
pseudo-labels), next to the oracle trained on every clean label and the majority-class
rate. Same network (RobustLogisticRegression) and tabular features everywhere.

    .venv/bin/python benchmarks/bench_weak_llp.py             # -> results/weak_llp.json
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, uci_split, write_results  # noqa: E402
from truelabel.learn import LabelProportionClassifier, RobustLogisticRegression  # noqa: E402

DATASETS = ("adult", "mushroom", "spambase")
BAG_SIZES = (16, 64, 256)


def main() -> None:
    rows = []
    for name in DATASETS:
        X, Xte, ytr, yte, rng = uci_split(name)
        oracle = float((RobustLogisticRegression().fit(X, ytr).predict(Xte) == yte).mean())
        majority = float(max(yte.mean(), 1 - yte.mean()))
        for size in BAG_SIZES:
            perm = rng.permutation(len(ytr))
            bag = np.empty(len(ytr), dtype=np.int64)
            bag[perm] = np.arange(len(ytr)) // size
            B = int(bag.max()) + 1
            counts = np.stack([np.bincount(bag, ytr == k, minlength=B) for k in (0, 1)], axis=1)
            props = counts / counts.sum(axis=1, keepdims=True)
            row = {"dataset": name, "bag_size": size, "n_bags": B, "oracle": round(oracle, 4)}
            for method in ("proportion", "em"):
                t0 = time.time()
                m = LabelProportionClassifier(method=method, random_state=0).fit(X, bag, props)
                row[method] = round(float((m.predict(Xte) == yte).mean()), 4)
                row[f"{method}_seconds"] = round(time.time() - t0, 1)
            row["majority"] = round(majority, 4)
            rows.append(row)
            print(
                f"{name:9s} bag {size:3d} ({B} bags): DLLP {row['proportion']:.4f}  "
                f"EM {row['em']:.4f}  oracle {oracle:.4f}  majority {majority:.4f}",
                flush=True,
            )
    write_results("weak_llp", {"machine": machine(), "loadavg": os.getloadavg(), "rows": rows})


if __name__ == "__main__":
    main()
