"""Cross-fitted probabilities: out-of-sample, deterministic, permutation-consistent."""

from __future__ import annotations

import numpy as np
import pytest

from truelabel import InputError
from truelabel.crossfit import cross_val_predict_proba


def _blobs(n: int = 300, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    centers = rng.normal(0, 3, (k, 5))
    return (centers[y] + rng.normal(0, 1, (n, 5))).astype(np.float32), y


def test_shape_dtype_rows_sum_to_one() -> None:
    X, y = _blobs()
    p = cross_val_predict_proba(X, y, n_folds=5, random_state=0)
    assert p.shape == (300, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert (p.argmax(1) == y).mean() > 0.9


def test_deterministic_with_seed() -> None:
    X, y = _blobs()
    a = cross_val_predict_proba(X, y, random_state=3)
    b = cross_val_predict_proba(X, y, random_state=3)
    np.testing.assert_array_equal(a, b)


def test_out_of_sample() -> None:
    # Pure-noise features with random labels: an in-sample fit would memorise the labels;
    # out-of-sample probabilities stay near chance.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 50)).astype(np.float32)
    y = rng.integers(0, 2, 400)
    p = cross_val_predict_proba(X, y, random_state=0)
    assert (p.argmax(1) == y).mean() < 0.65


def test_single_class_refused() -> None:
    X, _ = _blobs()
    with pytest.raises(InputError, match="single class"):
        cross_val_predict_proba(X, np.zeros(300, dtype=int))


def test_class_smaller_than_folds_named() -> None:
    X, y = _blobs()
    y[:] = 0
    y[:100] = 1
    y[100:103] = 2
    with pytest.raises(InputError, match=r"fewer items than --folds 5: 'rare' \(3 items\)"):
        cross_val_predict_proba(X, y, class_names=["a", "b", "rare"])


def test_softmax_regression_matches_sklearn_objective() -> None:
    from sklearn.linear_model import LogisticRegression

    from truelabel.crossfit import SoftmaxRegression

    X, y = _blobs(n=400, k=4, seed=2)
    ours = SoftmaxRegression(C=1.0, max_iter=500, tol=1e-7).fit(X, y).predict_proba(X)
    ref = LogisticRegression(C=1.0, max_iter=2000, tol=1e-8).fit(X, y).predict_proba(X)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=5e-3)


def test_ridge_crossfit_matches_a_per_fold_loop_oracle() -> None:
    """The shared-Gram shortcut equals fitting ridge on each fold's training rows."""
    import scipy.linalg as sl
    from sklearn.model_selection import StratifiedKFold

    from truelabel.crossfit._ridge import ridge_cross_val_proba

    X, y = _blobs(n=200, k=3, seed=4)
    folds = [te for _, te in StratifiedKFold(4, shuffle=True, random_state=0).split(X, y)]
    p = ridge_cross_val_proba(X, y, folds, 3, alpha=1e-2)
    Xa = np.hstack([X, np.ones((len(X), 1), np.float32)]).astype(np.float64)
    lam = 1e-2 * np.trace(Xa.T @ Xa) / Xa.shape[1]
    scores = np.zeros((len(X), 3))
    for te in folds:  # slow oracle: refit on the training rows of every fold
        tr = np.setdiff1d(np.arange(len(X)), te)
        reg = lam * np.eye(Xa.shape[1])
        reg[-1, -1] = 1e-8 * lam
        W = sl.solve(Xa[tr].T @ Xa[tr] + reg, Xa[tr].T @ np.eye(3)[y[tr]])
        scores[te] = Xa[te] @ W
    assert (p.argmax(1) == scores.argmax(1)).all()
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-5)
    assert (p.argmax(1) == y).mean() > 0.9


def test_ridge_is_selectable_by_name() -> None:
    X, y = _blobs()
    p = cross_val_predict_proba(X, y, estimator="ridge")
    assert p.shape == (300, 3) and (p.argmax(1) == y).mean() > 0.9
    with pytest.raises(InputError, match="unknown end model 'svm'"):
        cross_val_predict_proba(X, y, estimator="svm")
