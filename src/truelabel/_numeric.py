"""Small numeric helpers shared by every package (one implementation each).

- :func:`softmax` / :func:`softmax_with_lse`: the row softmax of ``(N, K)`` scores, used by
  the label models' E-steps, the calibrators, the linear end models, zero-shot labelling
  and the trained-model artifact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["softmax", "softmax_with_lse"]


def softmax_with_lse(z: Any) -> tuple[np.ndarray, np.ndarray]:
    """Row softmax and row log-sum-exp, shifted by the row maximum (no overflow).

    Works on the ``(K, N)`` transpose: reductions over a short last axis are slow in
    NumPy, element-wise operations across ``K`` long rows are not.

    Parameters
    ----------
    z : array-like of shape (N, K)
        Scores (logits, log-likelihoods). float32 stays float32, float64 stays float64,
        anything else becomes float64. Not modified.

    Returns
    -------
    proba : ndarray of shape (N, K)
        Each row sums to 1. A row of ``-inf`` only gives NaN (no finite score to shift by).
    lse : ndarray of shape (N,)
        ``log(sum(exp(z), axis=1))``.
    """
    z = np.asarray(z)
    dtype = z.dtype if z.dtype.kind == "f" else np.dtype(np.float64)
    t = np.array(z.T, dtype=dtype, order="C")
    m = t.max(axis=0)
    t -= m
    np.exp(t, out=t)
    s = t.sum(axis=0)
    t /= s
    return np.ascontiguousarray(t.T), np.log(s) + m


def softmax(z: Any) -> np.ndarray:
    """Row softmax of ``(N, K)`` scores; see :func:`softmax_with_lse` (same dtype rules)."""
    return softmax_with_lse(z)[0]
