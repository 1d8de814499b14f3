"""Clustered conformal (Ding et al. 2023): coverage, set size vs per-class, fallback, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from truelabel import InputError
from truelabel.calibrate import ConformalClassifier, clustering_parameters


def _sim_groups(n: int, k: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Many classes in 3 difficulty groups: the true class's logit gets +1, +2.5 or +4."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, k))
    z[np.arange(n), y] += np.array([1.0, 2.5, 4.0])[y % 3]
    p = np.exp(z - z.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True), y


def _run(cc_mode: bool | str, alpha: float, reps: int = 20) -> tuple[float, float]:
    p, y = _sim_groups(40_000)
    rng = np.random.default_rng(1)
    cov, size = [], []
    for r in range(reps):
        perm = rng.permutation(len(y))
        cal, test = perm[:1500], perm[1500:4500]  # ~25 calibration items per class
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cc = ConformalClassifier(alpha=alpha, class_conditional=cc_mode, random_state=r)
            cc.fit(p[cal], y[cal])
        s = cc.predict_sets(p[test])
        cov.append(s[np.arange(len(test)), y[test]].mean())
        size.append(s.sum(1).mean())
    return float(np.mean(cov)), float(np.mean(size))


def test_clustered_holds_coverage_and_beats_per_class_set_size() -> None:
    cov_cl, size_cl = _run("clustered", 0.1)
    cov_pc, size_pc = _run(True, 0.1)
    assert abs(cov_cl - 0.9) < 0.015
    assert cov_pc > cov_cl  # per-class thresholds on ~25 items over-cover
    assert size_cl < size_pc


def test_clustered_groups_classes_of_like_difficulty() -> None:
    p, y = _sim_groups(40_000, seed=3)
    cc = ConformalClassifier(
        alpha=0.1, class_conditional="clustered", n_clusters=3, cluster_fraction=0.5
    ).fit(p[:20_000], y[:20_000])
    assert cc.fallback_classes_.size == 0
    groups = np.arange(60) % 3
    # classes of one difficulty group share a cluster
    for g in range(3):
        assert len(np.unique(cc.cluster_of_class_[groups == g])) == 1
    # and the within-group coverage is close to nominal for every group
    sets = cc.predict_sets(p[20_000:])
    yt = y[20_000:]
    hit = sets[np.arange(len(yt)), yt]
    for g in range(3):
        assert abs(hit[yt % 3 == g].mean() - 0.9) < 0.03


def test_rare_classes_fall_back_to_marginal_with_warning() -> None:
    p, y = _sim_groups(3000, k=10, seed=4)
    keep = (y != 7) | (np.arange(len(y)) % 50 == 0)  # class 7 gets only a handful of items
    p, y = p[keep], y[keep]
    with pytest.warns(UserWarning, match=r"marginal threshold: classes 7\b"):
        cc = ConformalClassifier(
            alpha=0.1, class_conditional="clustered", n_clusters=2, cluster_fraction=0.5
        ).fit(p, y)
    assert cc.cluster_of_class_[7] == -1
    assert (cc.cluster_of_class_ >= 0).sum() == 9
    assert 7 in cc.fallback_classes_
    marginal = ConformalClassifier(alpha=0.1).fit(p, y)
    assert np.isfinite(cc.quantiles_).all()
    assert cc.quantiles_[7] > 0 and marginal.quantile_ > 0


def test_clustering_parameters_heuristic() -> None:
    # 77 classes with >= 20 items each at alpha 0.1: n_min 20, 10 items cluster, 5 clusters
    m, frac = clustering_parameters(np.full(77, 20), 0.1)
    assert (m, frac) == (5, 0.5)
    # a class below ceil(1/alpha) - 1 items does not lower n_min under 9
    m2, frac2 = clustering_parameters(np.array([3] + [40] * 9), 0.1)
    assert m2 >= 1 and 0 <= frac2 < 1


def test_refit_clears_cluster_attributes() -> None:
    p, y = _sim_groups(3000, k=10)
    cc = ConformalClassifier(class_conditional="clustered").fit(p, y)
    assert hasattr(cc, "cluster_of_class_")
    cc.set_params(class_conditional=True).fit(p, y)
    assert not hasattr(cc, "cluster_of_class_")


def test_clustered_bad_input() -> None:
    p, y = _sim_groups(500, k=5)
    with pytest.raises(InputError, match="'class_conditional' parameter"):
        ConformalClassifier(class_conditional="clusters").fit(p, y)
    with pytest.raises(InputError, match="'n_clusters' parameter"):
        ConformalClassifier(class_conditional="clustered", n_clusters=0).fit(p, y)
    with pytest.raises(InputError, match="'cluster_fraction' parameter"):
        ConformalClassifier(class_conditional="clustered", cluster_fraction=1.0).fit(p, y)
