"""nearest_neighbors: exact vs scikit-learn, sparse input, IVF recall, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

from truelabel import InputError
from truelabel.audit import nearest_neighbors


def _clustered(n: int, d: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(20, d))
    return (centers[rng.integers(0, 20, n)] + 0.5 * rng.normal(size=(n, d))).astype(np.float32)


def test_hand_checked_line() -> None:
    # points on a line at 0, 1, 3, 7: nearest of 0 is 1 (d=1), of 3 is 1 (d=2), of 7 is 3 (d=4)
    X = np.array([[0.0], [1.0], [3.0], [7.0]], dtype=np.float32)
    idx, dist = nearest_neighbors(X, k=2, metric="euclidean")
    assert idx.tolist() == [[1, 2], [0, 2], [1, 0], [2, 1]]
    np.testing.assert_allclose(dist, [[1, 3], [1, 2], [2, 3], [4, 6]])
    assert idx.dtype == np.int64 and dist.dtype == np.float32


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_exact_matches_sklearn(metric: str) -> None:
    X = _clustered(600)
    idx, dist = nearest_neighbors(X, k=5, metric=metric)
    ref_d, ref_i = (
        NearestNeighbors(n_neighbors=6, metric=metric, algorithm="brute").fit(X).kneighbors(X)
    )
    np.testing.assert_allclose(dist, ref_d[:, 1:], atol=1e-4)
    assert (idx != np.arange(600)[:, None]).all()  # never self
    assert np.mean(idx == ref_i[:, 1:]) > 0.99  # equal up to float ties


def test_sparse_csr_matches_dense() -> None:
    rng = np.random.default_rng(1)
    dense = (rng.random((300, 50)) < 0.1) * rng.random((300, 50))
    dense[0] = 0  # an all-zero row is at cosine distance 1 from everything
    i1, d1 = nearest_neighbors(sp.csr_matrix(dense), k=4)
    i2, d2 = nearest_neighbors(dense, k=4)
    np.testing.assert_allclose(d1, d2, atol=1e-5)
    np.testing.assert_allclose(d1[0], 1.0, atol=1e-6)


def test_ivf_recall_vs_exact() -> None:
    X = _clustered(1500, seed=2)
    exact, _ = nearest_neighbors(X, k=10)
    approx, dist = nearest_neighbors(X, k=10, exact_max_rows=100, random_state=0)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx, exact, strict=True)])
    assert recall >= 0.95  # measured 0.9999 on a 3000-row version of this clustered set
    assert (approx != np.arange(1500)[:, None]).all()
    assert (np.diff(dist, axis=1) >= 0).all()
    again, _ = nearest_neighbors(X, k=10, exact_max_rows=100, random_state=0)
    np.testing.assert_array_equal(approx, again)  # same seed, same index


def test_k_is_reduced_for_tiny_inputs() -> None:
    idx, dist = nearest_neighbors(np.eye(3, dtype=np.float32), k=10)
    assert idx.shape == (3, 2) and dist.shape == (3, 2)


def test_exact_duplicates_are_neighbours_at_distance_zero() -> None:
    X = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    idx, dist = nearest_neighbors(X, k=1)
    assert idx[0, 0] == 1 and idx[1, 0] == 0
    assert dist[0, 0] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("X", "kwargs", "match"),
    [
        (np.ones(5), {}, "2-D array"),
        (np.array([[1.0, np.nan], [1.0, 2.0]]), {}, "row 0 contains NaN"),
        (np.ones((1, 3)), {}, "at least 2"),
        (np.ones((4, 3)), {"k": 0}, "'k' parameter"),
        (np.ones((4, 3)), {"metric": "manhattan"}, "'metric' parameter .* 'cosine'"),
        (np.array([["a", "b"], ["c", "d"]]), {}, "must hold numbers"),
        (np.ones((4, 0)), {}, "0 feature columns"),
        (sp.csr_matrix(np.array([[1.0, np.inf], [1.0, 2.0]])), {}, "NaN or infinite"),
    ],
)
def test_bad_inputs(X: np.ndarray, kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        nearest_neighbors(X, **kwargs)
