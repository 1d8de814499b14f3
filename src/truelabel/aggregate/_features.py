"""A feature-aware label model: each item's prior comes from a cross-fitted classifier.

"Learning from crowds" (Raykar et al., 2010) in EM form: instead of one global
class prior, item ``i`` gets ``P(k | x_i)`` from a classifier trained on the
current posterior of the *other* items (K-fold cross-fitting, soft targets as
sample weights). Agreement in feature space then breaks ties between sources and
corrects items whose few votes are wrong.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from .._errors import InputError
from .._types import Float32Array, IntArray
from .._validation import Interval, Options, check_params, check_random_state
from ..sources._votes import VoteArrays, check_votes
from ._base import (
    BaseLabelModel,
    _clamp,
    _is_prior_like,
    _log_lik,
    _softmax_rows,
    _vote_matrix,
)
from ._dawid_skene import DawidSkene, OneCoinDawidSkene

__all__ = ["FeatureDawidSkene", "crossfit_soft_proba"]

logger = logging.getLogger(__name__)


def crossfit_soft_proba(
    X: Any,
    targets: np.ndarray,
    *,
    n_folds: int = 5,
    C: float = 1.0,
    min_weight: float = 0.01,
    random_state: int | np.random.Generator | None = 0,
) -> Float32Array:
    """Out-of-fold class probabilities from a logistic regression on soft targets.

    Each item appears once per class with ``targets[i, k] >= min_weight``, weighted
    by that probability.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_items, n_features)
    targets : ndarray of shape (n_items, n_classes)
        Soft labels; rows sum to 1.
    n_folds : int
    C : float
        Inverse L2 strength of the logistic regression.
    min_weight : float
        Soft-label mass below which a (item, class) row is skipped.
    random_state : int, Generator or None

    Returns
    -------
    proba : ndarray of shape (n_items, n_classes), float32
        Row ``i`` comes from a model that never saw item ``i``.
    """
    rng = check_random_state(random_state)
    n, k = targets.shape
    seed = int(rng.integers(0, 2**31 - 1))
    out = np.tile(targets.mean(axis=0), (n, 1))
    folds = KFold(n_splits=min(n_folds, n), shuffle=True, random_state=seed)
    for tr, te in folds.split(np.zeros(n)):
        t = targets[tr]
        rows, cls = np.nonzero(t >= min_weight)
        if len(np.unique(cls)) < 2:
            continue
        Xtr = X[tr[rows]]
        model = LogisticRegression(C=C, max_iter=300, tol=1e-4)
        model.fit(Xtr, cls, sample_weight=t[rows, cls])
        p = np.zeros((len(te), k))
        p[:, model.classes_] = model.predict_proba(X[te])
        out[te] = p
    out = np.clip(out, 1e-9, None)
    return (out / out.sum(axis=1, keepdims=True)).astype(np.float32)


class FeatureDawidSkene(BaseLabelModel):
    """Dawid–Skene whose class prior is item-specific, from the items' features.

    1. Fit ``base`` (full or one-coin Dawid–Skene) on the votes alone.
    2. For ``n_rounds`` rounds: cross-fit a logistic regression on the features with
       the current posterior as soft targets; use its out-of-fold probabilities,
       mixed with the global prior (``prior_mix``), as each item's prior; rerun EM.

    Parameters
    ----------
    base : {"ds", "onecoin"}, default "ds"
    n_rounds : int, default 2
    n_folds : int, default 5
    C : float, default 1.0
        Inverse L2 strength of the feature classifier.
    prior_mix : float, default 0.1
        Weight of the global class prior mixed into each item's feature prior
        (0 = trust the classifier fully).
    max_iter, tol, smoothing, class_prior : as in :class:`DawidSkene`
        A given ``class_prior`` is the global prior mixed into each item's prior.
    random_state : int, Generator or None
        Seeds the fold split.

    Attributes
    ----------
    feature_prior_ : ndarray of shape (n_items, n_classes), float32
        The cross-fitted classifier's probabilities in the last round.
    """

    _constraints = {
        "base": [Options(("ds", "onecoin"))],
        "n_rounds": [Interval(int, 1, None)],
        "n_folds": [Interval(int, 2, None)],
        "C": [Interval(float, 0, None, closed="neither")],
        "prior_mix": [Interval(float, 0, 1)],
        "max_iter": [Interval(int, 1, None)],
        "tol": [Interval(float, 0, None)],
        "smoothing": [Interval(float, 0, None)],
        "class_prior": [_is_prior_like],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        base: str = "ds",
        n_rounds: int = 2,
        n_folds: int = 5,
        C: float = 1.0,
        prior_mix: float = 0.1,
        max_iter: int = 100,
        tol: float = 1e-6,
        smoothing: float = 0.1,
        class_prior: Any = None,
        random_state: int | None = 0,
    ) -> None:
        self.base = base
        self.n_rounds = n_rounds
        self.n_folds = n_folds
        self.C = C
        self.prior_mix = prior_mix
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing
        self.class_prior = class_prior
        self.random_state = random_state

    def fit(  # type: ignore[override]
        self, votes: VoteArrays, gold: IntArray | None = None, *, features: Any = None
    ) -> FeatureDawidSkene:
        """Fit on votes plus item features.

        Parameters
        ----------
        votes : VoteArrays
        gold : ndarray of shape (n_items,), int, optional
        features : ndarray or sparse matrix of shape (n_items, n_features)
            One row per item, in ``votes.item_ids`` order.
        """
        check_params(self)
        votes = check_votes(votes)
        if features is None:
            raise InputError(
                "FeatureDawidSkene needs item features: pass features= (or --data with "
                "--text-column on the CLI), or choose another method."
            )
        if features.shape[0] != votes.n_items:
            raise InputError(
                f"features has {features.shape[0]} rows but the votes have {votes.n_items} items; "
                "pass one row per item in votes.item_ids order."
            )
        self._X = features if sp.issparse(features) else np.asarray(features, dtype=np.float32)
        return super().fit(votes, gold)  # type: ignore[return-value]

    def _fit(self, votes: VoteArrays, gold: IntArray) -> None:
        rng = check_random_state(self.random_state)
        cls = DawidSkene if self.base == "ds" else OneCoinDawidSkene
        inner = cls(
            max_iter=self.max_iter,
            tol=self.tol,
            smoothing=self.smoothing,
            class_prior=self._class_prior,
        )
        inner._class_prior = self._class_prior
        inner._run_em(votes, gold, warn=False)
        post = np.asarray(inner.posterior_, dtype=np.float64)
        global_prior = np.asarray(inner.prior_, dtype=np.float64)
        fprior = np.tile(global_prior, (votes.n_items, 1))
        for r in range(self.n_rounds):
            fprior = crossfit_soft_proba(
                self._X, post, n_folds=self.n_folds, C=self.C, random_state=rng
            ).astype(np.float64)
            mixed = (1 - self.prior_mix) * fprior + self.prior_mix * global_prior
            inner._run_em(votes, gold, init=post, item_log_prior=np.log(mixed), warn=False)
            post = np.asarray(inner.posterior_, dtype=np.float64)
            logger.info(
                "FeatureDawidSkene round %d: log-likelihood %.4f", r + 1, inner.log_likelihood_
            )
        self.feature_prior_ = fprior.astype(np.float32)
        self._item_log_prior = np.log((1 - self.prior_mix) * fprior + self.prior_mix * global_prior)
        self.posterior_ = _clamp(post, gold).astype(np.float32)
        self.confusion_ = inner.confusion_
        self.prior_ = inner.prior_
        self.n_iter_ = inner.n_iter_
        self.converged_ = inner.converged_
        self.log_likelihood_ = inner.log_likelihood_
        self._model_all = None
        del self._X

    def _log_scores(self, votes: VoteArrays) -> tuple[np.ndarray, np.ndarray]:
        """``ll`` from the fitted confusions, ``lp`` each item's feature prior."""
        conf = np.clip(np.asarray(self.confusion_, dtype=np.float64), 1e-300, None)
        return _log_lik(_vote_matrix(votes), np.log(conf)), self._item_log_prior

    def _predict_new(self, votes: VoteArrays) -> Float32Array:
        # Without features for the new items, fall back to the global prior.
        A = _vote_matrix(votes)
        ll = _log_lik(A, np.log(np.clip(self.confusion_.astype(np.float64), 1e-12, None)))
        ll += np.log(np.clip(self.prior_.astype(np.float64), 1e-12, None))
        return _softmax_rows(ll)[0].astype(np.float32)
