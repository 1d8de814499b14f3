"""Label-quality scores in [0, 1]: lower = more likely mislabelled.

Per-item scores from the predicted probabilities (:func:`get_label_quality_scores`),
from the neighbours in feature space (:func:`get_neighbor_agreement_scores`) and
the one combined score used for ranking (:func:`get_label_quality`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._errors import InputError
from .._types import Float32Array, IntArray
from .._validation import Options, check_labels
from ._checks import check_knn_indices, check_labels_and_probs
from ._confident_joint import BLOCK_ROWS, _compute_thresholds

__all__ = [
    "LABEL_QUALITY_METHODS",
    "NEIGHBOR_WEIGHTS",
    "SCORE_METHODS",
    "choose_neighbor_weight",
    "get_label_quality",
    "get_label_quality_scores",
    "get_neighbor_agreement_scores",
]

_EPS = 1e-6  # cleanlab's CLIPPING_LOWER_BOUND


# --------------------------------------------------------------------------- per-method scores


def _flat_index(labels: IntArray, k: int) -> IntArray:
    """Positions of ``[i, labels[i]]`` in a C-ordered (n, K) block, flattened."""
    return np.arange(labels.shape[0]) * k + labels


def _self_confidence(labels: IntArray, probs: np.ndarray) -> np.ndarray:
    """``p[label]``."""
    block = np.ascontiguousarray(probs)
    return block.reshape(-1)[_flat_index(labels, block.shape[1])].astype(np.float64)


def _normalized_margin(labels: IntArray, probs: np.ndarray) -> np.ndarray:
    """``(p[label] - max_{j != label} p[j] + 1) / 2``.

    Works on cache-sized (4096, K) pieces transposed to (K, 4096): the label
    entries are masked in the copy and the column max is a fast reduction
    across rows (about 2x faster than ``max(axis=1)`` on the (n, K) layout).
    """
    out = np.empty(labels.shape[0], dtype=np.float64)
    step = 4096
    for start in range(0, labels.shape[0], step):
        lab = labels[start : start + step]
        # always a copy (ascontiguousarray would return a view for a single row): written below
        t = np.array(probs[start : start + step].T, order="C", copy=True)  # (K, b)
        cols = np.arange(lab.shape[0])
        own = t[lab, cols].astype(np.float64)
        t[lab, cols] = -1.0
        out[start : start + step] = (own - t.max(axis=0) + 1.0) / 2.0
    return out


def _confidence_weighted_entropy(labels: IntArray, probs: np.ndarray) -> np.ndarray:
    """``log(1 + x) / x`` with ``x = H(p') / log(K) / p'[label]``, ``p' = (p + 1e-6) / Z``.

    The smoothing ``p'`` keeps the score meaningful for one-hot predictions, where
    cleanlab 2.9's formula divides 0 by a clipped 1e-6 and returns 0 ("surely
    mislabelled") for a certain, *correct* prediction; here that case scores ~1 and
    a certain prediction of another class scores ~0. Elsewhere the scores equal
    cleanlab's within ~5e-4 (each near-zero probability adds ~1e-6 * log(1e-6)).
    """
    block = np.ascontiguousarray(probs)
    k = block.shape[1]
    # smoothing, log and the row sums stay in the input dtype (float32: ~1e-7 relative)
    smooth = block + block.dtype.type(_EPS)
    smooth *= block.dtype.type(1.0 / (1.0 + k * _EPS))
    entropy = -np.einsum("ij,ij->i", np.log(smooth), smooth).astype(np.float64) / np.log(k)
    own = smooth.reshape(-1)[_flat_index(labels, k)].astype(np.float64)
    x = np.clip(entropy, 0.0, None) / own
    return np.log1p(x) / np.clip(x, 1e-12, None)


def _blocked(
    fn: Callable[[IntArray, np.ndarray], np.ndarray], labels: IntArray, probs: np.ndarray
) -> Float32Array:
    """Apply a per-row score in blocks of rows; float32 (N,) clipped to [0, 1]."""
    out = np.empty(labels.shape[0], dtype=np.float32)
    for start in range(0, labels.shape[0], BLOCK_ROWS):
        stop = start + BLOCK_ROWS
        out[start:stop] = fn(labels[start:stop], probs[start:stop])
    np.clip(out, 0.0, 1.0, out=out)
    return out


_SCORE_FUNCS: dict[str, Callable[[IntArray, np.ndarray], np.ndarray]] = {
    "self_confidence": _self_confidence,
    "normalized_margin": _normalized_margin,
    "confidence_weighted_entropy": _confidence_weighted_entropy,
}

SCORE_METHODS: tuple[str, ...] = tuple(_SCORE_FUNCS)


def _compute_label_quality_scores(
    labels: IntArray, pred_probs: np.ndarray, *, method: str = "self_confidence"
) -> Float32Array:
    return _blocked(_SCORE_FUNCS[method], labels, pred_probs)


def get_label_quality_scores(
    labels: Any, pred_probs: Any, *, method: str = "self_confidence"
) -> Float32Array:
    """Score how likely each given label is correct, from predicted probabilities.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given labels, integer codes in ``[0, K)``.
    pred_probs : array-like of shape (N, K)
        Out-of-sample predicted probabilities; rows sum to 1.
    method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        - ``"self_confidence"``: ``p[label]``.
        - ``"normalized_margin"``: ``(p[label] - max_{j != label} p[j] + 1) / 2``.
        - ``"confidence_weighted_entropy"``: ``log(1 + x) / x`` with
          ``x = normalized entropy / p[label]``, on probabilities smoothed by 1e-6.

        The same definitions as ``cleanlab.rank.get_label_quality_scores``, except
        that the entropy score smooths the probabilities so that a one-hot
        prediction of the given label scores ~1, not 0 as in cleanlab 2.9.

    Returns
    -------
    label_quality : ndarray of shape (N,), float32
        In [0, 1]; **lower = more likely mislabelled**. Computed in float64 per
        block of rows, returned as float32 whatever the input dtype.
    """
    labs, probs = check_labels_and_probs(labels, pred_probs)
    _check_option("get_label_quality_scores", "method", method, SCORE_METHODS)
    return _compute_label_quality_scores(labs, probs, method=method)


def _check_option(func: str, name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if not Options(allowed).accepts(value):
        raise InputError(
            f"The {name!r} parameter of {func} must be {Options(allowed).describe()}. "
            f"Got {value!r} instead."
        )


# --------------------------------------------------------------------------- neighbours


def get_neighbor_agreement_scores(
    labels: Any,
    knn_indices: Any,
    *,
    pred_probs: Any = None,
    n_classes: int | None = None,
) -> Float32Array:
    """How much an item's nearest neighbours agree with its given label.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given labels, integer codes in ``[0, K)``.
    knn_indices : array-like of shape (N, k), int
        Row numbers of each item's k nearest neighbours, self excluded (from
        :func:`nearest_neighbors`).
    pred_probs : array-like of shape (N, K), optional
        When given, an item's score is the mean over its neighbours of their
        predicted probability of the item's given class (soft, uses the model).
        Otherwise it is the share of neighbours whose *given* label equals the
        item's (hard, label-only).
    n_classes : int, optional
        K, when ``pred_probs`` is not given (defaults to ``max(labels) + 1``).

    Returns
    -------
    agreement : ndarray of shape (N,), float32
        In [0, 1]; **lower = neighbours disagree with the label** (more likely
        mislabelled).
    """
    if pred_probs is not None:
        labs, probs = check_labels_and_probs(labels, pred_probs)
    else:
        labs = check_labels(labels, n_classes=n_classes)
        probs = None
        if labs.shape[0] == 0:
            raise InputError("labels is empty; the audit needs at least one item.")
    idx = check_knn_indices(knn_indices, n_rows=labs.shape[0])
    return _compute_neighbor_agreement(labs, idx, probs)


def _compute_neighbor_agreement(
    labels: IntArray, knn_indices: IntArray, pred_probs: np.ndarray | None = None
) -> Float32Array:
    n, k = knn_indices.shape
    out = np.empty(n, dtype=np.float32)
    if k == 0:
        out[:] = 1.0
        return out
    block = max(1, BLOCK_ROWS // 4)
    for start in range(0, n, block):
        nb = knn_indices[start : start + block]  # (b, k)
        lab = labels[start : start + block]
        if pred_probs is None:
            agree = (labels[nb] == lab[:, None]).mean(axis=1)
        else:
            agree = pred_probs[nb, lab[:, None]].astype(np.float64).mean(axis=1)
        out[start : start + block] = agree
    np.clip(out, 0.0, 1.0, out=out)
    return out


# --------------------------------------------------------------------------- combined


def _lq_self_confidence(labels: IntArray, probs: np.ndarray) -> np.ndarray:
    return _self_confidence(labels, probs)


def _adjusted_margin(labels: IntArray, probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Normalized margin on threshold-adjusted probabilities.

    ``p' = (p - t + max(t)) / sum`` with ``t`` the per-class confidence thresholds
    (cleanlab's ``adjust_pred_probs``): a class the model is always sure of no
    longer dominates, so rare or hard classes are judged on the same scale.
    """
    adj = probs.astype(np.float64) - thresholds[None, :]
    adj += thresholds.max()
    adj /= adj.sum(axis=1, keepdims=True)
    return _normalized_margin(labels, adj)


