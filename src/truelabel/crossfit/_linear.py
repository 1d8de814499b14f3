"""A fast multinomial logistic regression for cross-fitting (NumPy float32 + SciPy L-BFGS)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin

from .._errors import InputError
from .._numeric import softmax

__all__ = ["SoftmaxRegression"]


class SoftmaxRegression(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression with an L2 penalty, fitted by L-BFGS.

    The loss is ``mean cross-entropy + ||W||^2 / (2 * C * n)`` (the intercept is not
    penalised), the same objective as scikit-learn's ``LogisticRegression(C=C)`` divided
    by ``n``. Matrix products run in float32, which makes it several times faster than
    scikit-learn's solver on dense embeddings (e.g. 10k x 384 with 77 classes).

    Parameters
    ----------
    C : float, default 10.0
        Inverse regularisation strength.
    max_iter : int, default 200
        L-BFGS iterations.
    tol : float, default 1e-5
        Gradient tolerance.
    random_state : int or None
        Unused (the fit is deterministic); kept for the cross-fitting contract.

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
    coef_ : ndarray of shape (K, D), float32
    intercept_ : ndarray of shape (K,), float32
    n_iter_ : int
    """

    def __init__(
        self,
        *,
        C: float = 10.0,
        max_iter: int = 200,
        tol: float = 1e-5,
        random_state: int | None = None,
    ) -> None:
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, coef_init: Any = None
    ) -> SoftmaxRegression:
        """Fit on features ``X`` (N, D) dense or CSR and integer labels ``y`` (N,).

        ``coef_init`` (K, D + 1) — weights then intercept per class — starts L-BFGS from a
        given point (e.g. a closed-form ridge solution) instead of zero.
        """
        if self.C <= 0:
            raise InputError(f"The 'C' parameter of SoftmaxRegression must be > 0. Got {self.C!r}.")
        Xf = X.astype(np.float32) if sp.issparse(X) else np.asarray(X, dtype=np.float32)
        y = np.asarray(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        n, d = Xf.shape
        k = len(self.classes_)
        Y = np.zeros((n, k), dtype=np.float32)
        Y[np.arange(n), codes] = 1.0
        w = (
            np.ones(n, dtype=np.float32)
            if sample_weight is None
            else np.asarray(sample_weight, dtype=np.float32)
        )
        w = w / w.sum()
        lam = 1.0 / (self.C * n)

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            W = theta[: d * k].reshape(d, k).astype(np.float32)
            b = theta[d * k :].astype(np.float32)
            Z = Xf @ W
            Z += b
            Z -= Z.max(axis=1, keepdims=True)
            lse = np.log(np.exp(Z).sum(axis=1))
            loss = float(w @ (lse - (Z * Y).sum(axis=1)))
            P = np.exp(Z - lse[:, None])
            P -= Y
            P *= w[:, None]
            gW = np.asarray(Xf.T @ P) + lam * W
            gb = P.sum(axis=0)
            loss += 0.5 * lam * float((W.astype(np.float64) ** 2).sum())
            return loss, np.concatenate([gW.ravel(), gb]).astype(np.float64)

        theta0 = np.zeros(d * k + k, dtype=np.float64)
        if coef_init is not None:
            ci = np.asarray(coef_init, dtype=np.float64)
            theta0[: d * k] = ci[:, :d].T.ravel()
            theta0[d * k :] = ci[:, d]
        res = minimize(
            fun,
            theta0,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.max_iter, "gtol": self.tol},
        )
        self.coef_ = res.x[: d * k].reshape(d, k).T.astype(np.float32)
        self.intercept_ = res.x[d * k :].astype(np.float32)
        self.n_iter_ = int(res.nit)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Logits of shape (N, K), float32."""
        Xf = X.astype(np.float32) if sp.issparse(X) else np.asarray(X, dtype=np.float32)
        return np.asarray(Xf @ self.coef_.T) + self.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of shape (N, K), float32; rows sum to 1."""
        return softmax(self.decision_function(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[self.decision_function(X).argmax(axis=1)]
