"""Input checks shared by the audit functions (private).

Every public audit function validates through here, then calls a private
``_compute_*`` twin that trusts its input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import InputError
from .._types import IntArray
from .._validation import check_labels, check_pred_probs

__all__ = ["check_labels_and_probs", "check_knn_indices", "check_knn_distances", "float_dtype"]


def float_dtype(arr: np.ndarray) -> type[np.floating]:
    """float32 for float32 (and smaller) input, float64 for float64 input."""
    return np.float64 if arr.dtype == np.float64 else np.float32


def check_labels_and_probs(
    labels: Any, pred_probs: Any, *, min_classes: int = 2
) -> tuple[IntArray, np.ndarray]:
    """Validate ``labels`` (N,) against ``pred_probs`` (N, K).

    A fast streamed pass (row sums by ``einsum``, one ``min`` per block) accepts
    valid input; anything suspicious is re-checked by
    :func:`truelabel._validation.check_pred_probs`, which raises the exact message.

    Returns
    -------
    labels : ndarray of shape (N,), int64
    pred_probs : ndarray of shape (N, K), float32 or float64
        Not copied when already float32/float64 (memory maps stay maps).
    """
    probs = np.asarray(pred_probs)
    if probs.ndim != 2 or probs.dtype not in (np.float32, np.float64) or not _fast_ok(probs):
        probs = check_pred_probs(pred_probs)
        if probs.dtype not in (np.float32, np.float64):
            probs = probs.astype(np.float32)
    n, k = probs.shape
    if n == 0:
        raise InputError("pred_probs has 0 rows; the audit needs at least one item.")
    if k < min_classes:
        raise InputError(
            f"pred_probs has {k} column(s) but the audit needs at least {min_classes} classes; "
            "pass one probability column per class."
        )
    labs = check_labels(labels, n_classes=k, n_rows=n)
    return labs, probs


def _fast_ok(probs: np.ndarray, atol: float = 1e-3) -> bool:
    """True when every row is finite, non-negative and sums to 1 within ``atol``."""
    if probs.shape[0] == 0 or probs.shape[1] == 0:
        return False
    block = max(1, 2_000_000 // probs.shape[1])
    for start in range(0, probs.shape[0], block):
        chunk = probs[start : start + block]
        if not chunk.min() >= 0:  # also False for NaN
            return False
        sums = np.einsum("ij->i", chunk)
        if not (np.abs(sums - 1.0) <= atol).all():  # also False for NaN / inf
            return False
    return True


def check_knn_indices(knn_indices: Any, *, n_rows: int) -> IntArray:
    """Validate a kNN index matrix (N, k) with entries in ``[0, N)``."""
    idx = np.asarray(knn_indices)
    if idx.ndim != 2:
        raise InputError(
            f"knn_indices must be a 2-D array (N items, k neighbours); got shape {idx.shape}. "
            "Compute it with truelabel.audit.nearest_neighbors(X)."
        )
    if idx.shape[0] != n_rows:
        raise InputError(
            f"knn_indices has {idx.shape[0]} rows but there are {n_rows} items; "
            "pass the neighbours of exactly these items, in the same order."
        )
    if idx.dtype.kind not in "iu":
        raise InputError(f"knn_indices must hold integer row indices; got dtype {idx.dtype}.")
    if idx.size and (idx.min() < 0 or idx.max() >= n_rows):
        raise InputError(
            f"knn_indices holds values outside [0, {n_rows}) (min {int(idx.min())}, "
            f"max {int(idx.max())}); they must be row numbers of the same items."
        )
    return idx.astype(np.int64, copy=False)


def check_knn_distances(knn_distances: Any, *, name: str = "knn_distances") -> np.ndarray:
    """Validate a kNN distance matrix (N, k): finite and non-negative."""
    dist = np.asarray(knn_distances)
    if dist.ndim != 2:
        raise InputError(
            f"{name} must be a 2-D array (N items, k neighbours); got shape {dist.shape}."
        )
    if dist.dtype.kind not in "fiu":
        raise InputError(f"{name} must hold numbers; got dtype {dist.dtype}.")
    if dist.dtype.kind != "f" or dist.dtype == np.float16:
        dist = dist.astype(np.float32)
    if dist.shape[0] == 0 or dist.shape[1] == 0:
        raise InputError(f"{name} is empty (shape {dist.shape}); it needs N >= 1 rows, k >= 1.")
    if not np.all(np.isfinite(dist)):
        row = int(np.argwhere(~np.isfinite(dist))[0, 0])
        raise InputError(f"{name} row {row} contains NaN or infinite values.")
    if (dist < 0).any():
        row = int(np.argwhere(dist < 0)[0, 0])
        raise InputError(f"{name} row {row} contains negative distances.")
    return dist