_COMBINED_METHODS = (
    "self_confidence",
    "normalized_margin",
    "confidence_weighted_entropy",
    "adjusted_margin",
    "margin_x_confidence",
)

LABEL_QUALITY_METHODS: tuple[str, ...] = _COMBINED_METHODS

# weight of the neighbour-agreement score in the combined score, when neighbours are given
# (the best fixed weight on the real-noise suite; the audit chooses it per data set instead,
# with choose_neighbor_weight)
NEIGHBOR_WEIGHT = 0.5


def get_label_quality(
    labels: Any,
    pred_probs: Any,
    *,
    knn_indices: Any = None,
    method: str = "normalized_margin",
    neighbor_weight: float = NEIGHBOR_WEIGHT,
) -> Float32Array:
    """The one combined label-quality score used to rank items for review.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given labels, integer codes in ``[0, K)``.
    pred_probs : array-like of shape (N, K)
        Out-of-sample predicted probabilities; rows sum to 1.
    knn_indices : array-like of shape (N, k), optional
        Each item's nearest neighbours (self excluded). When given, the score is
        ``(1 - neighbor_weight) * model_score + neighbor_weight * agreement`` where
        ``agreement`` is :func:`get_neighbor_agreement_scores` with ``pred_probs``.
    method : str, default="normalized_margin"
        The model-based part: one of ``"self_confidence"``, ``"normalized_margin"``,
        ``"confidence_weighted_entropy"`` (see :func:`get_label_quality_scores`),
        ``"adjusted_margin"`` (normalized margin after subtracting each class's
        confidence threshold), or ``"margin_x_confidence"`` (the geometric mean of
        normalized margin and self-confidence). The default was chosen by
        ``benchmarks/bench_audit_given_probs.py`` (average precision against
        human-confirmed errors on CIFAR-10 and MNIST; evidence in
        ``benchmarks/results/audit_given_probs.json``).
    neighbor_weight : float in [0, 1], default=0.5
        Weight of neighbour agreement when ``knn_indices`` is given. 0.5 had the best
        mean AP of the fixed weights on the real-noise suite (11 text sets, raw-text
        mode), but its effect changes sign from set to set (-0.02 to +0.05 AP), so
        :func:`truelabel.audit.audit` chooses the weight on each data set with
        :func:`choose_neighbor_weight` instead, and uses none with probabilities you
        give (``benchmarks/bench_real_noise.py``; BENCHMARKS.md).

    Returns
    -------
    label_quality : ndarray of shape (N,), float32
        In [0, 1]; **lower = more likely mislabelled**. Sort ascending to review.
    """
    labs, probs = check_labels_and_probs(labels, pred_probs)
    _check_option("get_label_quality", "method", method, LABEL_QUALITY_METHODS)
    if not (isinstance(neighbor_weight, int | float) and 0.0 <= neighbor_weight <= 1.0):
        raise InputError(
            "The 'neighbor_weight' parameter of get_label_quality must be a float in the "
            f"range [0, 1]. Got {neighbor_weight!r} instead."
        )
    idx = None if knn_indices is None else check_knn_indices(knn_indices, n_rows=labs.shape[0])
    return _compute_label_quality(
        labs, probs, knn_indices=idx, method=method, neighbor_weight=float(neighbor_weight)
    )


