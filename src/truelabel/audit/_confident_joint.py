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
    n, k = pred_probs.shape
    if pred_probs.flags.c_contiguous:
        return pred_probs.reshape(-1)[np.arange(n) * k + labels]
    return pred_probs[np.arange(n), labels]


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


def _comparable_thresholds(thresholds: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``thresholds - TOL`` in ``dtype`` such that ``x >= result`` (in ``dtype``) equals
    ``x >= thresholds - TOL`` evaluated in float64, for every ``x`` of that dtype."""
    t64 = thresholds - TOL
    if dtype == np.float64:
        return t64
    t32 = t64.astype(np.float32)
    below = t32.astype(np.float64) < t64
    t32[below] = np.nextafter(t32[below], np.float32(np.inf))
    return t32


def _confident_guess(
    pred_probs: np.ndarray, thresholds: np.ndarray, start: int = 0, stop: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For rows ``start:stop``: (is counted (n,), bool; guessed true class (n,), int64).

    ``thresholds`` must come from :func:`_comparable_thresholds` (already minus TOL).
    """
    block = pred_probs[start:stop]
    above = block >= thresholds
    n_above = np.count_nonzero(above, axis=1)
    guess = above.argmax(axis=1)
    multi = np.flatnonzero(n_above > 1)
    if multi.size:
        guess[multi] = block[multi].argmax(axis=1)
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
    cmp = _comparable_thresholds(thresholds, pred_probs.dtype)
    cj = np.zeros(k * k, dtype=np.int64)
    for start in range(0, labels.shape[0], BLOCK_ROWS):
        stop = start + BLOCK_ROWS
        counted, guess = _confident_guess(pred_probs, cmp, start, stop)
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

    Round, then give +1 to the entries with the largest rounding loss (or -1 to
    those with the largest gain) until each row hits ``round(row.sum())``. The
    loop runs over the K rows (never over items) and uses the same ``argsort``
    calls as cleanlab's ``round_preserving_row_totals``, so ties are broken the
    same way and the counts match cleanlab's exactly.
    """
    mat = np.asarray(mat, dtype=np.float64)
    out = np.round(mat)
    for r in range(mat.shape[0]):
        floats, ints = mat[r], out[r]
        target = np.round(floats.sum())
        total = np.round(ints.sum())
        while abs(total - target) > TOL:
            diff = np.round(target - total)
            step = -1 if diff < 0 else 1
            changes = min(int(abs(diff)), floats.shape[0])
            picked = np.argsort(floats - ints)[::-step][:changes]
            ints[picked] += step
            total = np.round(ints.sum())
    return out.astype(np.int64)
