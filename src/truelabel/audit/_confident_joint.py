"""Confident learning counts: per-class thresholds and the confident joint.

The confident joint ``C`` is a (K, K) count matrix indexed ``[given, true]``
(rows = given label, columns = estimated true label), as in cleanlab's
``count.compute_confident_joint``. An item with given label ``i`` is counted
into ``C[i, j]`` when its predicted probability of class ``j`` reaches class
``j``'s threshold ``t_j`` (the mean self-confidence of the items *given* ``j``);
when several classes reach their thresholds, the arg-max class is used; items
reaching no threshold are not counted.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._types import IntArray
from ._checks import check_labels_and_probs

__all__ = [
    "calibrate_confident_joint",
    "compute_confident_joint",
    "get_confident_thresholds",
]

# rows per block in streamed passes: bounds temporaries to a few MB whatever N is
BLOCK_ROWS = 1 << 16
# cleanlab's fuzzy comparison tolerance; kept so flags match cleanlab's exactly
TOL = 1e-6
# threshold of a class nobody was given: no probability reaches it
_UNREACHABLE = 2.0


def get_confident_thresholds(labels: Any, pred_probs: Any) -> np.ndarray:
    """Per-class confidence thresholds: the mean self-confidence of each given class.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given labels, integer codes in ``[0, K)``.
    pred_probs : array-like of shape (N, K)
        Out-of-sample predicted probabilities; rows sum to 1.

    Returns
    -------
    thresholds : ndarray of shape (K,), float64
        ``thresholds[k]`` = mean of ``pred_probs[i, k]`` over items given label ``k``;
        2.0 (unreachable) for a class no item was given.
    """
    labs, probs = check_labels_and_probs(labels, pred_probs)
    return _compute_thresholds(labs, probs)


def _self_confidence(labels: IntArray, pred_probs: np.ndarray) -> np.ndarray:
    """``pred_probs[i, labels[i]]`` as an (N,) array in the input's dtype."""
    return pred_probs[np.arange(labels.shape[0]), labels]


def _compute_thresholds(
    labels: IntArray, pred_probs: np.ndarray, self_conf: np.ndarray | None = None
) -> np.ndarray:
    k = pred_probs.shape[1]
    if self_conf is None:
        self_conf = _self_confidence(labels, pred_probs)
    counts = np.bincount(labels, minlength=k)
    sums = np.bincount(labels, weights=self_conf, minlength=k)
    thresholds = np.full(k, _UNREACHABLE)
    present = counts > 0
    thresholds[present] = sums[present] / counts[present]
    return thresholds