def _compute_label_quality(
    labels: IntArray,
    pred_probs: np.ndarray,
    *,
    knn_indices: IntArray | None = None,
    method: str = "normalized_margin",
    neighbor_weight: float = NEIGHBOR_WEIGHT,
) -> Float32Array:
    if method in _SCORE_FUNCS:
        score = _compute_label_quality_scores(labels, pred_probs, method=method)
    elif method == "adjusted_margin":
        t = _compute_thresholds(labels, pred_probs)
        t = np.where(t > 1.0, 1.0, t)

        def fn(lab: IntArray, p: np.ndarray) -> np.ndarray:
            return _adjusted_margin(lab, p, t)

        score = _blocked(fn, labels, pred_probs)
    else:  # margin_x_confidence

        def fn(lab: IntArray, p: np.ndarray) -> np.ndarray:
            return np.sqrt(_normalized_margin(lab, p) * _self_confidence(lab, p))

        score = _blocked(fn, labels, pred_probs)
    if knn_indices is not None and neighbor_weight > 0:
        agree = _compute_neighbor_agreement(labels, knn_indices, pred_probs)
        score = ((1.0 - neighbor_weight) * score + neighbor_weight * agree).astype(np.float32)
        np.clip(score, 0.0, 1.0, out=score)
    return score


