"""Robust end models: losses, schemes, soft targets, determinism, bad input, sklearn checks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from truelabel import InputError, NotFittedError
from truelabel.learn import (
    DistilledClassifier,
    PruneAndRetrain,
    RobustLogisticRegression,
    RobustMLPClassifier,
    distillation_targets,
)


def _problem(
    n_train: int = 800,
    n_test: int = 1500,
    d: int = 20,
    k: int = 4,
    rate: float = 0.4,
    seed: int = 0,
) -> tuple[np.ndarray, ...]:
    """Gaussian class clusters; a share `rate` of training labels flipped to another class."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d))
    y = rng.integers(0, k, n_train + n_test)
    X = (centers[y] + rng.normal(size=(len(y), d)) * 1.5).astype(np.float32)
    ytr = y[:n_train].copy()
    flip = rng.random(n_train) < rate
    ytr[flip] = (ytr[flip] + rng.integers(1, k, flip.sum())) % k
    return X[:n_train], ytr, X[n_train:], y[n_train:]


@pytest.fixture(scope="module")
def noisy() -> tuple[np.ndarray, ...]:
    return _problem()


def _acc(est: object, X: np.ndarray, y: np.ndarray) -> float:
    return float((est.predict(X) == y).mean())  # type: ignore[attr-defined]


def test_elr_and_coteaching_beat_plain_ce_at_40pct_flips(noisy: tuple[np.ndarray, ...]) -> None:
    Xtr, ytr, Xte, yte = noisy
    kw = {"epochs": 40, "batch_size": 64, "random_state": 0}
    ce = _acc(RobustMLPClassifier(**kw).fit(Xtr, ytr), Xte, yte)
    elr = _acc(RobustMLPClassifier(loss="elr", **kw).fit(Xtr, ytr), Xte, yte)
    cot = _acc(RobustMLPClassifier(scheme="coteach", forget_rate=0.4, **kw).fit(Xtr, ytr), Xte, yte)
    # measured (seed 0): CE ~0.79, ELR ~0.90, co-teaching ~0.89 — the MLP memorises the flips
    assert elr > ce + 0.03
    assert cot > ce + 0.03


@pytest.mark.parametrize("loss", ["ce", "gce", "sce", "elr"])
@pytest.mark.parametrize("scheme", ["plain", "smallloss", "coteach"])
def test_every_loss_and_scheme_fits(loss: str, scheme: str) -> None:
    Xtr, ytr, Xte, yte = _problem(n_train=300, n_test=300, rate=0.2)
    est = RobustLogisticRegression(loss=loss, scheme=scheme, epochs=8, random_state=1)
    p = est.fit(Xtr, ytr).predict_proba(Xte)
    assert p.shape == (300, 4) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)
    assert _acc(est, Xte, yte) > 0.6
    assert len(est.weights_) == (2 if scheme == "coteach" else 1)
    assert len(est.loss_curve_) == 8


def test_soft_targets_and_string_labels() -> None:
    Xtr, ytr, Xte, yte = _problem(n_train=300, n_test=200, rate=0.0)
    soft = np.full((300, 4), 0.1, dtype=np.float32)
    soft[np.arange(300), ytr] = 0.7
    est = RobustMLPClassifier(epochs=10, hidden_size=32).fit(Xtr, soft)
    assert list(est.classes_) == [0, 1, 2, 3] and est.soft_targets_
    assert _acc(est, Xte, yte) > 0.7
    names = np.array(["a", "b", "c", "d"])[ytr]
    est2 = RobustLogisticRegression(epochs=5).fit(Xtr, names)
    assert set(est2.predict(Xte)) <= {"a", "b", "c", "d"}


def test_sparse_input() -> None:
    Xtr, ytr, Xte, _ = _problem(n_train=200, n_test=50, rate=0.0)
    Xs = sp.csr_matrix(np.maximum(Xtr, 0))
    est = RobustMLPClassifier(epochs=3, hidden_size=16).fit(Xs, ytr)
    assert est.predict_proba(sp.csr_matrix(np.maximum(Xte, 0))).shape == (50, 4)


def test_deterministic_and_leaves_global_rng_alone() -> None:
    Xtr, ytr, Xte, _ = _problem(n_train=200, n_test=50)
    state = torch.get_rng_state().clone()
    a = RobustMLPClassifier(epochs=3, hidden_size=16, random_state=5).fit(Xtr, ytr)
    b = RobustMLPClassifier(epochs=3, hidden_size=16, random_state=5).fit(Xtr, ytr)
    c = RobustMLPClassifier(epochs=3, hidden_size=16, random_state=6).fit(Xtr, ytr)
    assert torch.equal(state, torch.get_rng_state())
    np.testing.assert_array_equal(a.predict_proba(Xte), b.predict_proba(Xte))
    assert not np.array_equal(a.predict_proba(Xte), c.predict_proba(Xte))


