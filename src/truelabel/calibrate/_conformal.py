"""Split conformal prediction sets: LAC, APS and RAPS scores, class-conditional, clustered
(Ding et al. 2023), multi-label, and calibration on noisy labels (a noise matrix corrects
the coverage towards the true labels)."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .._errors import InputError, NotFittedError
from .._types import BoolArray, FloatArray, IntArray
from .._validation import (
    Interval,
    Options,
    check_labels,
    check_params,
    check_pred_probs,
    check_random_state,
)

__all__ = [
    "ConformalClassifier",
    "MultiLabelConformal",
    "clustering_parameters",
    "conformal_quantile",
    "set_sizes",
    "true_label_weights",
    "weighted_conformal_quantile",
]

#: score given to an item's most probable class when it always enters the set
_TOP_SCORE = -1.0

logger = logging.getLogger(__name__)


def conformal_quantile(scores: FloatArray, alpha: float) -> float:
    """The split-conformal threshold: the ``ceil((n+1)(1-alpha))``-th smallest score.

    Parameters
    ----------
    scores : ndarray of shape (n,)
        Non-conformity scores of the calibration items (higher = less typical).
    alpha : float in (0, 1)
        Miscoverage level.

    Returns
    -------
    float
        ``inf`` when ``n`` is too small for the level (then every class enters the set).
    """
    s = np.sort(np.asarray(scores, dtype=np.float64))
    n = s.size
    rank = int(np.ceil((n + 1) * (1.0 - alpha)))
    if n == 0 or rank > n:
        return float("inf")
    return float(s[rank - 1])


def weighted_conformal_quantile(
    scores: FloatArray, weights: FloatArray, alpha: float, *, n: float | None = None
) -> float:
    """The smallest threshold whose weighted coverage reaches ``(1 - alpha)(n + 1) / n``.

    The weighted generalisation of :func:`conformal_quantile`: every (item, class) pair
    ``(i, k)`` carries a weight ``w_ik`` (the share of item ``i`` that is truly class
    ``k``; it may be negative for unbiased noise corrections), and the coverage of a
    threshold ``t`` is ``sum_ik w_ik [s_ik <= t] / n``. With one-hot weights on the
    labels this is exactly :func:`conformal_quantile`'s rank.

    Parameters
    ----------
    scores : ndarray of shape (N, K)
        Non-conformity score of every candidate class of every calibration item.
    weights : ndarray of shape (N, K)
        Weight of each pair; rows usually sum to 1.
    alpha : float in (0, 1)
    n : float, optional
        Effective number of items for the finite-sample correction; default the sum of
        the weights.

    Returns
    -------
    float
        ``inf`` when no finite threshold reaches the level (too few items).
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    total = float(w.sum())
    n_eff = float(total if n is None else n)
    if s.size == 0 or total <= 0 or n_eff <= 0:
        return float("inf")
    target = (1.0 - alpha) * (n_eff + 1.0) / n_eff
    if target > 1.0 + 1e-12:
        return float("inf")
    order = np.argsort(s, kind="stable")
    s_sorted = s[order]
    cum = np.cumsum(w[order]) / total
    # ties: the coverage at a score counts every pair with that score
    last_of_tie = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    cum_at = np.where(last_of_tie, cum, np.nan)
    cum_at = np.fmax.accumulate(np.nan_to_num(cum_at, nan=-np.inf))  # noise can make it dip
    hit = np.flatnonzero(cum_at >= min(target, 1.0) - 1e-12)
    if hit.size == 0:
        return float("inf")
    return float(s_sorted[hit[0]])


