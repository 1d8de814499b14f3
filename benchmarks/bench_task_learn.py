"""Learning multi-label tags and numbers: ``train --task multilabel`` / ``--task regression``.

Multi-label (one-vs-rest logistic on MiniLM features, per-tag F1 thresholds, conformal sets
holding all of an item's tags):

- GoEmotions: train on dev, evaluate on test, and the reverse (5,4k items each); labels as
  released, and with 10% / 20% injected tag noise (drop / add / swap within an Ekman group,
  the audit benchmark's noise) as a sanity check. Test micro/macro F1 against the released
  labels of the other split for ``label_filter`` none vs flagged, next to scikit-learn's
  ``OneVsRestClassifier(LogisticRegression)`` at 0.5; conformal coverage (share of items
  whose set holds all their tags) at alpha 0.1 / 0.05, with the threshold-normalised score
  and the raw ``1 - p`` score (same cross-fitted probabilities).
- CrowdTruth medical relations (real noise): tags ``cause`` / ``treat`` from distant
  supervision (``baseline``) on the sentence-term pairs without an expert judgment; F1 on
  the expert-judged pairs against the medical expert.

Regression (MovieReviews, TF-IDF of the published bag of words → 256 SVD components fitted
on the 1,500 training reviews): train on the author's ratings, on one random worker's
rating per review (real worker noise, 3 draws) or on the workers' mean; test MAE against
the author's ratings of the 3,506 test reviews for ridge, Huber, each with the residual
filter, and scikit-learn's ``HuberRegressor``; interval coverage on the test reviews
(trained on author ratings) and on 5 random 1,000/500 splits of the worker-labelled
reviews (against the held-out worker ratings).

    .venv/bin/python benchmarks/bench_task_learn.py [--parts multilabel,crowdtruth,regression]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from _common import DATA, machine, write_results
from bench_tasks import _lda_c, goemotions, inject_multilabel_noise
from truelabel.calibrate import MultiLabelConformal
from truelabel.crossfit import SigmoidRegression, cross_val_predict_multilabel
from truelabel.learn import train_multilabel, train_regression
from truelabel.learn._table_artifact import _f1_table

MOVIES = DATA / "regression" / "moviereviews-crowd"
MEDICAL = DATA / "crowd" / "crowdtruth-multiselect" / "medical_relex"
ALPHAS = (0.1, 0.05)


def _frame(Y: np.ndarray, names: list[str]) -> pd.DataFrame:
    cls = np.asarray(names, dtype=object)
    return pd.DataFrame({"tags": [",".join(cls[r.astype(bool)]) for r in Y]})


def _align(tm: Any, names: list[str]) -> np.ndarray:
    """Column positions of the model's (sorted, present) tags in ``names``."""
    return np.array([names.index(t) for t in tm.classes])


