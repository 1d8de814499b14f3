"""Split conformal prediction sets: LAC, APS and RAPS scores, class-conditional, multi-label."""

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

__all__ = ["ConformalClassifier", "MultiLabelConformal", "conformal_quantile", "set_sizes"]

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
    class_conditional : bool, default False
        One threshold per true class, so coverage holds within every class (needs
        enough calibration items per class; classes with too few get all-inclusive sets).
    randomized : bool, default True
        Randomized APS/RAPS (exact coverage; sets may be empty). ``False`` is
        conservative. Ignored for ``lac``.
    lam : float, default 0.01
        RAPS penalty.
    k_reg : int, default 1
        RAPS: ranks after this one are penalised.
    random_state : int, Generator or None, default 0
        Seeds the randomization.

    Attributes
    ----------
    quantile_ : float
        Threshold (marginal).
    quantiles_ : ndarray of shape (K,)
        Per-class thresholds (all equal to ``quantile_`` unless class-conditional).
    n_classes_ : int
    n_calibration_ : int
    """

    _constraints = {
        "score": [Options(("lac", "aps", "raps"))],
        "alpha": [Interval(float, 0, 1, closed="neither")],
        "class_conditional": ["boolean"],
        "randomized": ["boolean"],
        "lam": [Interval(float, 0, None)],
        "k_reg": [Interval(int, 0, None)],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        score: str = "lac",
        alpha: float = 0.1,
        class_conditional: bool = False,
        randomized: bool = True,
        lam: float = 0.01,
        k_reg: int = 1,
        random_state: int | np.random.Generator | None = 0,
    ) -> None:
        self.score = score
        self.alpha = alpha
        self.class_conditional = class_conditional
        self.randomized = randomized
        self.lam = lam
        self.k_reg = k_reg
        self.random_state = random_state

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
        cal_labels : ndarray of shape (N,), int
            Their true classes.

        Returns
        -------
        self
        """
        check_params(self)
        p = check_pred_probs(cal_probs, name="cal_probs")
        y = check_labels(cal_labels, n_classes=p.shape[1], n_rows=p.shape[0], name="cal_labels")
        n, k = p.shape
        if n == 0:
            raise InputError("cal_probs is empty; conformal calibration needs held-out items.")
        rng = check_random_state(self.random_state)
        s_all = _class_scores(p, self.score, self._u(n, rng), float(self.lam), int(self.k_reg))
        s = s_all[np.arange(n), y]
        self.quantile_ = conformal_quantile(s, self.alpha)
        if not np.isfinite(self.quantile_):
            warnings.warn(
                f"{n} calibration items are too few for alpha={self.alpha}: need at least "
                f"{int(np.ceil(1 / self.alpha)) - 1}; every set will hold all classes.",
                UserWarning,
                stacklevel=2,
            )
        if self.class_conditional:
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
        return s <= self.quantiles_[None, :]

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
