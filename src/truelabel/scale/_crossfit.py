"""Cross-fitting at scale: folds in parallel on Dask, or an incremental learner over chunks.

- :func:`crossfit_folds` fits the K fold models of
  :func:`truelabel.crossfit.cross_val_predict_proba` as independent tasks (same folds,
  same seeds, same end model, hence the same probabilities), each task memory-mapping
  the feature store itself.
- :func:`incremental_cross_val_predict_proba` is for features that do not fit in memory:
  one :class:`~sklearn.linear_model.SGDClassifier` (logistic loss) per fold, trained with
  ``partial_fit`` over feature chunks for a few epochs, then each chunk's held-out rows
  are predicted by its fold's model. Memory: one chunk plus K small models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone

from .._errors import InputError
from .._types import Float32Array, IntArray, RandomState
from .._validation import check_random_state
from ..crossfit import default_end_model
from ..crossfit._crossfit import fit_fold, plan_folds
from ._engine import Engine

__all__ = [
    "MinibatchLogisticRegression",
    "crossfit_folds",
    "default_incremental_model",
    "incremental_cross_val_predict_proba",
]

logger = logging.getLogger(__name__)

Advance = Callable[[float], None] | None


def _open_X(X: np.ndarray | str | Path) -> np.ndarray:
    return np.load(X, mmap_mode="r") if isinstance(X, str | Path) else X


def _proba_full(model: Any, X: np.ndarray, k: int) -> np.ndarray:
    p = np.asarray(model.predict_proba(X), dtype=np.float64)
    out = np.zeros((p.shape[0], k), dtype=np.float64)
    out[:, np.asarray(model.classes_)] = p
    return out


def crossfit_folds(
    X: np.ndarray | str | Path,
    labels: IntArray,
    *,
    n_classes: int | None = None,
    n_folds: int = 5,
    estimator: BaseEstimator | None = None,
    random_state: RandomState = 0,
    engine: Engine | None = None,
    class_names: Any = None,
    advance: Advance = None,
) -> Float32Array:
    """Out-of-sample probabilities with the K fold models fitted as parallel tasks.

    Parameters
    ----------
    X : ndarray of shape (N, D) or path to ``.npy``
        Features (a path is memory-mapped by each task, so nothing large is shipped).
    labels : ndarray of shape (N,), int
    n_classes, n_folds, estimator, random_state, class_names
        As in :func:`truelabel.crossfit.cross_val_predict_proba`; the result is the same.
    engine : Engine, optional
        A :class:`~truelabel.scale.DaskEngine` runs the folds in parallel; ``None`` or a
        local engine runs them in turn.

    Returns
    -------
    pred_probs : ndarray of shape (N, K), float32
    """
    Xa = _open_X(X)
    labels, k, seed, fold = plan_folds(
        Xa.shape[0],
        labels,
        n_classes=n_classes,
        n_folds=n_folds,
        random_state=random_state,
        class_names=class_names,
    )
    base = estimator if estimator is not None else default_end_model(seed)
    out = np.zeros((labels.shape[0], k), dtype=np.float32)
    client = getattr(engine, "client", None)
    if client is None:
        parts: Any = (fit_fold(Xa, labels, fold, i, base, seed, k) for i in range(n_folds))
    else:
        Xref: Any = str(X) if isinstance(X, str | Path) else client.scatter(Xa, broadcast=True)
        lab_f = client.scatter(labels, broadcast=True)
        fold_f = client.scatter(fold, broadcast=True)
        futures = [
            client.submit(fit_fold, Xref, lab_f, fold_f, i, base, seed, k, pure=False)
            for i in range(n_folds)
        ]
        parts = (f.result() for f in futures)
    for i, part in enumerate(parts):
        out[fold == i] = part
        if advance is not None:
            advance(1)
    out /= out.sum(axis=1, keepdims=True)
    return out


def default_incremental_model(random_state: int = 0) -> BaseEstimator:
    """Multinomial logistic regression by mini-batch Adam (:class:`MinibatchLogisticRegression`).

    Much faster per pass than ``SGDClassifier(loss="log_loss")``, which trains one
    binary model per class sample by sample; any classifier with ``partial_fit`` works.
    """
    return MinibatchLogisticRegression(random_state=random_state)


def _train_fold_incremental(
    X: np.ndarray | str,
    labels: IntArray,
    fold_ids: np.ndarray,
    fold: int,
    base: BaseEstimator,
    k: int,
    chunk_rows: int,
    n_epochs: int,
    seed: int,
) -> BaseEstimator:
    Xa = _open_X(X)
    model = clone(base)
    if "random_state" in model.get_params():
        model.set_params(random_state=seed + fold)
    classes = np.arange(k)
    n = Xa.shape[0]
    rng = np.random.default_rng(seed + fold)
    starts = np.arange(0, n, chunk_rows)
    for _ in range(n_epochs):
        for lo in rng.permutation(starts):
            hi = min(lo + chunk_rows, n)
            keep = fold_ids[lo:hi] != fold
            if keep.any():
                model.partial_fit(np.asarray(Xa[lo:hi])[keep], labels[lo:hi][keep], classes=classes)
    return model


def incremental_cross_val_predict_proba(
    X: np.ndarray | str | Path,
    labels: IntArray,
    *,
    n_classes: int | None = None,
    n_folds: int = 5,
    estimator: BaseEstimator | None = None,
    chunk_rows: int = 50_000,
    n_epochs: int = 3,
    random_state: RandomState = 0,
    engine: Engine | None = None,
    class_names: Any = None,
    out: np.ndarray | None = None,
    advance: Advance = None,
) -> Float32Array:
    """Out-of-sample probabilities from an incremental learner streamed over feature chunks.

    Parameters
    ----------
    X : ndarray of shape (N, D) or path to ``.npy``
        Features, read ``chunk_rows`` rows at a time (memory-mapped when a path).
    labels : ndarray of shape (N,), int
    n_classes, n_folds, random_state, class_names
        As in :func:`truelabel.crossfit.cross_val_predict_proba` (same stratified folds).
    estimator : classifier with ``partial_fit``, optional
        Default :func:`default_incremental_model`.
    chunk_rows : int
        Rows per ``partial_fit`` call.
    n_epochs : int
        Passes over the training rows (chunks in a seeded random order each pass).
    engine : Engine, optional
        A Dask engine trains the K fold models in parallel.
    out : ndarray of shape (N, K), float32, optional
        Where to write (e.g. a memory map); allocated when omitted.

    Returns
    -------
    pred_probs : ndarray of shape (N, K), float32
    """
    if n_epochs < 1 or chunk_rows < 1:
        raise InputError(f"n_epochs and chunk_rows must be >= 1; got {n_epochs}, {chunk_rows}.")
    Xa = _open_X(X)
    labels, k, seed, fold_ids = plan_folds(
        Xa.shape[0],
        labels,
        n_classes=n_classes,
        n_folds=n_folds,
        random_state=random_state,
        class_names=class_names,
    )
    n = labels.shape[0]
    base = estimator if estimator is not None else default_incremental_model(seed)
    if not hasattr(base, "partial_fit"):
        raise InputError(
            f"{type(base).__name__} has no partial_fit; pass an incremental classifier such as "
            "SGDClassifier(loss='log_loss') when the features do not fit in memory."
        )
    client = getattr(engine, "client", None)
    args = (k, chunk_rows, n_epochs, seed)
    if client is None:
        models = []
        for f in range(n_folds):
            models.append(_train_fold_incremental(Xa, labels, fold_ids, f, base, *args))
            if advance is not None:
                advance(1)
    else:
        Xref: Any = str(X) if isinstance(X, str | Path) else client.scatter(Xa, broadcast=True)
        lab_f = client.scatter(labels, broadcast=True)
        ids_f = client.scatter(fold_ids, broadcast=True)
        futures = [
            client.submit(_train_fold_incremental, Xref, lab_f, ids_f, f, base, *args, pure=False)
            for f in range(n_folds)
        ]
        models = []
        for fut in futures:
            models.append(fut.result())
            if advance is not None:
                advance(1)
    result = out if out is not None else np.zeros((n, k), dtype=np.float32)
    for lo in range(0, n, chunk_rows):
        hi = min(lo + chunk_rows, n)
        block = np.asarray(Xa[lo:hi])
        ids = fold_ids[lo:hi]
        pb = np.zeros((hi - lo, k), dtype=np.float64)
        for f, model in enumerate(models):
            rows = np.flatnonzero(ids == f)
            if rows.size:
                pb[rows] = _proba_full(model, block[rows], k)
        pb /= pb.sum(axis=1, keepdims=True)
        result[lo:hi] = pb
    return result


class MinibatchLogisticRegression(BaseEstimator):  # type: ignore[misc]
    """Multinomial logistic regression trained by mini-batch Adam; supports ``partial_fit``.

    The incremental end model for data whose features do not fit in memory: every
    ``partial_fit(X_chunk, y_chunk)`` takes Adam steps on mini-batches of the chunk
    (matrix products, so one step costs about ``batch_size x D x K`` multiply-adds).

    Parameters
    ----------
    alpha : float, default 1e-5
        L2 penalty on the weights.
    learning_rate : float, default 0.1
        Adam step size.
    batch_size : int, default 1024
    n_epochs : int, default 5
        Passes over the data in :meth:`fit`.
    random_state : int, Generator or None
        Seeds the mini-batch order.

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
    coef_ : ndarray of shape (K, D), float32
    intercept_ : ndarray of shape (K,), float32
    """

    def __init__(
        self,
        *,
        alpha: float = 1e-5,
        learning_rate: float = 0.1,
        batch_size: int = 1024,
        n_epochs: int = 5,
        random_state: RandomState = 0,
    ) -> None:
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.random_state = random_state

    def _init(self, d: int, classes: np.ndarray) -> None:
        k = len(classes)
        self.classes_ = np.asarray(classes)
        self._W = np.zeros((d + 1, k), dtype=np.float32)  # last row: intercept
        self._m = np.zeros_like(self._W)
        self._v = np.zeros_like(self._W)
        self._t = 0
        self._rng = check_random_state(self.random_state)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MinibatchLogisticRegression:
        """One pass of mini-batch Adam over ``(X, y)``.

        Parameters
        ----------
        X : ndarray of shape (n, D)
        y : ndarray of shape (n,), int codes into ``classes``
        classes : array-like of shape (K,), required on the first call
        """
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y)
        if not hasattr(self, "_W"):
            if classes is None:
                raise InputError("the first partial_fit call needs classes=[...] (all classes).")
            self._init(X.shape[1], np.asarray(classes))
        col = np.searchsorted(self.classes_, y)
        n = X.shape[0]
        k = self._W.shape[1]
        b1, b2, eps = 0.9, 0.999, 1e-8
        order = self._rng.permutation(n)
        for lo in range(0, n, self.batch_size):
            idx = order[lo : lo + self.batch_size]
            xb = X[idx]
            z = xb @ self._W[:-1] + self._W[-1]
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(idx.shape[0]), col[idx]] -= 1.0
            p /= idx.shape[0]
            g = np.empty_like(self._W)
            g[:-1] = xb.T @ p + self.alpha * self._W[:-1]
            g[-1] = p.sum(axis=0)
            self._t += 1
            self._m = b1 * self._m + (1 - b1) * g
            self._v = b2 * self._v + (1 - b2) * g * g
            mhat = self._m / (1 - b1**self._t)
            vhat = self._v / (1 - b2**self._t)
            self._W -= (self.learning_rate * mhat / (np.sqrt(vhat) + eps)).astype(np.float32)
        del k
        return self

    def fit(self, X: Any, y: Any) -> MinibatchLogisticRegression:
        """``n_epochs`` passes of :meth:`partial_fit` from scratch."""
        for attr in ("_W", "_m", "_v"):
            if hasattr(self, attr):
                delattr(self, attr)
        classes = np.unique(np.asarray(y))
        for _ in range(self.n_epochs):
            self.partial_fit(X, y, classes=classes)
        return self

    @property
    def coef_(self) -> np.ndarray:
        return self._W[:-1].T

    @property
    def intercept_(self) -> np.ndarray:
        return self._W[-1]

    def predict_proba(self, X: Any) -> Float32Array:
        """Class probabilities, shape (n, K), float32; columns follow ``classes_``."""
        X = np.asarray(X, dtype=np.float32)
        z = X @ self._W[:-1] + self._W[-1]
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return p.astype(np.float32)

    def predict(self, X: Any) -> np.ndarray:
        """Most likely class, shape (n,)."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