# --------------------------------------------------------------------------- choosing the weight

#: The neighbour weights :func:`choose_neighbor_weight` compares.
NEIGHBOR_WEIGHTS: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5)


def choose_neighbor_weight(
    labels: Any,
    pred_probs: Any,
    knn_indices: Any,
    folds: Any,
    *,
    weights: tuple[float, ...] = NEIGHBOR_WEIGHTS,
) -> tuple[float, dict[float, float]]:
    """Choose the neighbour weight of :func:`get_label_quality` on the data at hand.

    Neighbour agreement uses the neighbours' out-of-sample probabilities, so whether it
    helps can be measured like a model: for each candidate weight ``w``, the probabilities
    ``(1 - w) * p_i + w * mean_j p_j`` (``j`` over item ``i``'s neighbours) are scored by
    their log-likelihood of the given labels. Only neighbours cross-fitted in the *same
    fold* as ``i`` enter the mean: their model never saw item ``i``, so its own label
    cannot leak into its score. The weight with the lowest log-loss wins (ties: the
    smaller weight).

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given labels, integer codes in ``[0, K)``.
    pred_probs : array-like of shape (N, K)
        Cross-fitted probabilities.
    knn_indices : array-like of shape (N, k)
        Each item's nearest neighbours (self excluded); use more than the audit shows
        (e.g. 30) so that several share each item's fold.
    folds : array-like of shape (N,), int
        The fold that predicted each item (:func:`truelabel.crossfit.fold_ids`).
    weights : tuple of float in [0, 1]
        Candidates (must include 0).

    Returns
    -------
    weight : float
        The chosen weight.
    log_loss : dict of float to float
        Mean negative log-likelihood of the given labels for each candidate weight.
    """
    labs, probs = check_labels_and_probs(labels, pred_probs)
    idx = check_knn_indices(knn_indices, n_rows=labs.shape[0])
    fold = np.asarray(folds)
    if fold.shape != labs.shape or fold.dtype.kind not in "iu":
        raise InputError(f"folds must be an int array of shape {labs.shape}; got {fold.shape}.")
    if 0.0 not in weights or not all(0.0 <= w <= 1.0 for w in weights):
        raise InputError(f"weights must lie in [0, 1] and include 0; got {weights!r}.")
    return _compute_neighbor_weight(labs, probs, idx, fold, weights)


def _compute_neighbor_weight(
    labels: IntArray,
    pred_probs: np.ndarray,
    knn_indices: IntArray,
    folds: np.ndarray,
    weights: tuple[float, ...],
) -> tuple[float, dict[float, float]]:
    n = labels.shape[0]
    own = np.empty(n, dtype=np.float64)  # p_i[y_i]
    nb = np.empty(n, dtype=np.float64)  # mean over same-fold neighbours of p_j[y_i]
    block = max(1, BLOCK_ROWS // 4)
    for start in range(0, n, block):
        stop = min(n, start + block)
        lab = labels[start:stop]
        kn = knn_indices[start:stop]
        own[start:stop] = pred_probs[np.arange(start, stop), lab]
        same = (folds[kn] == folds[start:stop, None]) & (kn >= 0)
        vals = pred_probs[kn, lab[:, None]].astype(np.float64)
        cnt = same.sum(axis=1)
        mean = (vals * same).sum(axis=1) / np.maximum(cnt, 1)
        nb[start:stop] = np.where(cnt > 0, mean, own[start:stop])  # no such neighbour: no change
    losses = {
        float(w): float(-np.log(np.clip((1.0 - w) * own + w * nb, 1e-12, None)).mean())
        for w in weights
    }
    best = min(losses, key=lambda w: (round(losses[w], 9), w))
    return best, losses
