"""Label-error detection from given probabilities vs human-validated errors (CIFAR-10, MNIST).

Input: the "Pervasive Label Errors in Test Sets" release in
``../shared/datasets/label-errors/cleanlab/{cifar10,mnist}``: out-of-sample predicted
probabilities of the test set, the given test labels, and ``*_mturk.json``, where 5
crowd workers judged each candidate item (``given`` = how many chose the given label).
A **confirmed error** is an item of the mturk file with ``given <= 2``; items not in the
file are not confirmed errors. (This reproduces the paper's counts: 54 on CIFAR-10, 15 on
MNIST. On MNIST some items carry 10 votes where workers chose both; ``given`` is still
the count of workers choosing the given label.)

For truelabel and cleanlab 2.9 in the same run, on the same arrays:

- rankings over all items (lower score = reviewed first): average precision (AP),
  precision@k and recall@k — cleanlab's ``rank.get_label_quality_scores`` with each
  method, cleanlab's ``find_label_issues(return_indices_ranked_by=...)`` (a ranked list
  of only the flagged items; AP counts errors outside the list as never retrieved),
  truelabel's ``get_label_quality_scores`` methods and every ``get_label_quality``
  method (the evidence for its default);
- flagged sets: precision and recall of ``find_label_issues`` for each ``filter_by``.

CIFAR-10/MNIST come without features, so the weight of neighbour agreement in
``get_label_quality`` is chosen separately (``--neighbors``): on text with 20% injected
symmetric noise (TF-IDF features, 5-fold out-of-sample probabilities from the default end
model, 10 cosine neighbours), AP against the flips for weights 0..1; the result is merged
into the same results file under ``neighbor_weight``.

    .venv/bin/python benchmarks/bench_audit_given_probs.py [--quick]
    .venv/bin/python benchmarks/bench_audit_given_probs.py --neighbors [--datasets banking77,ag_news]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from _common import DATA, machine, prf, write_results
from truelabel.audit import (
    FILTER_STRATEGIES,
    LABEL_QUALITY_METHODS,
    SCORE_METHODS,
    find_label_issues,
    get_label_quality,
    get_label_quality_scores,
)

KS = (10, 25, 50, 100, 200)
SRC = DATA / "label-errors" / "cleanlab"


def load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels (N,), pred_probs (N, K), confirmed-error mask (N,))."""
    labels = np.load(SRC / name / f"{name}_test_set_original_labels.npy").astype(np.int64)
    probs = np.load(SRC / name / f"{name}_test_set_pyx.npy")
    err = np.zeros(labels.shape[0], dtype=bool)
    for item in json.loads((SRC / name / f"{name}_mturk.json").read_text()):
        if int(item["given_original_label"]) != labels[item["id"]]:
            raise SystemExit(f"{name}: mturk item {item['id']} does not match the labels file")
        err[item["id"]] = item["mturk"]["given"] <= 2
    return labels, probs, err


def ranking_metrics(order: np.ndarray, err: np.ndarray) -> dict[str, Any]:
    """AP, P@k, R@k of a ranked list of item indices (possibly not all items)."""
    hits = err[order]
    n_err = int(err.sum())
    cum = np.cumsum(hits)
    prec_at = cum / np.arange(1, hits.shape[0] + 1)
    ap = float((prec_at * hits).sum() / max(n_err, 1))
    out: dict[str, Any] = {"ap": round(ap, 4), "listed": int(order.shape[0])}
    for k in (*KS, n_err):
        got = int(cum[min(k, hits.shape[0]) - 1]) if hits.shape[0] else 0
        out[f"p@{k}"] = round(got / k, 4)
        out[f"r@{k}"] = round(got / max(n_err, 1), 4)
    return out


def score_metrics(score: np.ndarray, err: np.ndarray) -> dict[str, Any]:
    """Metrics of ranking all items by ascending score (stable on ties)."""
    order = np.argsort(score, kind="stable")
    out = ranking_metrics(order, err)
    # sklearn's AP (tie-aware) as a cross-check of the hand-rolled one
    out["ap_sklearn"] = round(float(average_precision_score(err, -np.asarray(score))), 4)
    return out


