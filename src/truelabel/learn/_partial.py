"""Partial-label learning: each row has a *set* of candidate labels, one of them true.

:class:`PartialLabelClassifier` trains a robust end model by PRODEN (Lv et al., ICML
2020): cross-entropy against per-row weights over the candidates, the weights being the
model's own probabilities restricted to the candidates and renormalised after every step
(uniform at the start), so the model progressively identifies the true label.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from .._errors import InputError, NotFittedError
from .._types import BoolArray, Float32Array
from .._validation import check_params, check_random_state

__all__ = ["PartialLabelClassifier", "check_candidates", "parse_candidates"]

logger = logging.getLogger(__name__)


def check_candidates(candidates: Any, n_rows: int | None = None) -> BoolArray:
    """Validate a candidate matrix.

    Parameters
    ----------
    candidates : array-like of shape (N, K), bool or 0/1
    n_rows : int, optional

    Returns
    -------
    ndarray of shape (N, K), bool

    Raises
    ------
    InputError
        Wrong shape, values other than 0/1, or a row without any candidate.
    """
    C = np.asarray(candidates.toarray() if hasattr(candidates, "toarray") else candidates)
    if C.ndim != 2 or C.shape[1] < 2:
        raise InputError(f"candidates must have shape (N, K) with K >= 2; got {C.shape}.")
    if n_rows is not None and C.shape[0] != n_rows:
        raise InputError(f"candidates has {C.shape[0]} rows but X has {n_rows}.")
    if C.dtype != bool:
        if not np.isin(C, [0, 1]).all():
            raise InputError("candidates must hold 0/1 (or booleans).")
        C = C.astype(bool)
    empty = np.flatnonzero(~C.any(axis=1))
    if empty.size:
        raise InputError(
            f"row {int(empty[0])} has no candidate label ({empty.size} such rows); every row "
            "needs at least one."
        )
    return C


def parse_candidates(
    values: Any, *, sep: str = "|", classes: list[str] | None = None
) -> tuple[BoolArray, list[str]]:
    """Turn a column of candidate lists (``"a|b"`` or Python lists) into a matrix.

    Parameters
    ----------
    values : sequence of length N
        Each entry a string joined by ``sep`` or a list of labels.
    sep : str
    classes : list of str, optional
        The class list; default the sorted union of all candidates.

    Returns
    -------
    candidates : ndarray of shape (N, K), bool
    classes : list of str
    """
    rows: list[list[str]] = []
    for i, v in enumerate(values):
        if isinstance(v, str):
            items = [t.strip() for t in v.split(sep)]
        elif isinstance(v, list | tuple | np.ndarray):
            items = [str(t).strip() for t in v]
        else:
            items = []
        items = [t for t in items if t]
        if not items:
            raise InputError(
                f"row {i}: the candidates cell is empty ({v!r}); every row needs at least "
                f"one candidate label, joined by {sep!r}."
            )
        rows.append(items)
    names = sorted({t for r in rows for t in r}) if classes is None else list(classes)
    pos = {c: j for j, c in enumerate(names)}
    flat = [t for r in rows for t in r]
    unknown = [t for t in flat if t not in pos]
    if unknown:
        raise InputError(f"candidate {unknown[0]!r} is not one of the classes {names[:20]}.")
    r_idx = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    c_idx = np.fromiter((pos[t] for t in flat), dtype=np.int64, count=len(flat))
    C = np.zeros((len(rows), len(names)), dtype=bool)
    C[r_idx, c_idx] = True
    return C, names


class PartialLabelClassifier(ClassifierMixin, BaseEstimator):
    """A robust end model trained from candidate label sets (PRODEN).

    Parameters
    ----------
    estimator : RobustLogisticRegression or RobustMLPClassifier, optional
        The network (its epochs, lr, weight decay, batch size, hidden size are used).
        Default :class:`RobustLogisticRegression`.
    random_state : int, Generator or None, default 0

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
        ``arange(K)``: columns of the candidate matrix.
    disambiguation_ : ndarray of shape (N, K), float32
        Final weights over each row's candidates (rows sum to 1).
    labels_ : ndarray of shape (N,)
        Transductive disambiguation: the candidate the model believes in.
    estimator_ : the fitted network
    """

    _constraints = {"random_state": ["random_state"]}

    def __init__(
        self, estimator: Any = None, *, random_state: int | np.random.Generator | None = 0
    ) -> None:
        self.estimator = estimator
        self.random_state = random_state

    def fit(self, X: Any, candidates: Any) -> PartialLabelClassifier:
        """Train on candidate sets.

        Parameters
        ----------
        X : ndarray of shape (N, D) or CSR matrix
        candidates : ndarray of shape (N, K), bool
            ``candidates[i, k]`` is True when class k is a candidate of row i.

        Returns
        -------
        self
        """
        from ._models import RobustLogisticRegression
        from ._weak_losses import ProdenObjective

        check_params(self)
        C = check_candidates(candidates, X.shape[0])
        rng = check_random_state(self.random_state)
        base = self.estimator if self.estimator is not None else RobustLogisticRegression()
        est = clone(base).set_params(random_state=int(rng.integers(0, 2**31 - 1)))
        obj = ProdenObjective(C)
        est.fit_objective(X, C.shape[1], obj)
        w = obj.weights.numpy().astype(np.float32)
        # final disambiguation from the trained model (the running weights lag one step)
        p = np.asarray(est.predict_proba(X), dtype=np.float64) * C
        p_sum = p.sum(axis=1, keepdims=True)
        fin = np.where(p_sum > 0, p / np.maximum(p_sum, 1e-300), w)
        self.estimator_ = est
        self.classes_ = np.arange(C.shape[1])
        self.disambiguation_ = fin.astype(np.float32)
        self.labels_ = fin.argmax(axis=1)
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X: Any) -> Float32Array:
        """Class probabilities, shape (N, K), float32."""
        if not hasattr(self, "estimator_"):
            raise NotFittedError(
                "This PartialLabelClassifier is not fitted yet; call fit(X, candidates) first."
            )
        return np.asarray(self.estimator_.predict_proba(X), dtype=np.float32)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class index, shape (N,)."""
        return self.predict_proba(X).argmax(axis=1)