def true_label_weights(
    labels: IntArray,
    noise_matrix: Any,
    *,
    method: str = "invert",
    probs: FloatArray | None = None,
) -> FloatArray:
    """How much of each calibration item counts for each true class, given noisy labels.

    Split conformal prediction calibrated on noisy labels covers the *noisy* labels; to
    cover the true ones, each item's label is replaced by a weight vector over the true
    classes (class-conditional noise, ``noise_matrix[i, j] = P(given = i | true = j)``):

    - ``"invert"``: column ``labels[i]`` of ``inverse(noise_matrix)``. Under
      class-conditional noise its expectation given the true class is that class's
      indicator, so weighted coverage is an unbiased estimate of the true-label
      coverage (the backward correction of Natarajan et al. 2013; the same idea as
      Sesia et al. 2024 and Penso & Goldberger 2024 for conformal sets). Needs no model;
      weights can be negative and the estimate is noisy when the matrix is
      ill-conditioned.
    - ``"posterior"``: ``P(true = k | x, given) ∝ probs[i, k] noise_matrix[labels[i], k]``,
      the Bayes posterior of the true class from the model's (calibrated) probabilities
      and the given label. Lower variance; relies on ``probs`` being calibrated.

    Parameters
    ----------
    labels : ndarray of shape (N,), int
        Given (noisy) labels.
    noise_matrix : ndarray of shape (K, K)
        Columns sum to 1.
    method : {"invert", "posterior"}
    probs : ndarray of shape (N, K), optional
        Required for ``"posterior"``.

    Returns
    -------
    weights : ndarray of shape (N, K), float64
        Rows sum to 1.
    """
    m = np.asarray(noise_matrix, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    k = m.shape[0]
    if m.shape != (k, k) or not np.all(np.isfinite(m)) or (m < 0).any():
        raise InputError(
            f"noise_matrix must be a finite non-negative (K, K) matrix; got {m.shape}."
        )
    if np.abs(m.sum(axis=0) - 1.0).max() > 1e-3:
        raise InputError(
            "noise_matrix columns must sum to 1 (noise_matrix[i, j] = P(given = i | true = j))."
        )
    if method == "invert":
        inv = np.linalg.pinv(m)
        return np.ascontiguousarray(inv[:, y].T)
    if method == "posterior":
        if probs is None:
            raise InputError("method='posterior' needs the calibrated probabilities (probs).")
        p = np.asarray(probs, dtype=np.float64)
        w = p * m[y, :]
        tot = w.sum(axis=1, keepdims=True)
        return np.where(tot > 0, w / np.where(tot > 0, tot, 1.0), p)
    raise InputError(f"unknown method {method!r}; choose 'invert' or 'posterior'.")


def _class_scores(
    probs: np.ndarray, score: str, u: np.ndarray | None, lam: float, k_reg: int
) -> np.ndarray:
    """Score of every candidate class for every item, shape (N, K); lower = more typical."""
    p = probs.astype(np.float64)
    if score == "lac":
        return 1.0 - p
    n, k = p.shape
    order = np.argsort(-p, axis=1, kind="stable")
    cum = np.cumsum(np.take_along_axis(p, order, axis=1), axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(k), (n, k)), axis=1)
    s = np.take_along_axis(cum, ranks, axis=1)  # mass of the classes ranked at or above
    if u is not None:
        s = s - u[:, None] * p
    if score == "raps":
        s = s + lam * np.maximum(0, ranks + 1 - k_reg)
    return s


