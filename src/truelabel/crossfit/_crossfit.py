"""K-fold out-of-sample predicted probabilities from any end model."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold

from .._errors import InputError
from .._types import Float32Array, IntArray, RandomState
from .._validation import check_labels, check_random_state
from ._linear import SoftmaxRegression
from ._ridge import ridge_cross_val_proba

__all__ = ["check_foldable", "cross_val_predict_proba", "default_end_model", "fold_ids"]

logger = logging.getLogger(__name__)


def default_end_model(random_state: int = 0) -> BaseEstimator:
    """Multinomial logistic regression (:class:`SoftmaxRegression`, C=10, float32 L-BFGS).

    60 L-BFGS iterations with tol 1e-4: on Banking77 (MiniLM, 20% noise) 50 iterations gave
    the same flags quality as 200 (F1 0.856 vs 0.854) in a quarter of the time.

    Same objective as scikit-learn's ``LogisticRegression(C=10)``; about 1.6x faster on
    dense embeddings in our measurements (4k x 384, 20 classes: probabilities within 0.02).
    """
    return SoftmaxRegression(C=10.0, max_iter=60, tol=1e-4, random_state=random_state)


def check_foldable(
    labels: IntArray, n_classes: int, n_folds: int, class_names: Sequence[Any] | None = None
) -> None:
    """Refuse data that stratified K-fold cannot split.

    Raises
    ------
    InputError
        A single class, or a class with fewer items than folds (named, with its count).
    """
    counts = np.bincount(labels, minlength=n_classes)
    names = list(class_names) if class_names is not None else list(range(n_classes))
    present = np.flatnonzero(counts)
    if len(present) < 2:
        only = names[int(present[0])] if len(present) else "none"
        raise InputError(
            f"the labels hold a single class ({only!r}); finding label errors needs at least 2."
        )
    small = np.flatnonzero((counts > 0) & (counts < n_folds))
    if len(small):
        listed = ", ".join(f"{names[i]!r} ({counts[i]} items)" for i in small[:10])
        raise InputError(
            f"{len(small)} classes have fewer items than --folds {n_folds}: {listed}; "
            + (
                f"lower --folds to {int(counts[small].min())}, or drop or merge those classes."
                if counts[small].min() >= 2
                else "drop or merge those classes (a class needs at least 2 items)."
            )
        )


def fold_ids(labels: IntArray, n_folds: int, random_state: RandomState = 0) -> IntArray:
    """The stratified K-fold split :func:`cross_val_predict_proba` uses, as one fold id per row.

    Parameters
    ----------
    labels : ndarray of shape (N,), int
    n_folds : int
    random_state : int, Generator or None
        The same value given to :func:`cross_val_predict_proba` gives the same split.

    Returns
    -------
    folds : ndarray of shape (N,), int64
        ``folds[i]`` is the fold whose model never saw row ``i`` (and predicted it).
    """
    seed = int(check_random_state(random_state).integers(0, 2**31 - 1))
    return _fold_ids(labels, n_folds, seed)


def _fold_ids(labels: IntArray, n_folds: int, seed: int) -> IntArray:
    skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    out = np.empty(labels.shape[0], dtype=np.int64)
    for i, (_, te) in enumerate(skf.split(np.zeros(labels.shape[0]), labels)):
        out[te] = i
    return out


def _predict_proba_full(model: Any, X: Any, n_classes: int) -> np.ndarray:
    """predict_proba with columns for every class, also the ones absent from a fold."""
    p = np.asarray(model.predict_proba(X), dtype=np.float64)
    cls = np.asarray(model.classes_)
    out = np.zeros((p.shape[0], n_classes), dtype=np.float64)
    out[:, cls] = p
    return out


def cross_val_predict_proba(
    X: np.ndarray | sp.spmatrix,
    labels: IntArray,
    *,
    n_classes: int | None = None,
    n_folds: int = 5,
    estimator: BaseEstimator | str | None = None,
    random_state: RandomState = 0,
    class_names: Sequence[Any] | None = None,
    on_fold: Callable[[int, int], None] | None = None,
) -> Float32Array:
    """Out-of-sample class probabilities by stratified K-fold cross-fitting.

    Each item's probabilities come from a model that never saw it.

    Parameters
    ----------
    X : ndarray of shape (N, D) or sparse matrix
        Features.
    labels : ndarray of shape (N,), int
        Given (possibly noisy) labels, coded 0..K-1.
    n_classes : int, optional
        K; default ``labels.max() + 1``.
    n_folds : int, default 5
        Number of folds (>= 2).
    estimator : scikit-learn classifier, "logistic" or "ridge", optional
        Cloned for every fold; default (``None`` or ``"logistic"``) :func:`default_end_model`.
        ``"ridge"``: closed-form ridge regression on one-hot labels with a shared Gram matrix
        and one fitted temperature — many times faster, slightly less accurate.
    random_state : int or Generator
        Seeds the fold split (and the estimator when it takes ``random_state``).
    class_names : sequence, optional
        Names for error messages.
    on_fold : callable(done, total), optional
        Progress callback.

    Returns
    -------
    pred_probs : ndarray of shape (N, K), float32
        Rows sum to 1.
    """
    labels = check_labels(labels)
    n = labels.shape[0]
    if X.shape[0] != n:
        raise InputError(f"X has {X.shape[0]} rows but labels has {n}.")
    if n_folds < 2:
        raise InputError(f"--folds must be at least 2; got {n_folds}.")
    k = int(n_classes if n_classes is not None else labels.max() + 1)
    check_foldable(labels, k, n_folds, class_names)
    rng = check_random_state(random_state)
    seed = int(rng.integers(0, 2**31 - 1))
    fold = _fold_ids(labels, n_folds, seed)
    tests = [np.flatnonzero(fold == i) for i in range(n_folds)]
    if isinstance(estimator, str):
        if estimator == "ridge":
            out = ridge_cross_val_proba(X, labels, tests, k)  # type: ignore[arg-type]
            if on_fold is not None:
                on_fold(n_folds, n_folds)
            return out
        if estimator != "logistic":
            raise InputError(f"unknown end model {estimator!r}; use 'logistic' or 'ridge'.")
        estimator = None
    base = estimator if estimator is not None else default_end_model(seed)
    out = np.zeros((n, k), dtype=np.float32)
    for i, te in enumerate(tests):
        tr = np.flatnonzero(fold != i)
        model = clone(base)
        if "random_state" in model.get_params():
            model.set_params(random_state=seed)
        model.fit(X[tr], labels[tr])
        out[te] = _predict_proba_full(model, X[te], k)
        logger.info("fold %d/%d done", i + 1, n_folds)
        if on_fold is not None:
            on_fold(i + 1, n_folds)
    out /= out.sum(axis=1, keepdims=True)
    return out