def timed(fn: Any, *args: Any, **kw: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, round(time.perf_counter() - t, 4)


def run(name: str) -> dict[str, Any]:
    import cleanlab
    import cleanlab.filter as cl_filter
    import cleanlab.rank as cl_rank

    labels, probs, err = load(name)
    res: dict[str, Any] = {
        "n": int(labels.shape[0]),
        "k": int(probs.shape[1]),
        "n_confirmed_errors": int(err.sum()),
        "cleanlab_version": cleanlab.__version__,
        "rankings": {},
        "flagged": {},
        "seconds": {},
    }
    rk, fl, sec = res["rankings"], res["flagged"], res["seconds"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in SCORE_METHODS:
            s, t = timed(cl_rank.get_label_quality_scores, labels, probs, method=m)
            rk[f"cleanlab rank.get_label_quality_scores({m})"] = score_metrics(s, err)
            sec[f"cleanlab scores {m}"] = t
            order, t = timed(
                cl_filter.find_label_issues, labels, probs, return_indices_ranked_by=m, n_jobs=1
            )
            rk[f"cleanlab find_label_issues(ranked_by={m})"] = ranking_metrics(order, err)
        for fb in FILTER_STRATEGIES:
            m, t = timed(cl_filter.find_label_issues, labels, probs, filter_by=fb, n_jobs=1)
            fl[f"cleanlab {fb}"] = prf(m, err)
            sec[f"cleanlab find_label_issues {fb}"] = t
    for m in SCORE_METHODS:
        s, t = timed(get_label_quality_scores, labels, probs, method=m)
        rk[f"truelabel get_label_quality_scores({m})"] = score_metrics(s, err)
        sec[f"truelabel scores {m}"] = t
    for m in LABEL_QUALITY_METHODS:
        s = get_label_quality(labels, probs, method=m)
        rk[f"truelabel get_label_quality({m})"] = score_metrics(s, err)
    s, t = timed(get_label_quality, labels, probs)
    rk["truelabel get_label_quality(default)"] = score_metrics(s, err)
    sec["truelabel get_label_quality default"] = t
    for fb in FILTER_STRATEGIES:
        m, t = timed(find_label_issues, labels, probs, filter_by=fb)
        fl[f"truelabel {fb}"] = prf(m, err)
        sec[f"truelabel find_label_issues {fb}"] = t
        cl_mask = fl[f"cleanlab {fb}"]
        fl[f"truelabel {fb}"]["same_count_as_cleanlab"] = cl_mask["n_flagged"] == int(m.sum())
    best_cl = max(
        (v["ap"], k) for k, v in rk.items() if k.startswith("cleanlab")
    )  # best cleanlab ranking
    res["summary"] = {
        "truelabel_default_ap": rk["truelabel get_label_quality(default)"]["ap"],
        "cleanlab_best_ap": best_cl[0],
        "cleanlab_best_ranking": best_cl[1],
        "target_met (AP >= cleanlab best)": rk["truelabel get_label_quality(default)"]["ap"]
        >= best_cl[0],
    }
    return res


def neighbor_weight_evidence(names: list[str]) -> dict[str, Any]:
    from _common import inject_noise, load_text_dataset
    from truelabel.audit import get_neighbor_agreement_scores, nearest_neighbors
    from truelabel.crossfit import cross_val_predict_proba
    from truelabel.featurize import featurize

    out: dict[str, Any] = {
        "setup": "20% symmetric flips (seed 0), tfidf, 5-fold default end model, k=10 cosine",
        "datasets": {},
    }
    for name in names:
        texts, y, classes = load_text_dataset(name)
        k = len(classes)
        noisy = inject_noise(y, k, 0.2, "symmetric", seed=0)
        flips = noisy != y
        X = featurize(texts, method="tfidf")
        probs = cross_val_predict_proba(X, noisy, n_classes=k, random_state=0)
        knn, _ = nearest_neighbors(X, k=10)
        row: dict[str, Any] = {"n": len(texts), "k": k}
        for w in (0.0, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0):
            s = get_label_quality(noisy, probs, knn_indices=knn, neighbor_weight=w)
            row[f"ap_soft_w{w}"] = round(float(average_precision_score(flips, -s)), 4)
        base = get_label_quality(noisy, probs)
        hard = get_neighbor_agreement_scores(noisy, knn)
        for w in (0.25, 0.5):
            s = (1 - w) * base + w * hard
            row[f"ap_hard_w{w}"] = round(float(average_precision_score(flips, -s)), 4)
        out["datasets"][name] = row
        print(name, row, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="MNIST only")
    ap.add_argument("--neighbors", action="store_true", help="only the neighbour-weight study")
    ap.add_argument("--datasets", default="banking77,ag_news")
    args = ap.parse_args()
    if args.neighbors:
        from _common import RESULTS

        path = RESULTS / "audit_given_probs.json"
        payload = json.loads(path.read_text()) if path.exists() else {}
        payload["neighbor_weight"] = neighbor_weight_evidence(args.datasets.split(","))
        payload["neighbor_weight"]["machine"] = machine()
        print("wrote", write_results("audit_given_probs", payload))
        return
    names = ["mnist"] if args.quick else ["cifar10", "mnist"]
    import truelabel.audit._scores as sc
    from _common import RESULTS

    old = RESULTS / "audit_given_probs.json"
    keep = json.loads(old.read_text()).get("neighbor_weight") if old.exists() else None
    payload: dict[str, Any] = {
        "benchmark": "audit_given_probs",
        "machine": machine(),
        "definition": "confirmed error = item in *_mturk.json with mturk.given <= 2 (of 5 workers)",
        "truelabel_default_method": sc.get_label_quality.__kwdefaults__["method"],
        "datasets": {},
    }
    for name in names:
        res = run(name)
        payload["datasets"][name] = res
        print(
            f"\n== {name}: N={res['n']}, K={res['k']}, confirmed errors={res['n_confirmed_errors']}"
        )
        n_err = res["n_confirmed_errors"]
        print(f"{'ranking':58s} {'AP':>6s} {'P@' + str(n_err):>7s} {'P@100':>6s} {'R@100':>6s}")
        for key, v in res["rankings"].items():
            print(
                f"{key:58s} {v['ap']:6.3f} {v[f'p@{n_err}']:7.3f} {v['p@100']:6.3f} {v['r@100']:6.3f}"
            )
        print(f"{'flagged set':40s} {'n':>5s} {'prec':>6s} {'recall':>6s}")
        for key, v in res["flagged"].items():
            print(f"{key:40s} {v['n_flagged']:5d} {v['precision']:6.3f} {v['recall']:6.3f}")
        print("summary:", res["summary"])
    if keep is not None:
        payload["neighbor_weight"] = keep  # from the last --neighbors run
    if not args.quick:
        print("wrote", write_results("audit_given_probs", payload))


if __name__ == "__main__":
    main()