def clustering_parameters(counts: IntArray, alpha: float) -> tuple[int, float]:
    """Ding et al.'s (2023) heuristic: number of clusters and share of items used to cluster.

    ``n_min`` is the smallest per-class count, raised to ``n_alpha = ceil(1/alpha) - 1``
    (the fewest items with a finite conformal quantile); ``K'`` the number of classes
    with at least ``n_min`` items. Then ``n_clustering = floor(n_min K' / (75 + K'))``
    items per class form the clusters, ``n_clusters = floor(n_clustering / 2)``, and the
    clustering share is ``n_clustering / n_min``.

    Parameters
    ----------
    counts : ndarray of shape (K,)
        Calibration items per class.
    alpha : float

    Returns
    -------
    n_clusters : int (>= 1)
    cluster_fraction : float in [0, 1)
    """
    c = np.asarray(counts, dtype=np.int64)
    n_alpha = int(np.ceil(1.0 / alpha)) - 1
    present = c[c > 0]
    n_min = max(int(present.min()) if present.size else 0, n_alpha, 1)
    k_left = int((c >= n_min).sum())
    n_clustering = int(n_min * k_left / (75 + k_left))
    return max(n_clustering // 2, 1), float(n_clustering / n_min)


def _clustered_quantiles(
    s: np.ndarray,
    y: np.ndarray,
    k: int,
    alpha: float,
    rng: np.random.Generator,
    n_clusters: int | str,
    cluster_fraction: float | str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clustered conformal thresholds (Ding et al. 2023).

    The calibration items are split per class: a share clusters the classes by the
    quantiles of their scores (weighted k-means on the 0.5…0.9 quantiles, weight
    ``sqrt(n_c)``), the rest gives one conformal quantile per cluster. Classes with
    fewer than ``ceil(1/alpha) - 1`` clustering items (and clusters whose quantile
    would be infinite) fall back to the marginal quantile of the calibration part.

    Returns
    -------
    quantiles : ndarray of shape (K,)
    cluster_of_class : ndarray of shape (K,), int; -1 for classes that fell back
    fallback : ndarray of int, the classes that fell back
    """
    from sklearn.cluster import KMeans

    counts = np.bincount(y, minlength=k)
    auto_m, auto_frac = clustering_parameters(counts, alpha)
    m = auto_m if n_clusters == "auto" else int(n_clusters)
    frac = auto_frac if cluster_fraction == "auto" else float(cluster_fraction)
    n = y.size
    # stratified split: within each class, a random `frac` share goes to clustering
    order = np.lexsort((rng.random(n), y))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[y[order]]
    n_clust = np.floor(frac * counts + 1e-9).astype(np.int64)
    in_clust = rank < n_clust[y]
    s_cl, y_cl = s[in_clust], y[in_clust]
    s_cal, y_cal = s[~in_clust], y[~in_clust]
    marginal = conformal_quantile(s_cal, alpha)
    n_alpha = int(np.ceil(1.0 / alpha)) - 1
    eligible = np.flatnonzero(n_clust >= max(n_alpha, 1))
    cluster_of = np.full(k, -1, dtype=np.int64)
    q = np.full(k, marginal, dtype=np.float64)
    if eligible.size:
        levels = np.array([0.5, 0.6, 0.7, 0.8, 0.9])
        emb = np.empty((eligible.size, levels.size), dtype=np.float64)
        for j, c in enumerate(eligible):  # loop over classes only
            emb[j] = np.quantile(s_cl[y_cl == c], levels)
        m_eff = max(1, min(m, eligible.size))
        if m_eff == 1:
            lab = np.zeros(eligible.size, dtype=np.int64)
        else:
            km = KMeans(n_clusters=m_eff, n_init=10, random_state=int(rng.integers(1 << 30)))
            lab = km.fit_predict(emb, sample_weight=np.sqrt(n_clust[eligible]))
        cluster_of[eligible] = lab
        cl_item = cluster_of[y_cal]
        for g in range(m_eff):  # loop over clusters only
            qg = conformal_quantile(s_cal[cl_item == g], alpha)
            members = eligible[lab == g]
            if np.isfinite(qg):
                q[members] = qg
            else:
                cluster_of[members] = -1
    fallback = np.flatnonzero(cluster_of < 0)
    return q, cluster_of, fallback


def set_sizes(sets: BoolArray) -> IntArray:
    """Number of classes in each prediction set, shape (N,)."""
    return np.asarray(sets, dtype=bool).sum(axis=1)


class ConformalClassifier(BaseEstimator):
    """Prediction sets that contain the true class with probability >= 1 - alpha.

    Split conformal: scores of held-out calibration items give a threshold; a class
    enters an item's set when its score is below the threshold. The guarantee holds
    on average over items exchangeable with the calibration items.

    Parameters
    ----------
    score : {"lac", "aps", "raps"}, default "lac"
        ``lac``: ``1 - p_y`` (smallest sets). ``aps``: probability mass of the classes
        ranked at or above ``y`` (adapts the set size to the item's difficulty).
        ``raps``: APS plus ``lam * max(0, rank - k_reg)`` (shorter tails).
    alpha : float, default 0.1
        Target miscoverage: sets cover the truth for ~90% of items at 0.1.
    class_conditional : bool or "clustered", default False
        ``True``: one threshold per true class, so coverage holds within every class
        (needs ``ceil(1/alpha) - 1`` calibration items per class; classes with fewer get
        all-inclusive sets, and with ~20 items per class the thresholds over-cover).
        ``"clustered"``: clustered conformal (Ding et al. 2023) — classes whose score
        quantiles look alike share one threshold, so each threshold rests on many items;
        classes with too few items fall back to the marginal threshold (a warning names
        them). Coverage holds marginally and approximately within each cluster.
    n_clusters : int or "auto", default "auto"
        ``"clustered"`` only: number of clusters (``"auto"``: Ding et al.'s heuristic,
        :func:`clustering_parameters`).
    cluster_fraction : float in (0, 1) or "auto", default "auto"
        ``"clustered"`` only: share of each class's calibration items used to form the
        clusters (the rest fixes the thresholds).
    randomized : bool, default True
        Randomized APS/RAPS (exact coverage; sets may be empty). ``False`` is
        conservative. Ignored for ``lac``.
    lam : float, default 0.01
        RAPS penalty.
    k_reg : int, default 1
        RAPS: ranks after this one are penalised.
    random_state : int, Generator or None, default 0
        Seeds the randomization.
    noise_matrix : ndarray of shape (K, K), optional
        When the calibration labels are noisy: ``noise_matrix[i, j] = P(given = i |
        true = j)`` (e.g. ``estimate_noise_matrices(labels, cross_fitted_probs)
        .noise_matrix``). The thresholds then target coverage of the *true* labels: each
        calibration label is replaced by :func:`true_label_weights` and the threshold is
        the :func:`weighted_conformal_quantile`. Without it, sets calibrated on noisy
        labels cover the noisy labels, which over-covers the true ones (their scores
        are inflated by the wrong labels). Not available with ``"clustered"``.
    noise_correction : {"invert", "posterior"}, default "invert"
        How the matrix corrects the labels (see :func:`true_label_weights`).
    include_top : bool, default False
        The most probable class is always in the set (no empty sets); the thresholds
        account for it, so the coverage stays at the level instead of rising above it.

    Attributes
    ----------
    quantile_ : float
        Threshold (marginal).
    quantiles_ : ndarray of shape (K,)
        Per-class thresholds (all equal to ``quantile_`` unless class-conditional).
    cluster_of_class_ : ndarray of shape (K,), int
        ``"clustered"`` only: each class's cluster, -1 when it fell back to the marginal
        threshold.
    fallback_classes_ : ndarray of int
        ``"clustered"`` only: the classes that fell back to the marginal threshold.
    label_weights_ : ndarray of shape (N, K)
        With ``noise_matrix`` or soft labels only: each calibration item's weight on each
        true class.
    n_classes_ : int
    n_calibration_ : int
    """

    _constraints = {
        "score": [Options(("lac", "aps", "raps"))],
        "alpha": [Interval(float, 0, 1, closed="neither")],
        "class_conditional": ["boolean", Options(("clustered",))],
        "n_clusters": [Interval(int, 1, None), Options(("auto",))],
        "cluster_fraction": [Interval(float, 0, 1, closed="neither"), Options(("auto",))],
        "randomized": ["boolean"],
        "lam": [Interval(float, 0, None)],
        "k_reg": [Interval(int, 0, None)],
        "random_state": ["random_state"],
        "noise_matrix": [None, np.ndarray, list],
        "noise_correction": [Options(("invert", "posterior"))],
        "include_top": ["boolean"],
    }

    def __init__(
        self,
        *,
        score: str = "lac",
        alpha: float = 0.1,
        class_conditional: bool | str = False,
        n_clusters: int | str = "auto",
        cluster_fraction: float | str = "auto",
        randomized: bool = True,
        lam: float = 0.01,
        k_reg: int = 1,
        random_state: int | np.random.Generator | None = 0,
        noise_matrix: Any = None,
        noise_correction: str = "invert",
        include_top: bool = False,
    ) -> None:
        self.score = score
        self.alpha = alpha
        self.class_conditional = class_conditional
        self.n_clusters = n_clusters
        self.cluster_fraction = cluster_fraction
        self.randomized = randomized
        self.lam = lam
        self.k_reg = k_reg
        self.random_state = random_state
        self.noise_matrix = noise_matrix
        self.noise_correction = noise_correction
        self.include_top = include_top

    def _u(self, n: int, rng: np.random.Generator) -> np.ndarray | None:
        if self.score == "lac" or not self.randomized:
            return None
        return rng.random(n)

    def fit(self, cal_probs: FloatArray, cal_labels: IntArray) -> ConformalClassifier:
        """Compute the threshold(s) from calibration items.

        Parameters
        ----------
        cal_probs : ndarray of shape (N, K)
            Calibrated probabilities of items the model did not train on.
        cal_labels : ndarray of shape (N,), int, or (N, K) float
            Their classes: the true ones, or noisy ones together with ``noise_matrix``;
            or soft labels (each row a distribution over the item's true class, e.g. a
            label model's posterior), whose weights enter the
            :func:`weighted_conformal_quantile`.

        Returns
        -------
        self
        """
        check_params(self)
        p = check_pred_probs(cal_probs, name="cal_probs")
        soft = np.ndim(cal_labels) == 2
        if soft:
            if self.noise_matrix is not None:
                raise InputError(
                    "pass either soft cal_labels (N, K) or a noise_matrix with hard labels, "
                    "not both."
                )
            w_soft = check_pred_probs(
                cal_labels, n_rows=p.shape[0], n_classes=p.shape[1], name="cal_labels"
            )
            y = np.asarray(w_soft).argmax(axis=1)
        else:
            y = check_labels(cal_labels, n_classes=p.shape[1], n_rows=p.shape[0], name="cal_labels")
        n, k = p.shape
        if n == 0:
            raise InputError("cal_probs is empty; conformal calibration needs held-out items.")
        for attr in ("cluster_of_class_", "fallback_classes_", "label_weights_"):
            self.__dict__.pop(attr, None)
        rng = check_random_state(self.random_state)
        s_all = _class_scores(p, self.score, self._u(n, rng), float(self.lam), int(self.k_reg))
        if self.include_top:
            s_all[np.arange(n), p.argmax(axis=1)] = _TOP_SCORE
        if soft:
            return self._fit_weighted(np.asarray(w_soft, dtype=np.float64), s_all)
        if self.noise_matrix is not None:
            nm = np.asarray(self.noise_matrix, dtype=np.float64)
            if nm.shape != (k, k):
                raise InputError(f"noise_matrix must have shape ({k}, {k}); got {nm.shape}.")
            w = true_label_weights(y, nm, method=self.noise_correction, probs=p)
            return self._fit_weighted(w, s_all)
        s = s_all[np.arange(n), y]
        self.quantile_ = conformal_quantile(s, self.alpha)
        if not np.isfinite(self.quantile_):
            warnings.warn(
                f"{n} calibration items are too few for alpha={self.alpha}: need at least "
                f"{int(np.ceil(1 / self.alpha)) - 1}; every set will hold all classes.",
                UserWarning,
                stacklevel=2,
            )
        if self.class_conditional == "clustered":
            q, cluster_of, fallback = _clustered_quantiles(
                s, y, k, float(self.alpha), rng, self.n_clusters, self.cluster_fraction
            )
            if fallback.size:
                shown = ", ".join(str(int(c)) for c in fallback[:20])
                more = f" and {fallback.size - 20} more" if fallback.size > 20 else ""
                warnings.warn(
                    f"clustered conformal: {fallback.size} of {k} classes have too few "
                    f"calibration items to be clustered at alpha={self.alpha} and use the "
                    f"marginal threshold: classes {shown}{more}.",
                    UserWarning,
                    stacklevel=2,
                )
            self.quantiles_ = q
            self.cluster_of_class_ = cluster_of
            self.fallback_classes_ = fallback
        elif self.class_conditional:
            q = np.empty(k, dtype=np.float64)
            for c in range(k):  # loop over classes only
                q[c] = conformal_quantile(s[y == c], self.alpha)
            small = np.flatnonzero(~np.isfinite(q))
            if small.size:
                warnings.warn(
                    f"{small.size} classes have too few calibration items for alpha="
                    f"{self.alpha} (e.g. class {int(small[0])}); their sets always include them.",
                    UserWarning,
                    stacklevel=2,
                )
            self.quantiles_ = q
        else:
            self.quantiles_ = np.full(k, self.quantile_, dtype=np.float64)
        self.n_classes_ = k
        self.n_calibration_ = n
        return self

    def _fit_weighted(self, w: np.ndarray, s_all: np.ndarray) -> ConformalClassifier:
        """Thresholds from per-class label weights (soft labels or a noise correction)."""
        n, k = s_all.shape
        if self.class_conditional == "clustered":
            raise InputError(
                "clustered conformal thresholds need hard labels without a noise_matrix; "
                "use class_conditional=False or True with noisy or soft labels."
            )
        self.label_weights_ = w
        self.quantile_ = weighted_conformal_quantile(s_all, w, self.alpha, n=n)
        if self.class_conditional:
            q = np.empty(k, dtype=np.float64)
            for c in range(k):  # loop over classes only
                q[c] = weighted_conformal_quantile(s_all[:, c], w[:, c], self.alpha)
            self.quantiles_ = q
        else:
            self.quantiles_ = np.full(k, self.quantile_, dtype=np.float64)
        if not np.isfinite(self.quantiles_).all():
            warnings.warn(
                f"{n} noisy calibration items are too few to reach alpha={self.alpha} for "
                f"{int((~np.isfinite(self.quantiles_)).sum())} of {k} thresholds; those sets "
                "hold every class.",
                UserWarning,
                stacklevel=3,
            )
        self.n_classes_ = k
        self.n_calibration_ = n
        return self

    def predict_sets(self, probs: FloatArray) -> BoolArray:
        """Prediction sets.

        Parameters
        ----------
        probs : ndarray of shape (M, K)
            Probabilities from the same (calibrated) model.

        Returns
        -------
        sets : ndarray of shape (M, K), bool
            ``sets[i, k]`` is True when class k is in item i's set.
        """
        if not hasattr(self, "quantiles_"):
            raise NotFittedError(
                "This ConformalClassifier is not fitted yet; call fit(cal_probs, cal_labels)."
            )
        p = check_pred_probs(probs, name="probs")
        if p.shape[1] != self.n_classes_:
            raise InputError(
                f"probs has {p.shape[1]} columns but the conformal sets were fitted on "
                f"{self.n_classes_} classes."
            )
        rng = check_random_state(self.random_state)
        rng.random(self.n_calibration_)  # keep the test draws apart from the calibration draws
        s = _class_scores(p, self.score, self._u(p.shape[0], rng), float(self.lam), int(self.k_reg))
        sets = s <= self.quantiles_[None, :]
        if self.include_top and p.shape[0]:
            sets[np.arange(p.shape[0]), p.argmax(axis=1)] = True
        return sets

    def coverage(self, probs: FloatArray, labels: IntArray) -> float:
        """Fraction of items whose set contains their label."""
        sets = self.predict_sets(probs)
        y = check_labels(labels, n_classes=self.n_classes_, n_rows=sets.shape[0])
        return float(sets[np.arange(len(y)), y].mean())


class MultiLabelConformal(BaseEstimator):
    """Multi-label prediction sets that contain *all* true labels with prob. >= 1 - alpha.

    Each item may have several true labels. The score of a calibration item is
    ``max over its true labels of (1 - p_k)``; a label enters a set when
    ``1 - p_k <= threshold``. Items without any true label are ignored at calibration.

    Parameters
    ----------
    alpha : float, default 0.1

    Attributes
    ----------
    quantile_ : float
    n_labels_ : int
    """

    _constraints = {"alpha": [Interval(float, 0, 1, closed="neither")]}

    def __init__(self, *, alpha: float = 0.1) -> None:
        self.alpha = alpha

    @staticmethod
    def _check(probs: Any, name: str) -> np.ndarray:
        p = np.asarray(probs, dtype=np.float64)
        if p.ndim != 2:
            raise InputError(f"{name} must be 2-D (N items, L labels); got shape {p.shape}.")
        if not np.all(np.isfinite(p)) or (p < 0).any() or (p > 1).any():
            raise InputError(f"{name} must hold per-label probabilities in [0, 1] without NaN.")
        return p

    def fit(self, cal_probs: FloatArray, cal_targets: Any) -> MultiLabelConformal:
        """Threshold from calibration items.

        Parameters
        ----------
        cal_probs : ndarray of shape (N, L)
            Independent per-label probabilities in [0, 1].
        cal_targets : ndarray of shape (N, L), {0, 1}
            True label indicators.

        Returns
        -------
        self
        """
        check_params(self)
        p = self._check(cal_probs, "cal_probs")
        t = np.asarray(cal_targets)
        if t.shape != p.shape:
            raise InputError(f"cal_targets has shape {t.shape} but cal_probs has {p.shape}.")
        if not np.isin(t, (0, 1)).all():
            raise InputError("cal_targets must be a 0/1 indicator matrix.")
        t = t.astype(bool)
        has = t.any(axis=1)
        s = np.where(t, 1.0 - p, -np.inf).max(axis=1)[has]
        self.quantile_ = conformal_quantile(s, self.alpha)
        self.n_labels_ = p.shape[1]
        return self

    def predict_sets(self, probs: FloatArray) -> BoolArray:
        """Label sets, shape (M, L), bool."""
        if not hasattr(self, "quantile_"):
            raise NotFittedError("This MultiLabelConformal is not fitted yet; call fit first.")
        p = self._check(probs, "probs")
        if p.shape[1] != self.n_labels_:
            raise InputError(f"probs has {p.shape[1]} columns; expected {self.n_labels_}.")
        return (1.0 - p) <= self.quantile_
