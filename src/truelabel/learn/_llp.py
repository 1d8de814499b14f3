"""Learning from label proportions (LLP): only the class shares of each bag are known.

:class:`LabelProportionClassifier` trains a robust end model two ways:

- ``method="proportion"`` — DLLP (Ardehaly & Culotta 2017): batches of whole bags, the
  loss is the cross-entropy between a bag's known shares and its rows' mean predicted
  probabilities.
- ``method="em"`` — EM pseudo-labeling in the spirit of "Learning from Label
  Proportions: Bootstrapping Supervised Learners via Belief Propagation" (Havaldar et al.
  2024): pseudo-label marginals of every row that satisfy the bag constraints exactly
  (the E-step: the model's probabilities rescaled per bag and class by iterative
  proportional fitting, i.e. belief propagation on each bag's count constraint), then a
  supervised fit on those soft labels (the M-step), repeated. It starts from DLLP's model.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from .._errors import InputError, NotFittedError
from .._types import Float32Array, FloatArray, IntArray
from .._validation import Interval, Options, check_params, check_random_state

__all__ = ["LabelProportionClassifier", "bag_constrained_posterior", "check_bags"]

logger = logging.getLogger(__name__)


def check_bags(bag: Any, proportions: Any, n_rows: int) -> tuple[IntArray, FloatArray]:
    """Validate bag indices and proportions.

    Parameters
    ----------
    bag : array-like of shape (N,), int in 0..B-1
    proportions : array-like of shape (B, K)
    n_rows : int

    Returns
    -------
    bag : ndarray of shape (N,), int64
    proportions : ndarray of shape (B, K), float64, rows renormalised to sum to 1
    """
    b = np.asarray(bag)
    P = np.asarray(proportions, dtype=np.float64)
    if b.shape != (n_rows,):
        raise InputError(f"bag must have shape ({n_rows},); got {b.shape}.")
    if b.dtype.kind not in "iu" or (b.size and (b.min() < 0 or b.max() >= len(P))):
        raise InputError(f"bag must hold integers 0..{len(P) - 1} indexing the proportion rows.")
    if P.ndim != 2 or P.shape[1] < 2:
        raise InputError(f"proportions must have shape (B, K) with K >= 2; got {P.shape}.")
    if not np.isfinite(P).all() or (P < 0).any():
        raise InputError("proportions must be finite and non-negative.")
    s = P.sum(axis=1)
    bad = np.flatnonzero(np.abs(s - 1) > 1e-2)
    if bad.size:
        raise InputError(
            f"proportions of bag row {int(bad[0])} sum to {s[bad[0]]:.3f}, not 1; give each "
            "bag's class shares (they must add up to 1)."
        )
    return b.astype(np.int64), P / s[:, None]


def bag_constrained_posterior(
    proba: FloatArray, bag: IntArray, proportions: FloatArray, *, n_iter: int = 50
) -> Float32Array:
    """Closest pseudo-label marginals to ``proba`` that match every bag's class counts.

    Iterative proportional fitting: columns within each bag are scaled to the bag's counts
    ``n_b * proportions[b]``, rows renormalised, repeated (``n_iter`` times).

    Parameters
    ----------
    proba : ndarray of shape (N, K)
    bag : ndarray of shape (N,), int
    proportions : ndarray of shape (B, K)

    Returns
    -------
    ndarray of shape (N, K), float32; rows sum to 1, per-bag column sums match the counts.
    """
    B, K = proportions.shape
    size = np.bincount(bag, minlength=B).astype(np.float64)
    target = size[:, None] * proportions
    q = np.clip(np.asarray(proba, dtype=np.float64), 1e-6, None)
    q /= q.sum(axis=1, keepdims=True)
    for _ in range(n_iter):
        col = np.stack([np.bincount(bag, q[:, k], minlength=B) for k in range(K)], axis=1)
        scale = np.where(col > 0, target / np.maximum(col, 1e-300), 0.0)
        q *= scale[bag]
        q /= np.maximum(q.sum(axis=1, keepdims=True), 1e-300)
    return q.astype(np.float32)


class LabelProportionClassifier(ClassifierMixin, BaseEstimator):
    """A robust end model trained from bag-level class proportions.

    Parameters
    ----------
    estimator : RobustLogisticRegression or RobustMLPClassifier, optional
        Default :class:`RobustLogisticRegression`.
    method : {"em", "proportion"}, default "em"
        ``proportion``: DLLP only. ``em``: DLLP, then ``n_rounds`` of bag-constrained
        pseudo-labels and a supervised refit.
    n_rounds : int, default 3
    random_state : int, Generator or None, default 0

    Attributes
    ----------
    classes_ : ndarray ``arange(K)``
    pseudo_labels_ : ndarray of shape (N, K), float32
        The last bag-constrained marginals (``em``) or DLLP's probabilities.
    estimator_ : the fitted network
    """

    _constraints = {
        "method": [Options(("em", "proportion"))],
        "n_rounds": [Interval(int, 0, None)],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any = None,
        *,
        method: str = "em",
        n_rounds: int = 3,
        random_state: int | np.random.Generator | None = 0,
    ) -> None:
        self.estimator = estimator
        self.method = method
        self.n_rounds = n_rounds
        self.random_state = random_state

    def fit(self, X: Any, bag: Any, proportions: Any) -> LabelProportionClassifier:
        """Train on bags.

        Parameters
        ----------
        X : ndarray of shape (N, D) or CSR matrix
        bag : ndarray of shape (N,), int
            Row i belongs to bag ``bag[i]`` (0..B-1).
        proportions : ndarray of shape (B, K)
            Class shares of every bag.

        Returns
        -------
        self
        """
        from ._models import RobustLogisticRegression
        from ._weak_losses import ProportionObjective

        check_params(self)
        b, P = check_bags(bag, proportions, X.shape[0])
        rng = check_random_state(self.random_state)
        base = self.estimator if self.estimator is not None else RobustLogisticRegression()
        est = clone(base).set_params(random_state=int(rng.integers(0, 2**31 - 1)))
        est.fit_objective(X, P.shape[1], ProportionObjective(b, P))
        proba = np.asarray(est.predict_proba(X), dtype=np.float32)
        if self.method == "em":
            for r in range(self.n_rounds):
                q = bag_constrained_posterior(proba, b, P)
                est = clone(base).set_params(random_state=int(rng.integers(0, 2**31 - 1)))
                est.fit(X, q)
                proba = np.asarray(est.predict_proba(X), dtype=np.float32)
                logger.info("LLP EM round %d done", r + 1)
            proba = bag_constrained_posterior(proba, b, P)
        self.estimator_ = est
        self.classes_ = np.arange(P.shape[1])
        self.pseudo_labels_ = proba
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X: Any) -> Float32Array:
        """Class probabilities, shape (N, K), float32."""
        if not hasattr(self, "estimator_"):
            raise NotFittedError(
                "This LabelProportionClassifier is not fitted yet; call fit(X, bag, "
                "proportions) first."
            )
        return np.asarray(self.estimator_.predict_proba(X), dtype=np.float32)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class index, shape (N,)."""
        return self.predict_proba(X).argmax(axis=1)
