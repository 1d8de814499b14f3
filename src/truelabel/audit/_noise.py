"""Noise matrices and class priors from the calibrated confident joint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._types import IntArray
from ._checks import check_labels_and_probs
from ._confident_joint import _compute_confident_joint

__all__ = ["NoiseEstimate", "estimate_noise_matrices"]


@dataclass(frozen=True)
class NoiseEstimate:
    """How noisy the given labels are, estimated by confident learning.

    Index convention: ``i`` is a *given* label, ``j`` a *true* label. All arrays
    are float64 (they are K-sized summaries, not per-item data).

    Attributes
    ----------
    joint : ndarray of shape (K, K)
        ``joint[i, j] = P(given = i, true = j)``; sums to 1. The calibrated
        confident joint divided by N, so row ``i`` sums to the observed share of
        items given ``i``.
    noise_matrix : ndarray of shape (K, K)
        ``noise_matrix[i, j] = P(given = i | true = j)``; each *column* sums to 1
        (cleanlab's ``noise_matrix``). ``1 - noise_matrix[k, k]`` is the share of
        truly-``k`` items that were given another label.
    inverse_noise_matrix : ndarray of shape (K, K)
        ``inverse_noise_matrix[i, j] = P(true = j | given = i)``; each *row* sums
        to 1. (cleanlab's ``inv_noise_matrix`` is the transpose of this.)
    prior : ndarray of shape (K,)
        ``P(true = j)``: column sums of ``joint``.
    noise_rate_per_class : ndarray of shape (K,)
        ``1 - inverse_noise_matrix[k, k] = P(true != k | given = k)``: the estimated
        fraction of items *given* class ``k`` whose label is wrong (a per-class
        error rate of the label column).
    flip_rate_per_true_class : ndarray of shape (K,)
        ``1 - noise_matrix[k, k] = P(given != k | true = k)``: the fraction of
        truly-``k`` items carrying another label.
    noise_rate : float
        ``1 - trace(joint)``: the estimated fraction of all items whose given label
        is wrong.
    confident_joint : ndarray of shape (K, K), int64
        The calibrated confident joint (counts, ``[given, true]``), row ``i``
        summing to the number of items given ``i``.
    """

    joint: np.ndarray
    noise_matrix: np.ndarray
    inverse_noise_matrix: np.ndarray
    prior: np.ndarray
    noise_rate_per_class: np.ndarray
    flip_rate_per_true_class: np.ndarray
    noise_rate: float
    confident_joint: np.ndarray


def estimate_noise_matrices(labels: Any, pred_probs: Any) -> NoiseEstimate:
    """Estimate the joint of given and true labels, the noise matrices and the prior.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given labels, integer codes in ``[0, K)``.
    pred_probs : array-like of shape (N, K)
        Out-of-sample predicted probabilities; rows sum to 1.

    Returns
    -------
    NoiseEstimate
        See its attributes for the exact direction of each matrix.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([0, 0, 0, 1, 1, 1])
    >>> probs = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.1, .9], [.3, .7]])
    >>> est = estimate_noise_matrices(labels, probs)
    >>> est.confident_joint.tolist()  # item 2 is given 0 but confidently 1
    [[2, 1], [0, 3]]
    >>> round(est.noise_rate, 4)
    0.1667
    """
    labs, probs = check_labels_and_probs(labels, pred_probs)
    return _compute_noise_estimate(labs, probs)


def _compute_noise_estimate(
    labels: IntArray, pred_probs: np.ndarray, confident_joint: IntArray | None = None
) -> NoiseEstimate:
    if confident_joint is None:
        confident_joint = _compute_confident_joint(labels, pred_probs, calibrate=True)
    return _noise_from_joint(confident_joint)


def _noise_from_joint(confident_joint: IntArray) -> NoiseEstimate:
    cj = confident_joint.astype(np.float64)
    joint = cj / max(cj.sum(), 1e-16)
    col = joint.sum(axis=0)
    row = joint.sum(axis=1)
    noise = np.divide(joint, col[None, :], out=np.zeros_like(joint), where=col[None, :] > 0)
    inv = np.divide(joint, row[:, None], out=np.zeros_like(joint), where=row[:, None] > 0)
    # a class with no mass: identity column/row (no evidence of noise)
    k = joint.shape[0]
    empty_col = col <= 0
    noise[np.arange(k)[empty_col], np.arange(k)[empty_col]] = 1.0
    empty_row = row <= 0
    inv[np.arange(k)[empty_row], np.arange(k)[empty_row]] = 1.0
    return NoiseEstimate(
        joint=joint,
        noise_matrix=noise,
        inverse_noise_matrix=inv,
        prior=col,
        noise_rate_per_class=1.0 - inv.diagonal(),
        flip_rate_per_true_class=1.0 - noise.diagonal(),
        noise_rate=float(1.0 - np.trace(joint)),
        confident_joint=confident_joint,
    )
