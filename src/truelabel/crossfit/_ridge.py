"""Closed-form cross-fitting: ridge regression on one-hot targets with a shared Gram matrix.

With the Gram matrix ``G = X^T X`` and ``B = X^T Y`` computed once, the model of fold
``f`` solves ``(G - X_f^T X_f + lam I) W = B - X_f^T Y_f``: the whole K-fold costs about
one pass over the data plus K solves of a (D+1) x (D+1) system. Scores become
probabilities through a softmax with one temperature, fitted by maximum likelihood on the
out-of-fold scores. Much faster than logistic regression (seconds for 100k x 256), with
somewhat less accurate probabilities.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp
from scipy.optimize import minimize_scalar

from .._numeric import softmax
from .._types import Float32Array, IntArray

__all__ = ["ridge_cross_val_predict", "ridge_cross_val_proba", "ridge_fit"]


def _augmented_gram(X: Any) -> tuple[np.ndarray, np.ndarray]:
    """``[X, 1]`` as float32 and its Gram matrix ``[X, 1]^T [X, 1]`` in float64."""
    if sp.issparse(X):
        X = X.toarray()
    Xf = np.asarray(X, dtype=np.float32)
    n, d = Xf.shape
    Xa = np.empty((n, d + 1), dtype=np.float32)
    Xa[:, :d] = Xf
    Xa[:, d] = 1.0
    return Xa, (Xa.T @ Xa).astype(np.float64)


def _ridge_penalty(G: np.ndarray, alpha: float) -> np.ndarray:
    """``lam I`` with ``lam = alpha * mean diag(G)``; the intercept is (almost) not shrunk."""
    d1 = G.shape[0]
    lam = alpha * np.trace(G) / d1
    reg = lam * np.eye(d1)
    reg[d1 - 1, d1 - 1] = 1e-8 * lam
    return reg


def ridge_fit(
    X: Any, targets: np.ndarray, alpha: float, sample_weight: Any = None
) -> tuple[np.ndarray, float]:
    """Ridge regression on all rows with the penalty of :func:`ridge_cross_val_predict`.

    Parameters
    ----------
    X : ndarray of shape (N, D), dense (or sparse with small D)
    targets : ndarray of shape (N,) or (N, T)
    alpha : float
        Penalty as a fraction of the mean diagonal of ``X^T X`` (e.g. the chosen one).
    sample_weight : ndarray of shape (N,), optional
        Row weights (0 leaves a row out).

    Returns
    -------
    coef : ndarray of shape (D + 1,) or (D + 1, T), float64
        Weights then intercept (``[X, 1] @ coef`` predicts).
    lam : float
        The absolute penalty on ``||w||^2`` (for a sum-of-squares loss).
    """
    Y = np.asarray(targets, dtype=np.float64)
    Xa, G = _augmented_gram(X)
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        Xw = Xa * sw[:, None].astype(np.float32)
        G = (Xw.T @ Xa).astype(np.float64)
        B = Xw.T.astype(np.float64) @ Y
    else:
        B = Xa.T.astype(np.float64) @ Y
    reg = _ridge_penalty(G, alpha)
    return sl.solve(G + reg, B, assume_a="pos"), float(reg[0, 0])


def _oof_scores(
    Xa: np.ndarray,
    G: np.ndarray,
    B: np.ndarray,
    folds: list[np.ndarray],
    fold_targets: Any,
    reg: np.ndarray,
) -> np.ndarray:
    """Out-of-fold ridge scores: fold ``f`` solves ``(G - X_f^T X_f + reg) W = B - B_f``.

    ``fold_targets(te, Xt)`` returns ``X_f^T Y_f`` of shape (D+1, T) for the fold.
    """
    scores = np.zeros((Xa.shape[0], B.shape[1]), dtype=np.float32)
    for te in folds:
        Xt = Xa[te]
        Gt = G - (Xt.T @ Xt).astype(np.float64)
        W = sl.solve(Gt + reg, B - fold_targets(te, Xt), assume_a="pos")
        scores[te] = Xt @ W.astype(np.float32)
    return scores


def ridge_cross_val_predict(
    X: Any,
    targets: np.ndarray,
    folds: list[np.ndarray],
    *,
    alphas: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0),
) -> tuple[np.ndarray, float]:
    """Out-of-fold ridge predictions of real targets, the penalty chosen by out-of-fold error.

    The Gram matrix is computed once; each candidate penalty costs K solves, so the
    choice is nearly free. The penalty with the lowest out-of-fold squared error wins.

    Parameters
    ----------
    X : ndarray of shape (N, D), dense (or sparse with small D)
    targets : ndarray of shape (N,) or (N, T)
    folds : list of ndarray
        Test indices of each fold (a partition of 0..N-1).
    alphas : tuple of float
        Candidate penalties, as fractions of the mean diagonal of ``X^T X``.

    Returns
    -------
    predictions : ndarray of shape (N,) or (N, T), float32
    alpha : float
        The chosen penalty.
    """
    Y = np.asarray(targets, dtype=np.float64)
    one_d = Y.ndim == 1
    Y2 = Y[:, None] if one_d else Y
    Xa, G = _augmented_gram(X)
    B = Xa.T.astype(np.float64) @ Y2

    def fold_targets(te: np.ndarray, Xt: np.ndarray) -> np.ndarray:
        return Xt.T.astype(np.float64) @ Y2[te]

    best: tuple[float, float, np.ndarray] | None = None
    for alpha in alphas:
        pred = _oof_scores(Xa, G, B, folds, fold_targets, _ridge_penalty(G, alpha))
        err = float(((pred - Y2) ** 2).mean())
        if best is None or err < best[0]:
            best = (err, alpha, pred)
    assert best is not None
    pred = best[2]
    return (pred[:, 0] if one_d else pred), best[1]


def ridge_cross_val_proba(
    X: Any,
    labels: IntArray,
    folds: list[np.ndarray],
    n_classes: int,
    *,
    alpha: float = 1e-3,
) -> Float32Array:
    """Out-of-fold probabilities from ridge regression on one-hot labels.

    Parameters
    ----------
    X : ndarray of shape (N, D), dense
    labels : ndarray of shape (N,), int
    folds : list of ndarray
        Test indices of each fold (a partition of 0..N-1).
    n_classes : int
    alpha : float
        Ridge penalty as a fraction of the mean diagonal of ``X^T X``.

    Returns
    -------
    ndarray of shape (N, K), float32
    """
    Xa, G = _augmented_gram(X)
    n = Xa.shape[0]
    B = np.zeros((Xa.shape[1], n_classes), dtype=np.float64)
    np.add.at(B.T, labels, Xa)  # B[:, k] = sum of rows of class k  (vectorised over items)

    def fold_targets(te: np.ndarray, Xt: np.ndarray) -> np.ndarray:
        Bf = np.zeros_like(B)
        np.add.at(Bf.T, labels[te], Xt)
        return Bf

    scores = _oof_scores(Xa, G, B, folds, fold_targets, _ridge_penalty(G, alpha))
    rows = np.arange(n)

    def nll(log_t: float) -> float:
        z = scores * np.float32(np.exp(log_t))
        z -= z.max(axis=1, keepdims=True)
        return float(-(z[rows, labels] - np.log(np.exp(z).sum(axis=1))).mean())

    log_t = minimize_scalar(nll, bounds=(-3.0, 8.0), method="bounded").x
    return softmax(scores * np.float32(np.exp(log_t))).astype(np.float32)
