"""Plumbing we could take from a well-kept library: measured against ours on real data.

- kNN (audit's neighbour scores): ``truelabel.audit.nearest_neighbors`` (exact blocked
  products; IVF above 50k rows) vs scikit-learn's ``NearestNeighbors`` (brute, cosine) on
  Banking77 (10,003 texts, TF-IDF -> 256-d SVD): recall@10 against exact, seconds.
- Agreement statistics: ``cohen_kappa`` / Krippendorff's alpha (``truelabel._agreement``)
  vs scikit-learn's ``cohen_kappa_score`` and the ``krippendorff`` package on CIFAR-10N
  (50,000 images x 3 annotators): value and seconds.

Run: ``python benchmarks/bench_libraries.py`` (about a minute).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import cohen_kappa_score
from sklearn.neighbors import NearestNeighbors

from _common import DATA, load_text_dataset, write_results
from truelabel._agreement import cohen_kappa, krippendorff_alpha_nominal
from truelabel.audit import nearest_neighbors


def _best_of(fn: Any, repeat: int = 3) -> tuple[Any, float]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def _recall(idx: np.ndarray, ref: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(idx, ref, strict=True)]))


def knn_rows() -> list[dict[str, Any]]:
    texts, _, _ = load_text_dataset("banking77")
    X = TfidfVectorizer(min_df=2, sublinear_tf=True).fit_transform(texts)
    X = TruncatedSVD(256, random_state=0).fit_transform(X).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True) + 1e-12
    k = 10
    (ours, _), t_ours = _best_of(lambda: nearest_neighbors(X, k=k))
    (ivf, _), t_ivf = _best_of(lambda: nearest_neighbors(X, k=k, exact_max_rows=0))

    def skl() -> np.ndarray:
        nn = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute").fit(X)
        ind = nn.kneighbors(X, return_distance=False)
        # drop each row itself (first, up to ties) to match ours, which excludes self
        return np.array([[j for j in row if j != i][:k] for i, row in enumerate(ind)])

    ref, t_skl = _best_of(skl)
    n = X.shape[0]
    return [
        {
            "method": "truelabel exact",
            "rows": n,
            "recall@10": _recall(ours, ref),
            "seconds": t_ours,
        },
        {
            "method": "truelabel IVF (forced)",
            "rows": n,
            "recall@10": _recall(ivf, ref),
            "seconds": t_ivf,
        },
        {"method": "sklearn NearestNeighbors brute", "rows": n, "recall@10": 1.0, "seconds": t_skl},
    ]


def agreement_rows() -> list[dict[str, Any]]:
    z = np.load(DATA / "crowd" / "cifar-10n" / "CIFAR-10_human.npz")
    L = np.stack([z["random_label1"], z["random_label2"], z["random_label3"]], axis=1)
    n, r = L.shape
    unit, value = np.repeat(np.arange(n), r), L.ravel()
    rows: list[dict[str, Any]] = []
    kappa, t = _best_of(lambda: cohen_kappa(L[:, 0], L[:, 1], 10))
    rows.append(
        {
            "statistic": "Cohen's kappa (annotators 1 vs 2)",
            "library": "truelabel",
            "value": kappa,
            "seconds": t,
        }
    )
    kappa_s, t = _best_of(lambda: cohen_kappa_score(L[:, 0], L[:, 1]))
    rows.append(
        {
            "statistic": "Cohen's kappa (annotators 1 vs 2)",
            "library": "sklearn.metrics.cohen_kappa_score",
            "value": float(kappa_s),
            "seconds": t,
        }
    )
    alpha, t = _best_of(lambda: krippendorff_alpha_nominal(unit, value, 10))
    rows.append(
        {
            "statistic": "Krippendorff's alpha (3 annotators)",
            "library": "truelabel",
            "value": alpha,
            "seconds": t,
        }
    )
    try:
        import krippendorff
    except ImportError:  # the bench extra installs it
        return rows
    alpha_k, t = _best_of(
        lambda: krippendorff.alpha(
            reliability_data=L.T.astype(float), level_of_measurement="nominal"
        )
    )
    rows.append(
        {
            "statistic": "Krippendorff's alpha (3 annotators)",
            "library": "krippendorff 0.9",
            "value": float(alpha_k),
            "seconds": t,
        }
    )
    return rows


def main() -> None:
    load = os.getloadavg()
    knn, agree = knn_rows(), agreement_rows()
    print(f"load average {load[0]:.1f}")
    print(f"{'kNN method':34s} {'rows':>6s} {'recall@10':>9s} {'seconds':>8s}")
    for r in knn:
        print(f"{r['method']:34s} {r['rows']:6d} {r['recall@10']:9.4f} {r['seconds']:8.2f}")
    print(f"\n{'statistic':38s} {'library':36s} {'value':>8s} {'seconds':>8s}")
    for r in agree:
        print(f"{r['statistic']:38s} {r['library']:36s} {r['value']:8.5f} {r['seconds']:8.3f}")
    write_results("libraries", {"loadavg": load, "knn": knn, "agreement": agree})


if __name__ == "__main__":
    main()
