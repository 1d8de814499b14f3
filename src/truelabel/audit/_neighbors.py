"""k nearest neighbours in feature space: exact (blocked products) or IVF (k-means lists).

Exact search multiplies blocks of rows by the whole matrix and keeps the k
best per row, so memory stays at one (block, N) float32 slab. Above
``exact_max_rows`` an inverted-file index is used: k-means cells over the rows,
and each cell's items are compared only with the items of the ``n_probe``
cells whose centroids are nearest to their own cell's centroid.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._errors import InputError
from .._types import Float32Array, IntArray, RandomState
from .._validation import check_random_state

__all__ = ["nearest_neighbors"]

logger = logging.getLogger(__name__)

_METRICS = ("cosine", "euclidean")
# bytes of the (block, N) similarity slab in exact search
_SLAB_BYTES = 64 * 2**20


def nearest_neighbors(
    X: Any,
    *,
    k: int = 10,
    metric: str = "cosine",
    exact_max_rows: int = 50_000,
    n_probe: int = 8,
    random_state: RandomState = 0,
) -> tuple[IntArray, Float32Array]:
    """Find each row's k nearest other rows.

    Parameters
    ----------
    X : array-like of shape (N, D) or scipy.sparse matrix (e.g. TF-IDF CSR)
        Feature vectors; dense input is used as float32.
    k : int >= 1, default=10
        Neighbours per row. Reduced to ``N - 1`` when ``N <= k``.
    metric : {"cosine", "euclidean"}, default="cosine"
        ``"cosine"`` distance is ``1 - cos(x, y)`` in [0, 2] (an all-zero row is at
        distance 1 from everything); ``"euclidean"`` is the L2 distance.
    exact_max_rows : int, default=50_000
        Up to this many rows the search is exact; above it an approximate IVF index
        (k-means cells, ``round(sqrt(N))`` of them) is used.
    n_probe : int >= 1, default=8
        IVF only: how many nearest cells each cell's items are compared with; more
        is slower and closer to exact.
    random_state : int, Generator or None, default=0
        Seeds the IVF k-means; exact search does not use it.

    Returns
    -------
    indices : ndarray of shape (N, k), int64
        Row numbers of the neighbours, nearest first; a row is never its own
        neighbour (exact duplicates of it can be).
    distances : ndarray of shape (N, k), float32
        The matching distances, ascending along each row.
    """
    data = _check_features(X)
    n = data.shape[0]
    if not (isinstance(k, int | np.integer) and not isinstance(k, bool) and k >= 1):
        raise InputError(f"The 'k' parameter of nearest_neighbors must be an int >= 1. Got {k!r}.")
    if metric not in _METRICS:
        raise InputError(
            f"The 'metric' parameter of nearest_neighbors must be one of {', '.join(map(repr, _METRICS))}. "
            f"Got {metric!r} instead."
        )
    if not (isinstance(n_probe, int | np.integer) and n_probe >= 1):
        raise InputError(f"The 'n_probe' parameter must be an int >= 1. Got {n_probe!r}.")
    if not (isinstance(exact_max_rows, int | np.integer) and exact_max_rows >= 0):
        raise InputError(
            f"The 'exact_max_rows' parameter must be an int >= 0. Got {exact_max_rows!r}."
        )
    rng = check_random_state(random_state)
    k_eff = min(int(k), n - 1)
    return _compute_neighbors(
        data,
        k=k_eff,
        metric=metric,
        exact=n <= exact_max_rows,
        n_probe=int(n_probe),
        rng=rng,
    )


def _check_features(X: Any) -> np.ndarray | sp.csr_matrix:
    if sp.issparse(X):
        data = sp.csr_matrix(X)
        if data.dtype.kind not in "fiub":
            raise InputError(f"X must hold numbers; got dtype {data.dtype}.")
        data = data.astype(np.float32)
        if not np.all(np.isfinite(data.data)):
            raise InputError("X contains NaN or infinite values; fix or drop those rows.")
    else:
        data = np.asarray(X)
        if data.ndim != 2:
            raise InputError(
                f"X must be a 2-D array (N items, D features); got shape {data.shape}."
            )
        if data.dtype.kind not in "fiub":
            raise InputError(f"X must hold numbers; got dtype {data.dtype}.")
        data = np.ascontiguousarray(data, dtype=np.float32)
        bad = ~np.isfinite(data).all(axis=1)
        if bad.any():
            raise InputError(
                f"X row {int(np.flatnonzero(bad)[0])} contains NaN or infinite values "
                f"({int(bad.sum())} rows in all); fix or drop those rows."
            )
    if data.shape[0] < 2:
        raise InputError(f"X has {data.shape[0]} row(s); nearest neighbours need at least 2.")
    if data.shape[1] == 0:
        raise InputError("X has 0 feature columns.")
    return data


def _compute_neighbors(
    data: np.ndarray | sp.csr_matrix,
    *,
    k: int,
    metric: str,
    exact: bool,
    n_probe: int = 8,
    rng: np.random.Generator | None = None,
) -> tuple[IntArray, Float32Array]:
    data, sq_norms = _prepare(data, metric)
    if exact:
        return _exact(data, data, sq_norms, sq_norms, k, metric)
    return _ivf(data, sq_norms, k, metric, n_probe, rng or np.random.default_rng(0))


def _prepare(
    data: np.ndarray | sp.csr_matrix, metric: str
) -> tuple[np.ndarray | sp.csr_matrix, np.ndarray]:
    """Unit rows for cosine; squared norms for euclidean (float32)."""
    if isinstance(data, sp.csr_matrix):
        sq = np.asarray(data.multiply(data).sum(axis=1), dtype=np.float64).ravel()
    else:
        sq = np.einsum("ij,ij->i", data, data, dtype=np.float64)
    if metric == "cosine":
        norms = np.sqrt(sq)
        inv = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0).astype(np.float32)
        if isinstance(data, sp.csr_matrix):
            data = sp.csr_matrix(data.multiply(inv[:, None]))
        else:
            data = data * inv[:, None]
        sq = np.where(norms > 0, 1.0, 0.0)
    return data, sq.astype(np.float32)


def _dot(a: np.ndarray | sp.csr_matrix, b: np.ndarray | sp.csr_matrix) -> np.ndarray:
    """Dense ``a @ b.T`` in float32."""
    prod = a @ b.T
    if sp.issparse(prod):
        prod = prod.toarray()
    return np.asarray(prod, dtype=np.float32)


def _to_distance(sim: np.ndarray, q_sq: np.ndarray, c_sq: np.ndarray, metric: str) -> np.ndarray:
    """In place: similarity slab -> distance slab."""
    if metric == "cosine":
        np.subtract(1.0, sim, out=sim)
    else:
        sim *= -2.0
        sim += q_sq[:, None]
        sim += c_sq[None, :]
        np.maximum(sim, 0.0, out=sim)
        np.sqrt(sim, out=sim)
    np.maximum(sim, 0.0, out=sim)
    return sim


def _topk(dist: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column positions and values of the k smallest per row, ascending."""
    if k < dist.shape[1]:
        part = np.argpartition(dist, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(dist.shape[1]), dist.shape).copy()
    vals = np.take_along_axis(dist, part, axis=1)
    order = np.argsort(vals, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(vals, order, axis=1)


def _exact(
    queries: np.ndarray | sp.csr_matrix,
    base: np.ndarray | sp.csr_matrix,
    q_sq: np.ndarray,
    b_sq: np.ndarray,
    k: int,
    metric: str,
    *,
    query_ids: np.ndarray | None = None,
    base_ids: np.ndarray | None = None,
) -> tuple[IntArray, Float32Array]:
    """Brute force: queries against base, excluding a query's own row.

    Self is identified by ``query_ids[i] == base_ids[j]`` (global row numbers);
    both default to positions, i.e. the queries are the first rows of the base.
    """
    nq, nb = queries.shape[0], base.shape[0]
    if query_ids is None:
        query_ids = np.arange(nq)
    if base_ids is None:
        base_ids = np.arange(nb)
    kk = min(k, nb)
    idx = np.empty((nq, k), dtype=np.int64)
    dist = np.empty((nq, k), dtype=np.float32)
    block = max(1, _SLAB_BYTES // (4 * max(nb, 1)))
    for start in range(0, nq, block):
        stop = min(nq, start + block)
        slab = _to_distance(_dot(queries[start:stop], base), q_sq[start:stop], b_sq, metric)
        is_self = query_ids[start:stop, None] == base_ids[None, :]
        slab[is_self] = np.inf
        pos, vals = _topk(slab, kk)
        idx[start:stop, :kk] = base_ids[pos]
        dist[start:stop, :kk] = vals
        if kk < k:  # fewer candidates than k: pad (only possible inside IVF cells)
            idx[start:stop, kk:] = -1
            dist[start:stop, kk:] = np.inf
    return idx, dist


def _ivf(
    data: np.ndarray | sp.csr_matrix,
    sq: np.ndarray,
    k: int,
    metric: str,
    n_probe: int,
    rng: np.random.Generator,
) -> tuple[IntArray, Float32Array]:
    from sklearn.cluster import MiniBatchKMeans

    n = data.shape[0]
    n_lists = max(2, int(round(math.sqrt(n))))
    n_probe = min(n_probe, n_lists)
    sample = rng.choice(n, size=min(n, 64 * n_lists), replace=False)
    km = MiniBatchKMeans(
        n_clusters=n_lists,
        batch_size=4096,
        n_init=1,
        max_iter=50,
        random_state=int(rng.integers(2**31 - 1)),
    )
    km.fit(data[np.sort(sample)])
    centroids = km.cluster_centers_.astype(np.float32)
    c_sq = np.einsum("ij,ij->i", centroids, centroids).astype(np.float32)
    # assign every row to its nearest centroid (euclidean on the prepared rows)
    assign = np.empty(n, dtype=np.int64)
    block = max(1, _SLAB_BYTES // (4 * n_lists))
    for start in range(0, n, block):
        stop = min(n, start + block)
        d = _to_distance(_dot(data[start:stop], centroids), sq[start:stop], c_sq, "euclidean")
        assign[start:stop] = d.argmin(axis=1)
    # each cell probes the n_probe cells with the nearest centroids (itself first)
    cdist = _to_distance(_dot(centroids, centroids), c_sq, c_sq, "euclidean")
    probes = np.argsort(cdist, axis=1, kind="stable")[:, :n_probe]
    order = np.argsort(assign, kind="stable")
    bounds = np.zeros(n_lists + 1, dtype=np.int64)
    np.cumsum(np.bincount(assign, minlength=n_lists), out=bounds[1:])

    idx = np.full((n, k), -1, dtype=np.int64)
    dist = np.full((n, k), np.inf, dtype=np.float32)
    for c in range(n_lists):
        q_ids = order[bounds[c] : bounds[c + 1]]
        if q_ids.size == 0:
            continue
        cand = np.concatenate([order[bounds[p] : bounds[p + 1]] for p in probes[c]])
        ci, cd = _exact(
            data[q_ids], data[cand], sq[q_ids], sq[cand], k, metric,
            query_ids=q_ids, base_ids=cand,
        )  # fmt: skip
        idx[q_ids], dist[q_ids] = ci, cd
    missing = (idx < 0).any(axis=1)
    if missing.any():  # tiny cells: fall back to exact search for those rows
        rows = np.flatnonzero(missing)
        ri, rd = _exact(data[rows], data, sq[rows], sq, k, metric, query_ids=rows)
        idx[rows], dist[rows] = ri, rd
    logger.debug("IVF kNN: %d rows, %d cells, n_probe=%d", n, n_lists, n_probe)
    return idx, dist