def _confident_guess(
    pred_probs: np.ndarray, thresholds: np.ndarray, start: int = 0, stop: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For rows ``start:stop``: (is counted (n,), bool; guessed true class (n,), int64)."""
    block = pred_probs[start:stop]
    above = block >= thresholds - TOL  # compared in float64, as cleanlab does
    n_above = above.sum(axis=1)
    guess = np.where(n_above > 1, block.argmax(axis=1), above.argmax(axis=1))
    return n_above > 0, guess


def _compute_confident_joint(
    labels: IntArray,
    pred_probs: np.ndarray,
    *,
    calibrate: bool = True,
    thresholds: np.ndarray | None = None,
) -> IntArray:
    k = pred_probs.shape[1]
    if thresholds is None:
        thresholds = _compute_thresholds(labels, pred_probs)
    cj = np.zeros(k * k, dtype=np.int64)
    for start in range(0, labels.shape[0], BLOCK_ROWS):
        stop = start + BLOCK_ROWS
        counted, guess = _confident_guess(pred_probs, thresholds, start, stop)
        cell = labels[start:stop][counted] * k + guess[counted]
        cj += np.bincount(cell, minlength=k * k)
    joint = cj.reshape(k, k)
    # at least one correctly labelled item per class (cleanlab does the same)
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    if calibrate:
        joint = _calibrate(joint, np.bincount(labels, minlength=k))
    return joint


def compute_confident_joint(labels: Any, pred_probs: Any, *, calibrate: bool = True) -> IntArray:
    """Count items confidently belonging to each (given label, true label) pair.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given (possibly wrong) labels, integer codes in ``[0, K)``.
    pred_probs : array-like of shape (N, K)
        Out-of-sample predicted probabilities ``P(class = k | x)``; rows sum to 1.
    calibrate : bool, default=True
        Rescale each row to the number of items given that label (and the whole
        matrix to N), then round preserving row totals; see
        :func:`calibrate_confident_joint`.

    Returns
    -------
    confident_joint : ndarray of shape (K, K), int64
        ``[i, j]`` = number of items *given* label ``i`` whose *true* label is
        confidently ``j``. Rows = given label, columns = true label (cleanlab's
        orientation). The diagonal is at least 1. Calibrated, row ``i`` sums to the
        number of items given ``i``.

    Notes
    -----
    Loop oracle (kept in the tests, equal to this vectorised code)::

        t = thresholds                      # mean self-confidence per given class
        for i, row in enumerate(pred_probs):
            above = row >= t - 1e-6
            if above.sum() == 1:   C[labels[i], argmax(above)] += 1
            elif above.sum() > 1:  C[labels[i], argmax(row)] += 1
    """
    labs, probs = check_labels_and_probs(labels, pred_probs)
    return _compute_confident_joint(labs, probs, calibrate=calibrate)


def calibrate_confident_joint(confident_joint: Any, labels: Any) -> IntArray:
    """Make a confident joint agree with the observed label counts.

    Each row ``i`` is rescaled to sum to the number of items given label ``i``,
    then the integer rounding keeps those row totals exactly.

    Parameters
    ----------
    confident_joint : array-like of shape (K, K)
        Counts ``[given, true]`` (e.g. from ``compute_confident_joint(calibrate=False)``).
    labels : array-like of shape (N,)
        Given labels, integer codes in ``[0, K)``.

    Returns
    -------
    calibrated : ndarray of shape (K, K), int64
        Row ``i`` sums to ``(labels == i).sum()``; the total is N.
    """
    from .._errors import InputError
    from .._validation import check_labels

    cj = np.asarray(confident_joint)
    if cj.ndim != 2 or cj.shape[0] != cj.shape[1]:
        raise InputError(f"confident_joint must be a square (K, K) matrix; got shape {cj.shape}.")
    if cj.dtype.kind not in "fiu" or not np.all(np.isfinite(cj)) or (cj < 0).any():
        raise InputError("confident_joint must hold finite non-negative counts.")
    labs = check_labels(labels, n_classes=cj.shape[0])
    return _calibrate(cj.astype(np.float64), np.bincount(labs, minlength=cj.shape[0]))


def _calibrate(confident_joint: np.ndarray, label_counts: np.ndarray) -> IntArray:
    row_sums = np.clip(confident_joint.sum(axis=1), 1e-16, None)
    cal = confident_joint / row_sums[:, None] * label_counts[:, None]
    total = label_counts.sum()
    cal = cal / max(cal.sum(), 1e-16) * total
    return _round_preserving_row_totals(cal)


def _round_preserving_row_totals(mat: np.ndarray) -> IntArray:
    """Round each row of a float matrix to ints while keeping its rounded total.

    Vectorised twin of cleanlab's ``round_preserving_row_totals``: round, then give
    +1 to the entries with the largest rounding loss (or -1 to those with the
    largest gain) until each row hits ``round(row.sum())``.
    """
    mat = np.asarray(mat, dtype=np.float64)
    ints = np.round(mat)
    diff = (np.round(mat.sum(axis=1)) - ints.sum(axis=1)).astype(np.int64)  # (K,)
    if not diff.any():
        return ints.astype(np.int64)
    resid = mat - ints
    k = mat.shape[1]
    rows = np.arange(mat.shape[0])[:, None]
    # rank of each entry by residual, descending (for +1) and ascending (for -1)
    rank_desc = np.empty_like(resid, dtype=np.int64)
    rank_desc[rows, np.argsort(-resid, axis=1, kind="stable")] = np.arange(k)
    rank_asc = np.empty_like(resid, dtype=np.int64)
    rank_asc[rows, np.argsort(resid, axis=1, kind="stable")] = np.arange(k)
    d = diff[:, None]
    # |diff| can exceed K only for pathological input; spread the remainder evenly
    base = np.sign(d) * (np.abs(d) // k)
    rem = np.abs(d) % k
    inc = (d > 0) & (rank_desc < rem)
    dec = (d < 0) & (rank_asc < rem)
    ints = ints + base + inc - dec
    return ints.astype(np.int64)
