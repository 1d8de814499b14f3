"""Outliers: items far from their nearest neighbours."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import InputError
from .._types import BoolArray, Float32Array
from ._checks import check_knn_distances

__all__ = ["find_outliers", "get_outlier_scores"]

# 1.4826 * MAD estimates the standard deviation of normal data
_MAD_TO_SD = 1.4826


def _mean_distance(knn_distances: np.ndarray) -> np.ndarray:
    return knn_distances.astype(np.float64).mean(axis=1)


def get_outlier_scores(knn_distances: Any) -> Float32Array:
    """How typical each item is, from its mean distance to its k nearest neighbours.

    Parameters
    ----------
    knn_distances : array-like of shape (N, k)
        Distances to each item's nearest neighbours (from :func:`nearest_neighbors`).

    Returns
    -------
    typicality : ndarray of shape (N,), float32
        ``exp(-d / median(d))`` with ``d`` the mean kNN distance of the item, in
        (0, 1]; **higher = more typical, lower = more of an outlier**. An item at
        the median distance scores ``exp(-1) ~ 0.37``; items with zero distance
        (exact duplicates) score 1.
    """
    dist = check_knn_distances(knn_distances)
    return _compute_outlier_scores(dist)


def _compute_outlier_scores(knn_distances: np.ndarray) -> Float32Array:
    d = _mean_distance(knn_distances)
    scale = float(np.median(d))
    if scale <= 0:
        scale = float(d.mean()) if d.mean() > 0 else 1.0
    return np.exp(-d / scale).astype(np.float32)


def find_outliers(knn_distances: Any, *, threshold: float = 3.5) -> BoolArray:
    """Flag items whose mean kNN distance is unusually large (robust z-score).

    Parameters
    ----------
    knn_distances : array-like of shape (N, k)
        Distances to each item's nearest neighbours.
    threshold : float > 0, default=3.5
        An item is an outlier when ``(d - median(d)) / (1.4826 * MAD(d)) > threshold``
        with ``d`` the mean kNN distance (Iglewicz–Hoaglin's modified z-score;
        3.5 is their recommended cut-off). When the MAD is 0, items above the
        99th percentile of ``d`` and strictly above the median are flagged.

    Returns
    -------
    is_outlier : ndarray of shape (N,), bool
    """
    if not (isinstance(threshold, int | float) and not isinstance(threshold, bool)) or not (
        threshold > 0
    ):
        raise InputError(
            "The 'threshold' parameter of find_outliers must be a float in the range (0, inf). "
            f"Got {threshold!r} instead."
        )
    dist = check_knn_distances(knn_distances)
    return _compute_find_outliers(dist, float(threshold))


def _compute_find_outliers(knn_distances: np.ndarray, threshold: float = 3.5) -> BoolArray:
    d = _mean_distance(knn_distances)
    med = float(np.median(d))
    mad = float(np.median(np.abs(d - med)))
    if mad > 0:
        return (d - med) / (_MAD_TO_SD * mad) > threshold
    return (d > np.quantile(d, 0.99)) & (d > med)
