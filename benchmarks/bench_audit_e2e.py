"""End-to-end audit from raw text with injected noise, against cleanlab on the same probabilities.

For Banking77 train, AG News test and 20 Newsgroups train, flip 10/20/40% of the labels
(symmetric and class-pair), run truelabel's audit (featurize → 5-fold cross-fit → flags)
and cleanlab 2.9's ``find_label_issues`` on the *same* out-of-sample probabilities, and
report precision/recall/F1 of the flagged sets against the flips. Throughput: rows/s of
the whole audit with a cold feature cache, per featurizer.

    .venv/bin/python benchmarks/bench_audit_e2e.py [--quick] [--featurizers static,minilm]
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from _common import inject_noise, load_text_dataset, machine, prf, write_results
from truelabel import audit
from truelabel.crossfit import cross_val_predict_proba
from truelabel.featurize import featurize


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one dataset, 20%% symmetric only")
    ap.add_argument("--featurizers", default="static,minilm")
    ap.add_argument("--datasets", default="banking77,ag_news,20news")
    ap.add_argument("--speed-only", action="store_true", help="throughput runs only")
    args = ap.parse_args()
    from cleanlab.filter import find_label_issues as cl_find

    feats = args.featurizers.split(",")
    for feat in feats:  # make sure the one-time model files exist before timing
        featurize(["warm up"], feat, cache=False)
    datasets = ["banking77"] if args.quick else args.datasets.split(",")
    settings = (
        []
        if args.speed_only
        else [("symmetric", 0.2)]
        if args.quick
        else [(kind, rate) for kind in ("symmetric", "pair") for rate in (0.1, 0.2, 0.4)]
    )
    rows, speed = [], []
    for dname in datasets:
        texts, y, classes = load_text_dataset(dname)
        k = len(classes)
        for feat in feats:
            # Throughput: the whole audit on a cold cache (20% symmetric noise).
            noisy = inject_noise(y, k, 0.2, "symmetric", seed=0)
            df = pd.DataFrame({"text": texts, "label": noisy})
            # Cold start: features computed (cache off), then the whole audit on them.
            t0 = time.perf_counter()
            X = featurize(texts, feat, cache=False)
            t_feat = time.perf_counter() - t0
            # end model as `audit --featurizer <feat>` picks it (auto: ridge for static)
            end_model = "ridge" if feat == "static" else "logistic"
            res = audit(df, label="label", vectors_file=X, random_state=0, end_model=end_model)
            wall = time.perf_counter() - t0
            res.summary["timings_s"]["featurize"] = round(t_feat, 3)
            speed.append(
                {
                    "dataset": dname,
                    "featurizer": feat,
                    "rows": len(texts),
                    "seconds": round(wall, 2),
                    "rows_per_s": round(len(texts) / wall, 1),
                    "stage_seconds": res.summary["timings_s"],
                }
            )
            print(
                f"[speed] {dname:9s} {feat:7s} {len(texts)} rows in {wall:.1f}s "
                f"= {len(texts) / wall:.0f} rows/s  stages={res.summary['timings_s']}"
            )
            for kind, rate in settings:
                noisy = inject_noise(y, k, rate, kind, seed=0)
                truth = noisy != y
                probs = cross_val_predict_proba(
                    X, noisy, n_classes=k, random_state=0, estimator=end_model
                )
                res = audit(
                    pd.DataFrame({"label": noisy}), label="label", pred_probs=probs, random_state=0
                )
                ours = res.issues.sort_values("item_id")["is_label_issue"].to_numpy()
                theirs = cl_find(noisy, probs, filter_by="prune_by_noise_rate")
                r_t, r_c = prf(ours, truth), prf(theirs, truth)
                rows.append(
                    {
                        "dataset": dname,
                        "featurizer": feat,
                        "noise": kind,
                        "rate": rate,
                        "truelabel": r_t,
                        "cleanlab": r_c,
                    }
                )
                print(
                    f"{dname:9s} {feat:7s} {kind:9s} {rate:.0%}  truelabel F1 {r_t['f1']:.3f} "
                    f"(P {r_t['precision']:.3f} R {r_t['recall']:.3f})  cleanlab F1 {r_c['f1']:.3f} "
                    f"(P {r_c['precision']:.3f} R {r_c['recall']:.3f})"
                )
    wins = sum(r["truelabel"]["f1"] >= r["cleanlab"]["f1"] for r in rows)
    print(f"\ntruelabel F1 >= cleanlab F1 in {wins}/{len(rows)} settings")
    name = "audit_e2e_" + "_".join(feats) + ("_quick" if args.quick else "")
    name += "_speed" if args.speed_only else ""
    command = " ".join([".venv/bin/python benchmarks/bench_audit_e2e.py", *sys.argv[1:]])
    write_results(
        name,
        {
            "machine": machine(),
            "command": command,
            "quality": rows,
            "speed": speed,
            "f1_wins": f"{wins}/{len(rows)}",
        },
    )


if __name__ == "__main__":
    main()
