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

__all__ = ["ridge_cross_val_proba"]


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
    if sp.issparse(X):
        X = X.toarray()
    Xf = np.asarray(X, dtype=np.float32)
    n, d = Xf.shape
    Xa = np.empty((n, d + 1), dtype=np.float32)
    Xa[:, :d] = Xf
    Xa[:, d] = 1.0
    G = (Xa.T @ Xa).astype(np.float64)
    B = np.zeros((d + 1, n_classes), dtype=np.float64)
    np.add.at(B.T, labels, Xa)  # B[:, k] = sum of rows of class k  (vectorised over items)
    lam = alpha * np.trace(G) / (d + 1)
    reg = lam * np.eye(d + 1)
    reg[d, d] = 1e-8 * lam  # do not shrink the intercept
    scores = np.zeros((n, n_classes), dtype=np.float32)
    for te in folds:
        Xt = Xa[te]
        Gt = G - (Xt.T @ Xt).astype(np.float64)
        Bt = B.copy()
        np.subtract.at(Bt.T, labels[te], Xt)
        W = sl.solve(Gt + reg, Bt, assume_a="pos")
        scores[te] = Xt @ W.astype(np.float32)
    rows = np.arange(n)

    def nll(log_t: float) -> float:
        z = scores * np.float32(np.exp(log_t))
        z -= z.max(axis=1, keepdims=True)
        return float(-(z[rows, labels] - np.log(np.exp(z).sum(axis=1))).mean())

    log_t = minimize_scalar(nll, bounds=(-3.0, 8.0), method="bounded").x
    return softmax(scores * np.float32(np.exp(log_t))).astype(np.float32)
