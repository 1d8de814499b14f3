"""Positive-unlabeled (PU) learning: class-prior estimation and the non-negative PU risk.

Setting: some positives are labeled; every other row is *unlabeled* (a mix of positives
and negatives), not negative. Under SCAR (labeled positives Selected Completely At
Random among the positives), ``P(labeled | x) = c * P(positive | x)`` with a constant
label frequency ``c``, and the class prior ``pi = P(positive)`` is identifiable from a
*domain classifier* that separates labeled rows from unlabeled ones.

- :func:`bbe_prior` — Best Bin Estimation (Garg et al., NeurIPS 2021): the fraction of
  positives in the unlabeled rows is ``min_t q_U(t) / q_P(t)`` over score thresholds,
  with a finite-sample penalty; looks for the top bin that is (almost) pure positive,
  the idea TIcE (Bekker & Davis 2018) implements with a tree.
- :func:`elkan_noto_prior` — Elkan & Noto (2008) e1: ``c = mean of P(labeled | x)`` over
  the labeled rows, ``pi = (n_labeled / n) / c``.
- :func:`estimate_class_prior` — cross-fits the domain classifier and applies one of them.
- :class:`PUClassifier` — a robust end model trained with the nnPU risk (Kiryo et al.
  2017) at the given or estimated prior.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from .._errors import InputError, NotFittedError
from .._types import Float32Array, FloatArray
from .._validation import Interval, Options, check_params, check_random_state

__all__ = [
    "PRIOR_METHODS",
    "PUClassifier",
    "bbe_prior",
    "elkan_noto_prior",
    "estimate_class_prior",
]

logger = logging.getLogger(__name__)


def _check_pu(scores: Any, labeled: Any) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64).ravel()
    lab = np.asarray(labeled, dtype=bool).ravel()
    if s.shape != lab.shape:
        raise InputError(f"scores has {s.size} entries but labeled has {lab.size}.")
    if not np.all(np.isfinite(s)):
        raise InputError("scores contain NaN or infinite values.")
    if not lab.any() or lab.all():
        raise InputError(
            f"PU learning needs labeled positives and unlabeled rows; got {int(lab.sum())} "
            f"labeled of {lab.size}."
        )
    return s, lab


def bbe_prior(
    scores: FloatArray, labeled: Any, *, delta: float = 0.1, gamma: float = 0.01
) -> float:
    """Class prior by Best Bin Estimation (Garg et al. 2021).

    Parameters
    ----------
    scores : ndarray of shape (N,)
        Out-of-sample ``P(labeled | x)`` of a domain classifier (labeled vs unlabeled).
    labeled : ndarray of shape (N,), bool
        The labeled positives.
    delta, gamma : float
        Confidence level and slack of the finite-sample penalty (the paper's values).

    Returns
    -------
    prior : float in (0, 1)
        ``P(positive)`` over all N rows: ``(n_P + alpha * n_U) / N`` where ``alpha``,
        the share of positives among the unlabeled rows, is
        ``q_U(t*) / q_P(t*)`` at the threshold ``t*`` that minimises the upper bound.
    """
    s, lab = _check_pu(scores, labeled)
    sp_, su = np.sort(s[lab]), np.sort(s[~lab])
    n_p, n_u = len(sp_), len(su)
    t = np.unique(s)
    q_p = (n_p - np.searchsorted(sp_, t, side="left")) / n_p  # share of P with score >= t
    q_u = (n_u - np.searchsorted(su, t, side="left")) / n_u
    ok = q_p > 0
    pen = np.sqrt(np.log(4 / delta) / (2 * n_p)) + np.sqrt(np.log(4 / delta) / (2 * n_u))
    bound = np.full(t.shape, np.inf)
    bound[ok] = q_u[ok] / q_p[ok] + (1 + gamma) * pen / q_p[ok]
    best = int(np.argmin(bound))
    alpha = float(min(q_u[best] / max(q_p[best], 1e-12), 1.0))
    return _prior_from_alpha(alpha, n_p, n_u)


def _prior_from_alpha(alpha: float, n_p: int, n_u: int) -> float:
    n = n_p + n_u
    return float(np.clip((n_p + alpha * n_u) / n, n_p / n, 1 - 0.5 / n))


def elkan_noto_prior(scores: FloatArray, labeled: Any) -> float:
    """Class prior by Elkan & Noto's e1 estimator.

    Parameters
    ----------
    scores : ndarray of shape (N,)
        Out-of-sample ``P(labeled | x)``.
    labeled : ndarray of shape (N,), bool

    Returns
    -------
    prior : float
        ``(n_P / N) / c`` with the label frequency ``c = mean(scores[labeled])``,
        clipped to ``[n_P / N, 1)``.
    """
    s, lab = _check_pu(scores, labeled)
    c = float(s[lab].mean())
    n = len(s)
    return float(np.clip(lab.mean() / max(c, 1e-12), lab.sum() / n, 1 - 0.5 / n))


#: Prior estimators by name (``estimate_class_prior(method=...)``).
PRIOR_METHODS: dict[str, Callable[[FloatArray, Any], float]] = {
    "bbe": bbe_prior,
    "elkan-noto": elkan_noto_prior,
}


def _default_estimator() -> BaseEstimator:
    from ._models import RobustLogisticRegression

    return RobustLogisticRegression()


def domain_scores(
    X: Any,
    labeled: Any,
    *,
    estimator: Any = None,
    n_folds: int = 5,
    random_state: int | np.random.Generator | None = 0,
) -> Float32Array:
    """Out-of-fold ``P(labeled | x)`` of a classifier of labeled vs unlabeled rows.

    Parameters
    ----------
    X : ndarray of shape (N, D) or CSR matrix
    labeled : ndarray of shape (N,), bool
    estimator : classifier, optional
        Default :class:`RobustLogisticRegression`.
    n_folds : int
    random_state : int, Generator or None

    Returns
    -------
    scores : ndarray of shape (N,), float32
    """
    from ..crossfit import cross_val_predict_proba

    lab = np.asarray(labeled, dtype=bool)
    est = clone(estimator) if estimator is not None else _default_estimator()
    probs = cross_val_predict_proba(
        X,
        lab.astype(np.int64),
        n_classes=2,
        n_folds=n_folds,
        estimator=est,
        random_state=random_state,
    )
    return np.asarray(probs[:, 1], dtype=np.float32)


def estimate_class_prior(
    X: Any,
    labeled: Any,
    *,
    method: str = "bbe",
    estimator: Any = None,
    n_folds: int = 5,
    random_state: int | np.random.Generator | None = 0,
) -> float:
    """Estimate ``P(positive)`` from features, labeled positives and unlabeled rows (SCAR).

    Parameters
    ----------
    X : ndarray of shape (N, D) or CSR matrix
    labeled : ndarray of shape (N,), bool
    method : {"bbe", "elkan-noto"}
        See :func:`bbe_prior`, :func:`elkan_noto_prior`.
    estimator : classifier, optional
        The domain classifier (cross-fitted); default :class:`RobustLogisticRegression`.
    n_folds : int
    random_state : int, Generator or None

    Returns
    -------
    prior : float in (0, 1)
    """
    if method not in PRIOR_METHODS:
        raise InputError(
            f"unknown prior method {method!r}; choose one of {', '.join(PRIOR_METHODS)}."
        )
    lab = np.asarray(labeled, dtype=bool)
    _check_pu(np.zeros(len(lab)), lab)
    scores = domain_scores(X, lab, estimator=estimator, n_folds=n_folds, random_state=random_state)
    return PRIOR_METHODS[method](scores, lab)


def _is_prior(value: Any) -> bool:
    """a float in (0, 1)"""
    return isinstance(value, int | float) and 0 < float(value) < 1


class PUClassifier(ClassifierMixin, BaseEstimator):
    """A noise-robust end model trained from positives and unlabeled rows (nnPU).

    Parameters
    ----------
    estimator : RobustLogisticRegression or RobustMLPClassifier, optional
        The network to train (its ``epochs``, ``lr``, ``weight_decay``, ``batch_size``,
        ``hidden_size``, ``dropout`` are used; its loss and scheme are replaced by the
        nnPU risk). Default :class:`RobustLogisticRegression`.
    prior : float in (0, 1) or None, default None
        ``P(positive)`` over all rows; ``None`` estimates it with ``prior_method``.
    prior_method : {"bbe", "elkan-noto"}, default "bbe"
        Chosen across Adult, Mushroom and Spambase at c = 0.1, 0.3, 0.5 (BENCHMARKS.md).
    beta, gamma : float, default 0.0, 1.0
        nnPU's threshold and ascent weight.
    n_folds : int, default 5
        Folds of the cross-fitted domain classifier for the prior.
    random_state : int, Generator or None, default 0

    Attributes
    ----------
    classes_ : ndarray [0, 1]
        0 = negative, 1 = positive.
    class_prior_ : float
        The prior used (given or estimated).
    label_frequency_ : float
        ``c = n_labeled / (prior * N)``: the share of positives that were labeled.
    estimator_ : the fitted network
    """

    _constraints = {
        "prior": [None, _is_prior],
        "prior_method": [Options(tuple(PRIOR_METHODS))],
        "beta": [Interval(float, 0, None)],
        "gamma": [Interval(float, 0, None)],
        "n_folds": [Interval(int, 2, None)],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any = None,
        *,
        prior: float | None = None,
        prior_method: str = "bbe",
        beta: float = 0.0,
        gamma: float = 1.0,
        n_folds: int = 5,
        random_state: int | np.random.Generator | None = 0,
    ) -> None:
        self.estimator = estimator
        self.prior = prior
        self.prior_method = prior_method
        self.beta = beta
        self.gamma = gamma
        self.n_folds = n_folds
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> PUClassifier:
        """Estimate the prior (unless given) and train with the non-negative PU risk.

        Parameters
        ----------
        X : ndarray of shape (N, D) or CSR matrix
        y : ndarray of shape (N,)
            1 (or True) for a labeled positive, 0 for an unlabeled row.

        Returns
        -------
        self
        """
        from ._weak_losses import NonNegativePURisk

        check_params(self)
        lab = np.asarray(y)
        if lab.ndim != 1 or lab.shape[0] != X.shape[0]:
            raise InputError(f"y must have shape ({X.shape[0]},); got {lab.shape}.")
        if not np.isin(lab, [0, 1]).all():
            raise InputError("y must hold 1 for a labeled positive and 0 for an unlabeled row.")
        lab = lab.astype(bool)
        _check_pu(np.zeros(len(lab)), lab)
        rng = check_random_state(self.random_state)
        base = self.estimator if self.estimator is not None else _default_estimator()
        if self.prior is None:
            prior = estimate_class_prior(
                X,
                lab,
                method=self.prior_method,
                estimator=base,
                n_folds=self.n_folds,
                random_state=int(rng.integers(0, 2**31 - 1)),
            )
            logger.info("PU: estimated class prior %.3f (%s)", prior, self.prior_method)
        else:
            prior = float(self.prior)
            if prior < lab.mean():
                raise InputError(
                    f"prior {prior:.3f} is below the share of labeled positives "
                    f"({lab.mean():.3f}); the prior counts every positive, labeled or not."
                )
        est = clone(base).set_params(random_state=int(rng.integers(0, 2**31 - 1)))
        est.fit_objective(X, 2, NonNegativePURisk(lab, prior, beta=self.beta, gamma=self.gamma))
        self.estimator_ = est
        self.classes_ = np.array([0, 1])
        self.class_prior_ = float(prior)
        self.label_frequency_ = float(lab.sum() / (prior * len(lab)))
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X: Any) -> Float32Array:
        """``[P(negative), P(positive)]`` per row, shape (N, 2), float32."""
        if not hasattr(self, "estimator_"):
            raise NotFittedError("This PUClassifier is not fitted yet; call fit(X, y) first.")
        return np.asarray(self.estimator_.predict_proba(X), dtype=np.float32)

    def predict(self, X: Any) -> np.ndarray:
        """1 for predicted positives, 0 otherwise, shape (N,)."""
        return self.predict_proba(X).argmax(axis=1)
