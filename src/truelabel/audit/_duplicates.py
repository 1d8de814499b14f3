"""Near-duplicates: groups of (almost) identical items, and those whose labels conflict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .._errors import InputError
from .._types import BoolArray, IntArray
from .._validation import check_labels
from ._checks import check_knn_distances, check_knn_indices
from ._neighbors import nearest_neighbors

__all__ = ["NearDuplicates", "find_exact_duplicates", "find_near_duplicates"]


@dataclass(frozen=True)
class NearDuplicates:
    """Groups of near-duplicate items.

    Attributes
    ----------
    group : ndarray of shape (N,), int64
        Group number of each item, ``-1`` when it has no near-duplicate. Groups are
        numbered ``0..G-1`` in order of their lowest item index.
    conflicting : ndarray of shape (N,), bool
        True for items in a group whose members carry different given labels.
    n_groups : int
        G.
    """

    group: IntArray
    conflicting: BoolArray
    n_groups: int


def find_near_duplicates(
    X: Any,
    labels: Any,
    *,
    threshold: float = 0.95,
    knn_indices: Any = None,
    knn_distances: Any = None,
    k: int = 10,
    random_state: int | None = 0,
) -> NearDuplicates:
    """Group items whose cosine similarity to a neighbour is at least ``threshold``.

    Parameters
    ----------
    X : array-like of shape (N, D), sparse matrix, or None
        Features; only used to compute neighbours when ``knn_indices`` /
        ``knn_distances`` are not given (then it may be None).
    labels : array-like of shape (N,)
        Given labels, integer codes.
    threshold : float in (0, 1], default=0.95
        Minimum cosine similarity of a near-duplicate pair (cosine distance
        ``<= 1 - threshold``).
    knn_indices, knn_distances : array-like of shape (N, k), optional
        Precomputed **cosine** neighbours (from ``nearest_neighbors(X, metric="cosine")``).
    k : int, default=10
        Neighbours to compute when they are not given.
    random_state : int or None, default=0
        Passed to :func:`nearest_neighbors` (approximate search only).

    Returns
    -------
    NearDuplicates

    Notes
    -----
    Pairs closer than the threshold become edges of a graph whose connected
    components are the groups (single linkage): a chain a~b~c puts a and c in one
    group even when a and c are further apart. Only the k nearest neighbours of
    each item are considered, so a group is only guaranteed to be found when its
    members are among each other's k nearest neighbours.
    """
    if not (isinstance(threshold, int | float) and 0.0 < threshold <= 1.0):
        raise InputError(
            "The 'threshold' parameter of find_near_duplicates must be a float in the range "
            f"(0, 1]. Got {threshold!r} instead."
        )
    if (knn_indices is None) != (knn_distances is None):
        raise InputError("Pass both knn_indices and knn_distances, or neither.")
    if knn_indices is None:
        if X is None:
            raise InputError(
                "find_near_duplicates needs X or precomputed knn_indices/knn_distances."
            )
        idx, dist = nearest_neighbors(X, k=k, metric="cosine", random_state=random_state)
        labs = check_labels(labels, n_rows=idx.shape[0])
    else:
        dist = check_knn_distances(knn_distances)
        labs = check_labels(labels, n_rows=dist.shape[0])
        idx = check_knn_indices(knn_indices, n_rows=labs.shape[0])
        if idx.shape != dist.shape:
            raise InputError(
                f"knn_indices has shape {idx.shape} but knn_distances has shape {dist.shape}; "
                "they must come from the same nearest_neighbors call."
            )
    return _compute_near_duplicates(labs, idx, dist, float(threshold))


def _compute_near_duplicates(
    labels: IntArray, knn_indices: IntArray, knn_distances: np.ndarray, threshold: float
) -> NearDuplicates:
    n = labels.shape[0]
    close = knn_distances <= (1.0 - threshold) + 1e-6
    rows = np.broadcast_to(np.arange(n)[:, None], knn_indices.shape)[close]
    cols = knn_indices[close]
    graph = sp.coo_matrix((np.ones(rows.shape[0], dtype=np.int8), (rows, cols)), shape=(n, n))
    _, comp = connected_components(graph, directed=True, connection="weak")
    size = np.bincount(comp)
    in_group = size[comp] > 1
    if not in_group.any():
        return NearDuplicates(
            group=np.full(n, -1, dtype=np.int64),
            conflicting=np.zeros(n, dtype=bool),
            n_groups=0,
        )
    return _number_groups(labels, comp, np.flatnonzero(in_group))


def _number_groups(labels: IntArray, comp: IntArray, members: IntArray) -> NearDuplicates:
    """Groups from component ids: ``members`` are the items in multi-member components."""
    n = labels.shape[0]
    group = np.full(n, -1, dtype=np.int64)
    # renumber multi-member components by their lowest item index
    comps, first = np.unique(comp[members], return_index=True)  # first member of each comp
    rank = np.empty(comps.shape[0], dtype=np.int64)
    rank[np.argsort(members[first], kind="stable")] = np.arange(comps.shape[0])
    lookup = np.full(comp.max() + 1, -1, dtype=np.int64)
    lookup[comps] = rank
    group[members] = lookup[comp[members]]
    g = comps.shape[0]
    lo = np.full(g, np.iinfo(np.int64).max)
    hi = np.full(g, np.iinfo(np.int64).min)
    np.minimum.at(lo, group[members], labels[members])
    np.maximum.at(hi, group[members], labels[members])
    conflicting = np.zeros(n, dtype=bool)
    conflicting[members] = (lo != hi)[group[members]]
    return NearDuplicates(group=group, conflicting=conflicting, n_groups=int(g))


def find_exact_duplicates(keys: Any, labels: Any) -> NearDuplicates:
    """Group items with the same key (e.g. the code of their normalised text).

    The fast duplicate check when no features are computed: exact duplicates only, in
    one sort, whatever N is.

    Parameters
    ----------
    keys : array-like of shape (N,), int
        One integer per item, equal for duplicates (e.g. ``pandas.factorize`` of the
        lower-cased, stripped texts); ``-1`` = no key (never a duplicate, e.g. an empty
        text).
    labels : array-like of shape (N,)
        Given labels, integer codes.

    Returns
    -------
    NearDuplicates
        Groups numbered in order of their lowest item index, as
        :func:`find_near_duplicates` does.
    """
    key = np.asarray(keys)
    if key.ndim != 1 or key.dtype.kind not in "iu":
        raise InputError(f"keys must be a 1-D integer array; got {key.dtype} {key.shape}.")
    labs = check_labels(labels, n_rows=key.shape[0])
    n = labs.shape[0]
    group = np.full(n, -1, dtype=np.int64)
    valid = key >= 0
    if not valid.any():
        return NearDuplicates(group=group, conflicting=np.zeros(n, dtype=bool), n_groups=0)
    _, inv, counts = np.unique(key[valid], return_inverse=True, return_counts=True)
    comp = np.full(n, -1, dtype=np.int64)
    comp[valid] = inv.ravel()
    in_group = np.zeros(n, dtype=bool)
    in_group[valid] = counts[inv.ravel()] > 1
    # components of the key-equality graph: reuse the shared numbering and conflict logic
    members = np.flatnonzero(in_group)
    if members.size == 0:
        return NearDuplicates(group=group, conflicting=np.zeros(n, dtype=bool), n_groups=0)
    return _number_groups(labs, comp, members)