def test_prune_and_retrain_flags_flipped_items() -> None:
    Xtr, ytr, Xte, yte = _problem(n_train=600, n_test=500, rate=0.3, seed=2)
    rng = np.random.default_rng(2)
    base = RobustLogisticRegression(epochs=10)
    pr = PruneAndRetrain(base, n_folds=3).fit(Xtr, ytr)
    assert pr.label_issues_.shape == (600,) and pr.pred_probs_.shape == (600, 4)
    assert 0.1 < pr.label_issues_.mean() < 0.5
    assert _acc(pr, Xte, yte) > 0.7
    rl = PruneAndRetrain(base, action="relabel", n_folds=3).fit(Xtr, ytr)
    assert rl.predict_proba(Xte).shape == (500, 4)
    del rng


def test_distillation() -> None:
    # hand check: alpha 0.5, T 1: 0.5 * [1, 0] + 0.5 * [0.2, 0.8] = [0.6, 0.4]
    t = distillation_targets(np.array([0]), np.array([[0.2, 0.8]]), alpha=0.5)
    np.testing.assert_allclose(t, [[0.6, 0.4]], atol=1e-6)
    # T -> large flattens the teacher: 0.5 * [1, 0] + 0.5 * ~[0.5, 0.5]
    t2 = distillation_targets(np.array([0]), np.array([[0.2, 0.8]]), alpha=0.5, temperature=1e6)
    np.testing.assert_allclose(t2, [[0.75, 0.25]], atol=1e-4)
    Xtr, ytr, Xte, yte = _problem(n_train=400, n_test=300, rate=0.2)
    dc = DistilledClassifier(RobustLogisticRegression(epochs=8), n_folds=3).fit(Xtr, ytr)
    assert dc.teacher_probs_.shape == (400, 4) and _acc(dc, Xte, yte) > 0.7
    with pytest.raises(InputError, match="alpha"):
        distillation_targets(np.array([0]), np.array([[0.2, 0.8]]), alpha=2.0)


def test_nan_loss_stops_without_a_model() -> None:
    X = np.full((20, 3), 3e38, dtype=np.float32)
    y = np.arange(20) % 2
    est = RobustLogisticRegression(lr=1e30, epochs=2)
    with pytest.raises(InputError, match="diverged.*no model was produced"):
        est.fit(X, y)
    assert not hasattr(est, "weights_")
    with pytest.raises(NotFittedError):
        est.predict(X)


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.full((10, 2), 0.7), "sums to"),
        (np.array([[np.nan, 1.0]] * 10), "NaN"),
        (np.zeros(10), "only one class"),
        (np.arange(9) % 2, "9 entries"),
        (np.linspace(0, 1, 10), "non-integer"),
        (np.zeros((10, 2, 2)), "shape"),
    ],
)
def test_bad_targets(y: np.ndarray, match: str) -> None:
    X = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    with pytest.raises(InputError, match=match):
        RobustLogisticRegression(epochs=1).fit(X, y)


def test_bad_features_and_params() -> None:
    X = np.random.default_rng(0).normal(size=(10, 3))
    y = np.arange(10) % 2
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        RobustLogisticRegression(epochs=1).fit(Xn, y)
    est = RobustLogisticRegression(epochs=1).fit(X, y)
    with pytest.raises(InputError, match="4 features"):
        est.predict(np.zeros((2, 4)))
    with pytest.raises(InputError, match="'loss' parameter"):
        RobustLogisticRegression(loss="mae").fit(X, y)
    with pytest.raises(InputError, match="'forget_rate' parameter"):
        RobustMLPClassifier(forget_rate=1.0).fit(X, y)


def test_prune_and_retrain_keeps_classes_rarer_than_folds() -> None:
    Xtr, ytr, Xte, _ = _problem(n_train=300, n_test=20, rate=0.1, seed=3)
    ytr = ytr.copy()
    ytr[0] = 7  # a class with a single item cannot be cross-fitted
    pr = PruneAndRetrain(RobustLogisticRegression(epochs=5), n_folds=3).fit(Xtr, ytr)
    assert not pr.label_issues_[0]
    assert list(pr.classes_) == [0, 1, 2, 3, 7]
    assert pr.predict_proba(Xte).shape == (20, 5)