def _sklearn_ovr(X: np.ndarray, Y: np.ndarray, Xe: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    keep = Y.any(axis=0) & ~Y.all(axis=0)
    P = np.zeros((len(Xe), Y.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = OneVsRestClassifier(LogisticRegression(C=10.0, max_iter=300)).fit(X, Y[:, keep])
    P[:, keep] = clf.predict_proba(Xe)
    return P


def _coverage(sets: np.ndarray, Y: np.ndarray) -> dict[str, float]:
    has = Y.any(axis=1)
    cov = ~(Y.astype(bool) & ~sets).any(axis=1)
    return {
        "coverage": round(float(cov[has].mean()), 4),
        "mean_size": round(float(sets.sum(axis=1).mean()), 3),
    }


def multilabel_goemotions() -> dict[str, Any]:
    from truelabel.featurize import featurize

    data = {}
    for split in ("dev", "test"):
        texts, Y, names = goemotions(split)
        data[split] = (np.asarray(featurize(texts, "minilm"), dtype=np.float32), Y, names)
    out: dict[str, Any] = {}
    for tr, ev in (("dev", "test"), ("test", "dev")):
        X, Y, names = data[tr]
        Xe, Ye, _ = data[ev]
        for rate in (0.0, 0.1, 0.2):
            Yg = Y if rate == 0 else inject_multilabel_noise(Y, names, rate, 0)[0]
            row: dict[str, Any] = {"load": round(os.getloadavg()[0], 2)}
            for filt in ("none", "flagged"):
                t0 = time.perf_counter()
                tm = train_multilabel(
                    _frame(Yg, names), label_column="tags", label_filter=filt, features=X
                )
                cols = _align(tm, names)
                Pe = tm.predict_proba(Xe)
                f1 = _f1_table(Ye[:, cols], Pe >= tm.thresholds[None, :])
                r: dict[str, Any] = {
                    "micro_f1": round(f1["micro_f1"], 4),
                    "macro_f1": round(f1["macro_f1"], 4),
                    "fit_s": round(time.perf_counter() - t0, 1),
                    "cells_filtered": tm.metadata["metrics"]["n_cells_filtered"],
                }
                for a in ALPHAS:
                    r[f"conformal_a{a}"] = _coverage(tm.predict_sets(Pe, alpha=a), Ye[:, cols])
                row[f"truelabel_{filt}"] = r
                if filt == "none":
                    # the raw 1 - p score on the same cross-fitted probabilities
                    Yc = Yg[:, cols]
                    Poof = cross_val_predict_multilabel(
                        X, Yc, estimator=SigmoidRegression(C=10.0), random_state=0
                    )
                    for a in ALPHAS:
                        mc = MultiLabelConformal(alpha=a).fit(Poof, Yc)
                        row[f"raw_score_a{a}"] = _coverage(mc.predict_sets(Pe), Ye[:, cols])
            Pb = _sklearn_ovr(X, Yg, Xe)
            fb = _f1_table(Ye, Pb >= 0.5)
            row["sklearn_ovr_logreg_0.5"] = {
                "micro_f1": round(fb["micro_f1"], 4),
                "macro_f1": round(fb["macro_f1"], 4),
            }
            out[f"train_{tr}_eval_{ev}_noise{int(rate * 100)}"] = row
            print(f"  {tr}->{ev} noise {rate}: {row}", flush=True)
    return out


def multilabel_crowdtruth() -> dict[str, Any]:
    from truelabel.featurize import featurize

    frames = {
        r: pd.read_csv(MEDICAL / f"ground_truth_{r}.csv.gz").set_index("SID")
        for r in ("cause", "treat")
    }
    c, t = frames["cause"], frames["treat"].reindex(frames["cause"].index)
    texts = (c["term1"] + " | " + c["term2"] + " | " + c["sentence"]).astype(str).tolist()
    X = np.asarray(featurize(texts, "minilm"), dtype=np.float32)
    names = ["cause", "treat"]
    given = np.stack([c["baseline"].to_numpy() == 1, t["baseline"].to_numpy() == 1], 1)
    expert = np.stack([c["expert"].to_numpy(), t["expert"].to_numpy()], 1)
    judged = ~np.isnan(expert)
    train = ~judged.any(axis=1)
    ev = judged.any(axis=1)
    out: dict[str, Any] = {
        "n_train": int(train.sum()),
        "n_eval": int(ev.sum()),
        "distant_vs_expert_agreement": [
            round(float(((expert[:, j] == 1) == given[:, j])[judged[:, j]].mean()), 4)
            for j in range(2)
        ],
        "load": round(os.getloadavg()[0], 2),
    }

    def f1_vs_expert(pred: np.ndarray) -> dict[str, Any]:
        res = {}
        for j, n in enumerate(names):
            m = judged[:, j] & ev
            res[n] = round(
                _f1_table((expert[m, j] == 1)[:, None], pred[m, j][:, None])["micro_f1"], 4
            )
        res["macro"] = round((res["cause"] + res["treat"]) / 2, 4)
        return res

    Yg = given[train].astype(np.int8)
    for filt in ("none", "flagged"):
        tm = train_multilabel(
            _frame(Yg, names), label_column="tags", label_filter=filt, features=X[train]
        )
        Pe = tm.predict_proba(X[ev])
        full = np.zeros((len(X), 2), dtype=bool)
        full[ev] = Pe >= tm.thresholds[None, :]
        sets = np.zeros((len(X), 2), dtype=bool)
        sets[ev] = tm.predict_sets(Pe)
        r = {
            "f1_vs_expert": f1_vs_expert(full),
            "cells_filtered": tm.metadata["metrics"]["n_cells_filtered"],
            "conformal_a0.1_vs_distant": _coverage(sets[ev], given[ev].astype(np.int8)),
            "set_recall_vs_expert": [
                round(float(sets[judged[:, j] & (expert[:, j] == 1), j].mean()), 4)
                for j in range(2)
            ],
        }
        out[f"truelabel_{filt}"] = r
    Pb = _sklearn_ovr(X[train], Yg, X)
    out["sklearn_ovr_logreg_0.5"] = {"f1_vs_expert": f1_vs_expert(Pb >= 0.5)}
    print(f"  crowdtruth medical: {out}", flush=True)
    return out


def movie_features() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train / test features (TF-IDF + SVD fitted on train), worker answers, gold ratings."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize

    A = np.loadtxt(MOVIES / "answers.txt.gz")
    A[A > 1e8] = np.nan
    gold = np.loadtxt(MOVIES / "labels_train_amt.txt")
    gold_te = np.loadtxt(MOVIES / "labels_test.txt")
    C = _lda_c(MOVIES / "data_train_amt.txt.gz", 26_800)
    Ct = _lda_c(MOVIES / "data_test.txt.gz", 26_800)
    tf = TfidfTransformer(sublinear_tf=True).fit(C)
    svd = TruncatedSVD(256, random_state=0).fit(tf.transform(C))
    X = normalize(svd.transform(tf.transform(C))).astype(np.float32)
    Xt = normalize(svd.transform(tf.transform(Ct))).astype(np.float32)
    return X, Xt, A, gold, gold_te


def _interval_cov(tm: Any, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    pred, scale = tm.predict_values(X)
    out = {}
    for a in ALPHAS:
        lo, hi = tm.predict_intervals(pred, scale, alpha=a)
        out[f"a{a}"] = {
            "coverage": round(float(((y >= lo) & (y <= hi)).mean()), 4),
            "mean_width": round(float((hi - lo).mean()), 4),
        }
    return out


def regression_movies() -> dict[str, Any]:
    from sklearn.linear_model import HuberRegressor

    X, Xt, A, gold, gold_te = movie_features()
    n = len(gold)
    rated = [np.flatnonzero(~np.isnan(a)) for a in A]
    label_sets: dict[str, np.ndarray] = {"author": gold, "worker_mean": np.nanmean(A, axis=1)}
    for s in range(3):
        rng = np.random.default_rng(s)
        label_sets[f"one_worker_seed{s}"] = np.array([A[i, rng.choice(rated[i])] for i in range(n)])
    out: dict[str, Any] = {
        "n_train": n,
        "n_test": len(gold_te),
        "load": round(os.getloadavg()[0], 2),
    }
    configs = [
        ("ridge", "squared", "none"),
        ("ridge_filtered", "squared", "flagged"),
        ("huber", "huber", "none"),
        ("huber_filtered", "huber", "flagged"),
    ]
    for lname, y in label_sets.items():
        row: dict[str, Any] = {}
        for cname, loss, filt in configs:
            tm = train_regression(
                pd.DataFrame({"y": y}), label_column="y", loss=loss, label_filter=filt, features=X
            )
            pred, _ = tm.predict_values(Xt)
            row[cname] = {
                "test_mae": round(float(np.abs(pred - gold_te).mean()), 5),
                "filtered": tm.metadata["metrics"]["n_items_filtered"],
            }
            if lname == "author" and cname == "huber":
                row["huber"]["test_interval_vs_author"] = _interval_cov(tm, Xt, gold_te)
                tma = train_regression(
                    pd.DataFrame({"y": y}), label_column="y", conformal="absolute", features=X
                )
                row["huber_absolute_score"] = {
                    "test_interval_vs_author": _interval_cov(tma, Xt, gold_te)
                }
        hub = HuberRegressor(max_iter=1000).fit(X, y)
        row["sklearn_HuberRegressor"] = {
            "test_mae": round(float(np.abs(hub.predict(Xt) - gold_te).mean()), 5)
        }
        out[lname] = row
        print(f"  movies {lname}: {row}", flush=True)
    # coverage on held-out worker-labelled reviews (the distribution calibrated on)
    splits = []
    for s in range(5):
        rng = np.random.default_rng(100 + s)
        perm = rng.permutation(n)
        tr, te = perm[:1000], perm[1000:]
        y = label_sets[f"one_worker_seed{s % 3}"]
        res = {}
        for score in ("normalized", "absolute"):
            tm = train_regression(
                pd.DataFrame({"y": y[tr]}), label_column="y", conformal=score, features=X[tr]
            )
            res[score] = _interval_cov(tm, X[te], y[te])
        splits.append(res)
    agg: dict[str, Any] = {}
    for score in ("normalized", "absolute"):
        for a in ALPHAS:
            covs = [sp[score][f"a{a}"]["coverage"] for sp in splits]
            widths = [sp[score][f"a{a}"]["mean_width"] for sp in splits]
            agg[f"{score}_a{a}"] = {
                "coverage_mean": round(float(np.mean(covs)), 4),
                "coverage_min": round(float(np.min(covs)), 4),
                "coverage_max": round(float(np.max(covs)), 4),
                "mean_width": round(float(np.mean(widths)), 4),
            }
    out["worker_label_splits_1000_500"] = agg
    print(f"  movies worker splits: {agg}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default="multilabel,crowdtruth,regression")
    args = ap.parse_args()
    parts = args.parts.split(",")
    payload: dict[str, Any] = {"machine": machine()}
    name = "task_learn" + ("" if args.parts == ap.get_default("parts") else "_" + "_".join(parts))
    for part, key, title, run in (
        ("regression", "regression_moviereviews", "MovieReviews regression", regression_movies),
        (
            "crowdtruth",
            "multilabel_crowdtruth_medical",
            "CrowdTruth medical relations (multi-label, real noise)",
            multilabel_crowdtruth,
        ),
        ("multilabel", "multilabel_goemotions", "GoEmotions multi-label", multilabel_goemotions),
    ):
        if part in parts:
            print(f"== {title}")
            payload[key] = run()
            write_results(name, payload)  # after each part: a stopped run keeps what it measured
    print("results:", write_results(name, payload))


if __name__ == "__main__":
    main()
