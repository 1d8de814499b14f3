"""Labels per budget: end-model accuracy when k items are labeled, chosen by strategy vs random.

Gold labels stand in for the LLM or a person. The selection strategies see the zero-shot
posterior (class names only) and the MiniLM embeddings of the pool; the end model is
logistic regression on the k labeled items, scored on a held-out split.

- AG News: test.csv split into a pool (5,600) and a held-out evaluation set (2,000).
- Banking77: pool = train (10,003), evaluation = test (3,080).

    .venv/bin/python benchmarks/bench_budget.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULTS = ROOT / "benchmarks" / "results"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="budgets 100/500 and 1 seed")
    ap.add_argument("--featurizer", default="minilm")
    args = ap.parse_args()

    import pandas as pd

    import truelabel
    from bench_zeroshot import DATA, load
    from truelabel.featurize import featurize
    from truelabel.sources import ZeroShotLabeler, budget_curve

    budgets = [100, 500] if args.quick else [100, 500, 2000]
    seeds = [0] if args.quick else [0, 1]
    strategies = ["hybrid", "typical", "kcenter", "random"]
    sets = {}
    texts, y, names = load("ag_news")
    perm = np.random.default_rng(0).permutation(len(texts))
    pool, ev = perm[2000:], perm[:2000]
    sets["ag_news"] = ([texts[i] for i in pool], y[pool], [texts[i] for i in ev], y[ev], names)
    tr = pd.read_csv(DATA / "banking77" / "train.csv")
    te_texts, te_y, bnames = load("banking77")
    idx = {c: i for i, c in enumerate(bnames)}
    sets["banking77"] = (
        tr["text"].astype(str).tolist(),
        tr["category"].map(idx).to_numpy(),
        te_texts,
        te_y,
        bnames,
    )

    rows = []
    for ds, (ptexts, py, etexts, ey, cls) in sets.items():
        Xp = featurize(ptexts, method=args.featurizer)
        Xe = featurize(etexts, method=args.featurizer)
        fn = lambda t: featurize(t, method=args.featurizer)  # noqa: E731
        zs = ZeroShotLabeler(cls, featurizer=fn, balance=True).fit(X=Xp)
        zs_acc = float(np.mean(zs.labels_ == py))
        print(f"{ds}: pool {len(ptexts)}, eval {len(etexts)}, zero-shot pool accuracy {zs_acc:.4f}")
        for seed in seeds:
            t0 = time.perf_counter()
            res = budget_curve(
                Xp,
                py,
                budgets,
                X_eval=Xe,
                y_eval=ey,
                proba=zs.posterior_,
                strategies=strategies,
                n_classes=len(cls),
                random_state=seed,
            )
            for r in res:
                r.update({"dataset": ds, "seed": seed})
                rows.append(r)
                print(
                    f"  seed {seed} {r['strategy']:11s} k={r['k']:5d} acc={r['accuracy']:.4f} "
                    f"f1={r['macro_f1']:.4f} classes={r['n_classes_seen']}"
                )
            print(f"  ({time.perf_counter() - t0:.0f}s)")
        rows.append(
            {"dataset": ds, "strategy": "zero-shot (no labels)", "k": 0, "accuracy_pool": zs_acc}
        )

    df = pd.DataFrame([r for r in rows if "accuracy" in r])
    table = df.groupby(["dataset", "k", "strategy"])[["accuracy", "macro_f1"]].mean().reset_index()
    print(table.to_string(index=False))
    out = {
        "benchmark": "budget",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, 2 cores shared by several concurrent agents",
        "truelabel_version": truelabel.__version__,
        "settings": {
            "featurizer": args.featurizer,
            "end_model": "LogisticRegression(C=10)",
            "posterior": "zero-shot from class names, refined + balanced + self-trained",
            "budgets": budgets,
            "seeds": seeds,
        },
        "mean_over_seeds": table.to_dict(orient="records"),
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "budget.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
