"""Near-duplicate groups and label conflicts."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from truelabel import InputError
from truelabel.audit import find_near_duplicates, nearest_neighbors


def test_hand_checked_groups() -> None:
    # rows 0 and 3 identical (labels 0, 1 -> conflict); rows 1 and 4 at cosine ~0.9999 with the
    # same label; row 2 alone. Groups numbered by lowest member: {0, 3} -> 0, {1, 4} -> 1.
    X = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0.01]], dtype=np.float32)
    labels = np.array([0, 1, 2, 1, 1])
    dup = find_near_duplicates(X, labels, threshold=0.95, k=2)
    assert dup.group.tolist() == [0, 1, -1, 0, 1]
    assert dup.conflicting.tolist() == [True, False, False, True, False]
    assert dup.n_groups == 2 and dup.group.dtype == np.int64


def test_precomputed_neighbours_and_sparse() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((50, 20))
    X[10] = X[20]
    X[30] = X[20] * 2  # same direction: cosine 1
    labels = rng.integers(0, 3, 50)
    labels[[10, 20, 30]] = [1, 1, 1]
    idx, dist = nearest_neighbors(sp.csr_matrix(X), k=5)
    dup = find_near_duplicates(None, labels, knn_indices=idx, knn_distances=dist, threshold=0.999)
    assert np.flatnonzero(dup.group >= 0).tolist() == [10, 20, 30]
    assert not dup.conflicting.any()


def test_no_duplicates() -> None:
    dup = find_near_duplicates(np.eye(4, dtype=np.float32), [0, 1, 2, 3])
    assert (dup.group == -1).all() and dup.n_groups == 0 and not dup.conflicting.any()


def test_permutation_invariance_of_partition() -> None:
    rng = np.random.default_rng(3)
    base = rng.random((20, 8))
    X = np.vstack([base, base[:5] + 1e-4])
    labels = rng.integers(0, 2, 25)
    perm = rng.permutation(25)
    a = find_near_duplicates(X, labels)
    b = find_near_duplicates(X[perm], labels[perm])
    # same partition (numbering may differ) and same conflicts
    same_a = a.group[:, None] == a.group[None, :]
    same_b = b.group[:, None] == b.group[None, :]
    np.testing.assert_array_equal(
        same_a[np.ix_(perm, perm)] & (a.group[perm] >= 0)[:, None], same_b & (b.group >= 0)[:, None]
    )
    np.testing.assert_array_equal(a.conflicting[perm], b.conflicting)


def test_bad_inputs() -> None:
    X = np.eye(3, dtype=np.float32)
    with pytest.raises(InputError, match="'threshold' parameter of find_near_duplicates"):
        find_near_duplicates(X, [0, 1, 2], threshold=1.5)
    with pytest.raises(InputError, match="both knn_indices and knn_distances"):
        find_near_duplicates(X, [0, 1, 2], knn_indices=np.zeros((3, 1), dtype=int))
    with pytest.raises(InputError, match="needs X or precomputed"):
        find_near_duplicates(None, [0, 1, 2])
    with pytest.raises(InputError, match="shape"):
        find_near_duplicates(
            None, [0, 1, 2], knn_indices=np.zeros((3, 2), dtype=int), knn_distances=np.zeros((3, 1))
        )
    with pytest.raises(InputError, match="length 2"):
        find_near_duplicates(X, [0, 1])
