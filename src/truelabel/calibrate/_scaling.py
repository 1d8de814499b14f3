"""Temperature and vector scaling, fitted on held-out or cross-fitted probabilities."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from sklearn.base import BaseEstimator

from .._errors import InputError, NotFittedError
from .._numeric import softmax
from .._types import Float32Array, FloatArray
from .._validation import Interval, Options, check_labels, check_params, check_pred_probs

__all__ = ["TemperatureScaling", "VectorScaling", "calibrate_probs"]

logger = logging.getLogger(__name__)

_EPS = 1e-12


def _to_logits(X: Any, kind: str, name: str = "X") -> np.ndarray:
    """Validate ``X`` and return float64 logits of shape (N, K)."""
    if kind == "probs":
        p = check_pred_probs(X, name=name)
        return np.log(np.clip(p.astype(np.float64), _EPS, 1.0))
    z = np.asarray(X)
    if z.dtype.kind not in "fiu":
        raise InputError(f"{name} must hold numbers; got dtype {z.dtype}.")
    if z.ndim != 2:
        raise InputError(f"{name} must be a 2-D array (N items, K classes); got shape {z.shape}.")
    if not np.all(np.isfinite(z)):
        row = int(np.argwhere(~np.isfinite(z))[0, 0])
        raise InputError(f"{name} row {row} contains NaN or infinite values.")
    return z.astype(np.float64)


def _targets(y: Any, n: int, k: int) -> np.ndarray:
    """Hard labels (N,) or soft targets (N, K) -> one-hot/soft float64 (N, K)."""
    arr = np.asarray(y)
    if arr.ndim == 2:
        t = check_pred_probs(arr, n_rows=n, n_classes=k, name="soft labels")
        return t.astype(np.float64)
    lab = check_labels(arr, n_classes=k, n_rows=n)
    t = np.zeros((n, k), dtype=np.float64)
    t[np.arange(n), lab] = 1.0
    return t


def _out_dtype(X: Any) -> type:
    return np.float64 if np.asarray(X).dtype == np.float64 else np.float32


def _check_noise_matrix(nm: Any, k: int) -> np.ndarray | None:
    if nm is None:
        return None
    m = np.asarray(nm, dtype=np.float64)
    if m.shape != (k, k):
        raise InputError(f"noise_matrix must have shape ({k}, {k}); got {m.shape}.")
    if not np.all(np.isfinite(m)) or (m < 0).any():
        raise InputError("noise_matrix must hold finite, non-negative probabilities.")
    cols = m.sum(axis=0)
    if np.abs(cols - 1).max() > 1e-3:
        raise InputError(
            "noise_matrix columns must sum to 1 (noise_matrix[i, j] = P(given = i | true = j)); "
            f"column sums are {np.round(cols, 3).tolist()[:10]}."
        )
    return m


#: share of the most confident items whose disagreement bounds the noise rate
ANCHOR_SHARE = 0.1


def _anchor_scale(z: np.ndarray, t: np.ndarray, nm: np.ndarray) -> float:
    """The largest noise scale the most confident items support (see ``"anchored"``).

    Parameters
    ----------
    z : ndarray of shape (N, K)
        Logits (or log-probabilities) of out-of-sample predictions.
    t : ndarray of shape (N, K)
        One-hot or soft given labels.
    nm : ndarray of shape (K, K)
        The full noise matrix ``P(given = i | true = j)``.

    Returns
    -------
    float in [0, 1]
    """
    n = z.shape[0]
    given = t.argmax(axis=1)
    pred = z.argmax(axis=1)
    agree = float((pred == given).mean())
    share = np.bincount(given, minlength=t.shape[1]) / n
    majority = float(share.max())
    if agree <= majority + 2.0 * np.sqrt(majority * (1.0 - majority) / n):
        return 0.0
    zz = z - z.max(axis=1, keepdims=True)
    conf = 1.0 / np.exp(zz).sum(axis=1)  # top-class probability
    top = np.argsort(-conf, kind="stable")[: max(1, int(np.ceil(ANCHOR_SHARE * n)))]
    d_top = float((pred[top] != given[top]).mean())
    rate = float((share * (1.0 - np.diag(nm))).sum())  # noise rate of the full matrix
    if rate <= 0:
        return 0.0
    return float(min(1.0, d_top / rate))


class TemperatureScaling(BaseEstimator):
    """One temperature ``T`` that divides the logits: ``softmax(log p / T)``.

    ``T > 1`` softens over-confident probabilities, ``T < 1`` sharpens them. The
    ranking of classes, hence the accuracy, does not change. Fit it on probabilities the
    model produced for items it did not train on (a held-out split or cross-fitting).

    Parameters
    ----------
    input : {"probs", "logits"}, default "probs"
        What ``fit`` and ``predict_proba`` receive.
    bounds : tuple of float, default (0.05, 100.0)
        Search range of ``T``.
    noise_matrix : ndarray of shape (K, K), optional
        ``noise_matrix[i, j] = P(given = i | true = j)`` (columns sum to 1), e.g. from
        :func:`truelabel.audit.estimate_noise_matrices`. When the held-out labels are
        themselves noisy, plain temperature scaling flattens the probabilities to match
        the noise; with the matrix the fit maximises the likelihood of the *given* labels
        under ``noise_matrix @ p_true``, so the scaled probabilities stay calibrated for
        the true class.
    noise_scale : float in [0, 1], "mle", "conservative" or "anchored", default 1.0
        How much of ``noise_matrix`` to believe: the fit uses ``(1 - s) I + s
        noise_matrix``. A matrix that confident learning estimated from a weak model
        counts the model's own errors as label noise; believing it fully makes the
        probabilities over-confident. ``"mle"`` picks ``s`` on a grid of 21 values by
        the likelihood of the given labels (jointly with ``T``); ``"conservative"`` the
        smallest ``s`` whose log-likelihood is within 1.92 (a 95% likelihood-ratio
        interval) of the best. ``"anchored"`` is the most likely ``s`` whose noise rate
        does not exceed the disagreement between the given labels and the predicted
        class on the 10% most confident items (the "anchor points": class-conditional
        noise reaches them as often as any item, noise on hard items does not), and 0
        when the predictions do not agree with the given labels clearly more often
        than the most frequent label does (a model that has learned nothing cannot tell
        noise from its own errors).

    Attributes
    ----------
    temperature_ : float
    noise_scale_ : float
        The ``s`` used (``noise_matrix`` only).
    noise_matrix_ : ndarray of shape (K, K) or None
        The matrix used: ``(1 - s) I + s noise_matrix``.
    noise_scale_cap_ : float
        ``"anchored"`` only: the largest ``s`` the most confident items support (0 when
        the predictions do not beat the most frequent label).
    n_classes_ : int
    nll_before_, nll_after_ : float
        Mean negative log-likelihood at ``T = 1`` and at ``temperature_``.
    """

    _constraints = {
        "input": [Options(("probs", "logits"))],
        "bounds": [tuple],
        "noise_matrix": [None, np.ndarray, list],
        "noise_scale": [
            Interval(float, 0, 1, closed="both"),
            Options(("mle", "conservative", "anchored")),
        ],
    }

    def __init__(
        self,
        *,
        input: str = "probs",
        bounds: tuple[float, float] = (0.05, 100.0),
        noise_matrix: Any = None,
        noise_scale: float | str = 1.0,
    ) -> None:
        self.input = input
        self.bounds = bounds
        self.noise_matrix = noise_matrix
        self.noise_scale = noise_scale

    def fit(self, X: FloatArray, y: Any) -> TemperatureScaling:
        """Find the temperature minimising the negative log-likelihood of ``y``.

        Parameters
        ----------
        X : ndarray of shape (N, K)
            Held-out probabilities (rows sum to 1) or logits, as ``input`` says.
        y : ndarray of shape (N,), int, or (N, K) soft targets

        Returns
        -------
        self
        """
        check_params(self)
        lo, hi = (float(b) for b in self.bounds)
        if not 0 < lo < hi:
            raise InputError(f"bounds must satisfy 0 < low < high; got {self.bounds!r}.")
        z = _to_logits(X, self.input)
        n, k = z.shape
        if n == 0:
            raise InputError("cannot fit a temperature on 0 items.")
        t = _targets(y, n, k)
        nm = _check_noise_matrix(self.noise_matrix, k)
        self.__dict__.pop("noise_scale_cap_", None)
        scales = [1.0]
        if nm is not None:
            if isinstance(self.noise_scale, str):
                scales = list(np.linspace(0.0, 1.0, 21))
            else:
                scales = [float(self.noise_scale)]
        fits = [
            self._fit_one(z, t, None if nm is None else (1 - s) * np.eye(k) + s * nm, lo, hi)
            for s in scales
        ]  # loop over candidate scales only
        nll = np.array([f[1] for f in fits])
        if self.noise_scale == "conservative" and nm is not None:
            i = int(np.flatnonzero(nll * n <= nll.min() * n + 1.92)[0])
        elif self.noise_scale == "anchored" and nm is not None:
            cap = _anchor_scale(z, t, nm)
            self.noise_scale_cap_ = cap
            i = int(np.argmin(np.where(np.asarray(scales) <= cap + 1e-12, nll, np.inf)))
        else:
            i = int(np.argmin(nll))
        self.temperature_ = fits[i][0]
        self.noise_scale_ = float(scales[i])
        self.noise_matrix_ = None if nm is None else (1 - scales[i]) * np.eye(k) + scales[i] * nm
        self.n_classes_ = k
        self.nll_before_ = fits[i][2]
        self.nll_after_ = float(nll[i])
        logger.info(
            "temperature %.4f, noise scale %.2f (NLL %.4f -> %.4f)",
            self.temperature_,
            self.noise_scale_,
            self.nll_before_,
            self.nll_after_,
        )
        return self

    @staticmethod
    def _fit_one(
        z: np.ndarray, t: np.ndarray, nm: np.ndarray | None, lo: float, hi: float
    ) -> tuple[float, float, float]:
        """(temperature, NLL at it, NLL at T = 1) for one noise matrix (or none)."""
        n = z.shape[0]

        def nll(log_t: float) -> float:
            zz = z / np.exp(log_t)
            zz = zz - zz.max(axis=1, keepdims=True)
            lse = np.log(np.exp(zz).sum(axis=1))
            logp = zz - lse[:, None]
            if nm is not None:  # likelihood of the given labels: P(given) = N @ p_true
                logp = np.log(np.clip(np.exp(logp) @ nm.T, 1e-300, None))
            return float(-(t * logp).sum() / n)

        res = minimize_scalar(
            nll, bounds=(np.log(lo), np.log(hi)), method="bounded", options={"xatol": 1e-5}
        )
        return float(np.exp(res.x)), float(res.fun), nll(0.0)

    def _check_fitted(self) -> None:
        if not hasattr(self, "temperature_"):
            raise NotFittedError(
                "This TemperatureScaling is not fitted yet; call fit(held_out_probs, labels) first."
            )

    def predict_proba(self, X: FloatArray) -> Float32Array:
        """Calibrated probabilities.

        Parameters
        ----------
        X : ndarray of shape (M, K)
            Probabilities or logits (as ``input`` says).

        Returns
        -------
        ndarray of shape (M, K), float32 (float64 for float64 input); rows sum to 1.
        """
        self._check_fitted()
        z = _to_logits(X, self.input)
        if z.shape[1] != self.n_classes_:
            raise InputError(
                f"X has {z.shape[1]} columns but the calibrator was fitted on "
                f"{self.n_classes_} classes."
            )
        return softmax(z / self.temperature_).astype(_out_dtype(X))

    transform = predict_proba


class VectorScaling(BaseEstimator):
    """Per-class scale and bias on the logits: ``softmax(w * log p + b)``.

    More flexible than :class:`TemperatureScaling` (``2K`` parameters instead of 1); it
    can fix a class-wise bias but may change the argmax and needs more held-out data.

    Parameters
    ----------
    input : {"probs", "logits"}, default "probs"
    reg : float, default 1e-3
        L2 penalty pulling ``w`` to 1 and ``b`` to 0.
    max_iter : int, default 500

    Attributes
    ----------
    coef_ : ndarray of shape (K,)
    intercept_ : ndarray of shape (K,)
    n_classes_ : int
    """

    _constraints = {
        "input": [Options(("probs", "logits"))],
        "reg": [Interval(float, 0, None)],
        "max_iter": [Interval(int, 1, None)],
    }

    def __init__(self, *, input: str = "probs", reg: float = 1e-3, max_iter: int = 500) -> None:
        self.input = input
        self.reg = reg
        self.max_iter = max_iter

    def fit(self, X: FloatArray, y: Any) -> VectorScaling:
        """Fit ``w`` and ``b`` by L-BFGS on the negative log-likelihood.

        Parameters
        ----------
        X : ndarray of shape (N, K)
        y : ndarray of shape (N,), int, or (N, K) soft targets

        Returns
        -------
        self
        """
        check_params(self)
        z = _to_logits(X, self.input)
        n, k = z.shape
        if n == 0:
            raise InputError("cannot fit vector scaling on 0 items.")
        t = _targets(y, n, k)
        reg = float(self.reg)

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:k], theta[k:]
            zz = z * w + b
            zz = zz - zz.max(axis=1, keepdims=True)
            lse = np.log(np.exp(zz).sum(axis=1))
            logp = zz - lse[:, None]
            loss = -(t * logp).sum() / n + reg * (((w - 1) ** 2).sum() + (b**2).sum())
            g = (np.exp(logp) * t.sum(axis=1, keepdims=True) - t) / n
            gw = (g * z).sum(axis=0) + 2 * reg * (w - 1)
            gb = g.sum(axis=0) + 2 * reg * b
            return float(loss), np.concatenate([gw, gb])

        theta0 = np.concatenate([np.ones(k), np.zeros(k)])
        res = minimize(
            fun, theta0, jac=True, method="L-BFGS-B", options={"maxiter": int(self.max_iter)}
        )
        self.coef_ = res.x[:k].copy()
        self.intercept_ = res.x[k:].copy()
        self.n_classes_ = k
        self.n_iter_ = int(res.nit)
        return self

    def predict_proba(self, X: FloatArray) -> Float32Array:
        """Calibrated probabilities, shape (M, K), rows sum to 1."""
        if not hasattr(self, "coef_"):
            raise NotFittedError(
                "This VectorScaling is not fitted yet; call fit(held_out_probs, labels) first."
            )
        z = _to_logits(X, self.input)
        if z.shape[1] != self.n_classes_:
            raise InputError(
                f"X has {z.shape[1]} columns but the calibrator was fitted on "
                f"{self.n_classes_} classes."
            )
        return softmax(z * self.coef_ + self.intercept_).astype(_out_dtype(X))

    transform = predict_proba


def calibrate_probs(
    pred_probs: FloatArray,
    labels: Any,
    *,
    apply_to: FloatArray | None = None,
    noise_matrix: Any = None,
    noise_scale: float | str = 1.0,
) -> tuple[Float32Array, float]:
    """Temperature-scale probabilities: the one-call helper every stage uses.

    Fit one temperature on ``pred_probs`` against ``labels`` and return the calibrated
    probabilities. ``pred_probs`` should be out-of-sample (cross-fitted or held-out);
    probabilities of items the model trained on are over-confident by construction and
    give a temperature that is too low.

    Parameters
    ----------
    pred_probs : ndarray of shape (N, K)
        Probabilities (rows sum to 1).
    labels : ndarray of shape (N,), int codes, or (N, K) soft targets (a posterior)
    apply_to : ndarray of shape (M, K), optional
        Other probabilities to transform with the fitted temperature (e.g. test items);
        by default ``pred_probs`` itself is transformed.
    noise_matrix : ndarray of shape (K, K), optional
        ``P(given = i | true = j)`` when ``labels`` are noisy (see
        :class:`TemperatureScaling`); e.g. ``estimate_noise_matrices(...).noise_matrix``.
    noise_scale : float, "mle" or "conservative", default 1.0
        How much of ``noise_matrix`` to believe (see :class:`TemperatureScaling`).

    Returns
    -------
    calibrated : ndarray of shape (N, K) (or (M, K) with ``apply_to``), float32
        Rows sum to 1; the argmax is unchanged.
    temperature : float
        ``T > 1`` means the input was over-confident.
    """
    ts = TemperatureScaling(noise_matrix=noise_matrix, noise_scale=noise_scale).fit(
        pred_probs, labels
    )
    target = pred_probs if apply_to is None else apply_to
    return ts.predict_proba(target).astype(np.float32), ts.temperature_
