"""Cross-fitted outcome models for DSL pseudo-outcomes.

DSL (Egami et al., 2023) replaces each variable that needs a label by
``g(features)``, a model of the gold value given the surrogate predictions and
observed covariates, fitted on the gold rows. Cross-fitting keeps a row's
``g`` value independent of its own gold label: rows (or clusters) are split into
folds and each fold is predicted by a model fitted on the gold rows of the
other folds. Linear ``g`` for numeric variables, L2-penalised logistic ``g`` for
0/1 variables; both are small Newton solves on NumPy arrays.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .._types import BoolArray, FloatArray, IntArray

__all__ = ["crossfit_g", "is_binary"]


def is_binary(values: FloatArray) -> bool:
    """Whether every finite value is 0 or 1."""
    v = values[np.isfinite(values)]
    return bool(v.size) and bool(np.all((v == 0) | (v == 1)))


def _standardize(F: FloatArray, rows: BoolArray) -> tuple[FloatArray, FloatArray]:
    mu = F[rows].mean(axis=0)
    sd = F[rows].std(axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    return mu, sd


def _fit_linear(F: FloatArray, t: FloatArray, ridge: float) -> FloatArray:
    Z = np.column_stack([np.ones(len(F)), F])
    P = ridge * np.eye(Z.shape[1])
    P[0, 0] = 0.0
    return np.asarray(np.linalg.solve(Z.T @ Z + P + 1e-10 * np.eye(Z.shape[1]), Z.T @ t))


def _fit_logistic(F: FloatArray, t: FloatArray, ridge: float) -> FloatArray:
    Z = np.column_stack([np.ones(len(F)), F])
    p = Z.shape[1]
    P = ridge * np.eye(p)
    P[0, 0] = 0.0
    m = float(np.clip(t.mean(), 1e-3, 1 - 1e-3))
    w = np.zeros(p)
    w[0] = np.log(m / (1 - m))
    for _ in range(50):
        mu = special.expit(Z @ w)
        g = Z.T @ (mu - t) + P @ w
        H = (Z.T * (mu * (1 - mu))) @ Z + P + 1e-8 * np.eye(p)
        step = np.linalg.solve(H, g)
        w = w - step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w


def crossfit_g(
    targets: FloatArray,
    features: FloatArray,
    labeled: BoolArray,
    *,
    n_folds: int,
    rng: np.random.Generator,
    clusters: IntArray | None = None,
    ridge: float = 1.0,
) -> FloatArray:
    """Out-of-fold predictions of each target from the features.

    Parameters
    ----------
    targets : ndarray of shape (N, v)
        Gold values of the variables that need labels (anything on unlabeled rows).
    features : ndarray of shape (N, q)
        Surrogate predictions and observed covariates, finite everywhere.
    labeled : ndarray of shape (N,), bool
    n_folds : int
        Folds over rows (or clusters); each gold-free fold still gets predictions.
    rng : numpy Generator
    clusters : ndarray of shape (N,), int, optional
        Whole clusters go to one fold.
    ridge : float
        L2 penalty on the standardised feature weights (not the intercept).

    Returns
    -------
    g : ndarray of shape (N, v)
        For 0/1 targets, probabilities in (0, 1).
    """
    n_rows, n_targets = targets.shape
    units = clusters if clusters is not None else np.arange(n_rows)
    n_units = int(units.max()) + 1
    fold_of_unit = rng.permutation(np.arange(n_units) % n_folds)
    fold = fold_of_unit[units]
    out = np.empty((n_rows, n_targets))
    binary = [is_binary(targets[labeled, j]) for j in range(n_targets)]
    for k in range(n_folds):
        test = fold == k
        if not test.any():
            continue
        train = labeled & ~test
        if train.sum() < 2:
            train = labeled
        mu, sd = _standardize(features, train)
        Ftr = (features[train] - mu) / sd
        Fte = (features[test] - mu) / sd
        for j in range(n_targets):
            t = targets[train, j]
            if binary[j]:
                if t.min() == t.max():
                    out[test, j] = np.clip(t.mean(), 1e-3, 1 - 1e-3)
                    continue
                w = _fit_logistic(Ftr, t, ridge)
                out[test, j] = special.expit(w[0] + Fte @ w[1:])
            else:
                w = _fit_linear(Ftr, t, ridge)
                out[test, j] = w[0] + Fte @ w[1:]
    return out
