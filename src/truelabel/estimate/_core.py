"""The M-estimation machinery shared by every estimator.

Every estimate here solves one weighted estimating equation over all ``N`` rows::

    sum_i  a_i * grad l(x_i, y_i; theta)  +  c_i * grad l(xh_i, yh_i; theta)  = 0

with ``a_i = R_i / pi_i`` (the inverse-probability weight of a gold row, 0 for an
unlabeled one) and ``c_i = lam * (mean(a) - a_i)``. ``(x, y)`` are the true
(gold) values, ``(xh, yh)`` the surrogate ones (raw predictions for PPI++,
cross-fitted predictions for DSL). Because ``E[1 - R/pi | data] = 0`` and the
``c_i`` sum to zero, the second term has mean zero for any ``lam``, so the estimate is consistent
whatever the quality of the predictions; ``lam = 0`` is the classical (gold-only,
IPW) estimate. The variance is the sandwich ``H^-1 M H^-1`` with ``M`` summed over
clusters when they are given.

Losses: ``"ols"`` (half squared error; the mean is OLS on an intercept) and
``"logit"`` (logistic log-loss; soft targets in [0, 1] allowed).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import numpy as np
from scipy import special
from threadpoolctl import ThreadpoolController

from .._errors import InputError
from .._types import FloatArray, IntArray

__all__ = ["Fit", "fit_weighted", "sandwich", "single_threaded", "tune_lambda"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


@functools.cache
def _controller() -> ThreadpoolController:
    """Scanning the loaded libraries is slow; do it once per process."""
    return ThreadpoolController()


def single_threaded(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``fn`` with one BLAS thread.

    The matrices here are (N, p) with small p: threads buy nothing, and on a
    busy machine OpenBLAS's thread start-up made each call ~10x slower.
    """

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with _controller().limit(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper


_MAX_NEWTON = 100


@dataclass
class Fit:
    """A solved estimating equation.

    Attributes
    ----------
    theta : ndarray of shape (p,)
    hessian : ndarray of shape (p, p)
        Derivative of the (1/N-scaled) estimating equation at ``theta``.
    converged : bool
    """

    theta: FloatArray
    hessian: FloatArray
    converged: bool


def _grad_rows(loss: str, X: FloatArray, y: FloatArray, theta: FloatArray) -> FloatArray:
    """Per-row gradient of the loss, shape (N, p)."""
    eta = X @ theta
    mu = special.expit(eta) if loss == "logit" else eta
    return X * (mu - y)[:, None]


def _hess_weights(loss: str, X: FloatArray, theta: FloatArray) -> FloatArray:
    if loss == "logit":
        mu = special.expit(X @ theta)
        return mu * (1.0 - mu)
    return np.ones(X.shape[0])


def _objective(
    loss: str,
    X: FloatArray,
    y: FloatArray,
    a: FloatArray,
    Xh: FloatArray,
    yh: FloatArray,
    c: FloatArray,
    theta: FloatArray,
) -> float:
    def one(Z: FloatArray, t: FloatArray) -> FloatArray:
        eta = Z @ theta
        if loss == "logit":
            return np.logaddexp(0.0, eta) - t * eta
        return 0.5 * (t - eta) ** 2

    return float(a @ one(X, y) + c @ one(Xh, yh))


def fit_weighted(
    loss: str,
    X: FloatArray,
    y: FloatArray,
    a: FloatArray,
    Xh: FloatArray,
    yh: FloatArray,
    c: FloatArray,
    *,
    theta0: FloatArray | None = None,
) -> Fit:
    """Solve the combined estimating equation (trusts its input).

    Parameters
    ----------
    loss : {"ols", "logit"}
    X, Xh : ndarray of shape (N, p)
        True and surrogate designs (rows with ``a == 0`` may hold anything finite).
    y, yh : ndarray of shape (N,)
    a, c : ndarray of shape (N,)
        Row weights of the true and surrogate parts.
    theta0 : ndarray of shape (p,), optional
        Start of Newton's method (logit).
    """
    n_rows = X.shape[0]
    if loss == "ols":
        H = (X.T * a) @ X + (Xh.T * c) @ Xh
        b = X.T @ (a * y) + Xh.T @ (c * yh)
        try:
            theta = np.linalg.solve(H, b)
        except np.linalg.LinAlgError:
            theta = np.linalg.lstsq(H, b, rcond=None)[0]
        return Fit(theta, H / n_rows, True)
    p = X.shape[1]
    theta = np.zeros(p) if theta0 is None else np.array(theta0, dtype=float)
    f = _objective(loss, X, y, a, Xh, yh, c, theta)
    converged = False
    H = np.eye(p)
    for _ in range(_MAX_NEWTON):
        g = _grad_rows(loss, X, y, theta).T @ a + _grad_rows(loss, Xh, yh, theta).T @ c
        H = (X.T * (a * _hess_weights(loss, X, theta))) @ X + (
            Xh.T * (c * _hess_weights(loss, Xh, theta))
        ) @ Xh
        try:
            step = np.linalg.solve(H + 1e-10 * np.eye(p), g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        if not np.all(np.isfinite(step)) or float(step @ g) <= 0:
            step = g / max(1.0, float(np.abs(np.diag(H)).max()))  # gradient step fallback
        t = 1.0
        while t > 1e-8:
            cand = theta - t * step
            fc = _objective(loss, X, y, a, Xh, yh, c, cand)
            if fc <= f + 1e-12 * abs(f):
                break
            t *= 0.5
        theta, f_old, f = cand, f, fc
        if np.max(np.abs(t * step)) < 1e-9 or abs(f_old - f) <= 1e-13 * max(1.0, abs(f)):
            converged = True
            break
    H = (X.T * (a * _hess_weights(loss, X, theta))) @ X + (
        Xh.T * (c * _hess_weights(loss, Xh, theta))
    ) @ Xh
    return Fit(theta, H / n_rows, converged)


def influence_parts(
    loss: str,
    X: FloatArray,
    y: FloatArray,
    a: FloatArray,
    Xh: FloatArray,
    yh: FloatArray,
    b: FloatArray,
    theta: FloatArray,
    *,
    center: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """Per-row moment parts ``u_i = a_i g_i`` and ``v_i = b_i gh_i``, each (N, p).

    With ``center`` (for weights ``b`` that sum to zero) ``gh`` is centred first:
    the sum ``sum_i b_i gh_i`` is unchanged, but the row-wise variance no longer
    carries the surrogate's mean (a biased surrogate would otherwise inflate it,
    as a Horvitz-Thompson total does against a Hajek one).
    """
    u = _grad_rows(loss, X, y, theta) * a[:, None]
    gh = _grad_rows(loss, Xh, yh, theta)
    if center:
        gh = gh - gh.mean(axis=0)
    v = gh * b[:, None]
    return u, v


def _cluster_sum(rows: FloatArray, clusters: IntArray | None) -> FloatArray:
    if clusters is None:
        return rows
    n_c = int(clusters.max()) + 1
    out = np.zeros((n_c, rows.shape[1]))
    np.add.at(out, clusters, rows)
    return out


def _inv(H: FloatArray) -> FloatArray:
    try:
        return np.asarray(np.linalg.inv(H))
    except np.linalg.LinAlgError:
        return np.asarray(np.linalg.pinv(H))


def sandwich(H: FloatArray, psi: FloatArray, clusters: IntArray | None = None) -> FloatArray:
    """Sandwich covariance ``H^-1 M H^-1 / N^2 * N`` of the 1/N-scaled equation.

    Parameters
    ----------
    H : ndarray of shape (p, p)
        Derivative of the mean estimating equation.
    psi : ndarray of shape (N, p)
        Per-row terms of the estimating equation at the solution.
    clusters : ndarray of shape (N,), int, optional
        Cluster codes 0..G-1; terms are summed within a cluster first, and the
        meat gets the usual ``G / (G - 1)`` small-sample factor.

    Returns
    -------
    cov : ndarray of shape (p, p)
    """
    n_rows = psi.shape[0]
    s = _cluster_sum(psi, clusters)
    s = s - s.mean(axis=0) if clusters is None else s
    meat = s.T @ s / n_rows**2
    if clusters is not None:
        g = s.shape[0]
        meat *= g / max(g - 1, 1)
    Hi = _inv(H)
    cov = Hi @ meat @ Hi.T
    return np.asarray((cov + cov.T) / 2)


def tune_lambda(
    H: FloatArray,
    u: FloatArray,
    v: FloatArray,
    clusters: IntArray | None = None,
    *,
    coord: int | None = None,
) -> float:
    """Power-tuning weight ``lam`` in [0, 1] minimising the sandwich variance.

    The equation's terms are ``u_i + lam * v_i``; the variance of coordinate
    ``coord`` (or the trace when ``coord`` is None) is a quadratic in ``lam``
    whose minimiser is ``-sum(Hu . Hv) / sum(Hv . Hv)`` (PPI++, Angelopoulos et
    al. 2023, generalised to weights and clusters).
    """
    Hi = _inv(H)
    su = _cluster_sum(u, clusters) @ Hi.T
    sv = _cluster_sum(v, clusters) @ Hi.T
    su = su - su.mean(axis=0)
    sv = sv - sv.mean(axis=0)
    if coord is not None:
        su, sv = su[:, coord : coord + 1], sv[:, coord : coord + 1]
    den = float(np.sum(sv * sv))
    if not np.isfinite(den) or den <= 0:
        return 0.0
    lam = -float(np.sum(su * sv)) / den
    return float(np.clip(lam, 0.0, 1.0))


def check_rank(X: FloatArray, names: list[str], what: str) -> None:
    """Raise when the gold design has no more rows than columns or is rank deficient.

    ``p + 1`` gold rows is the least that leaves one degree of freedom for the spread
    that sets an interval's width.
    """
    n, p = X.shape
    if n < p + 1:
        raise InputError(
            f"{what}: {n} gold rows but the model has {p} parameters ({', '.join(names)}); "
            f"an interval needs at least {p + 1} rows (one more than the parameters, to "
            "measure the spread; ideally 10x that): label more rows or drop terms."
        )
    if np.linalg.matrix_rank(X) < p:
        raise InputError(
            f"{what}: the design on the gold rows is rank deficient (a term is constant or "
            f"a copy of another among {', '.join(names)}); drop that term or label more rows."
        )
