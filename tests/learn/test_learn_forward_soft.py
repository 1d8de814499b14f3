"""Forward loss correction, DivideMix-style soft relabelling, precomputed pred_probs."""

from __future__ import annotations

import numpy as np
import pytest

from truelabel import InputError
from truelabel.learn import PruneAndRetrain, RobustLogisticRegression, RobustMLPClassifier


def _pair_problem(
    n_train: int = 1000, n_test: int = 1500, k: int = 4, rate: float = 0.4, seed: int = 0
) -> tuple[np.ndarray, ...]:
    """Gaussian clusters; a share `rate` of training labels moved c -> c+1 (class-pair noise)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, 20)) * 1.2
    y = rng.integers(0, k, n_train + n_test)
    X = (centers[y] + rng.normal(size=(len(y), 20)) * 1.5).astype(np.float32)
    ytr = y[:n_train].copy()
    flip = rng.random(n_train) < rate
    ytr[flip] = (ytr[flip] + 1) % k
    return X[:n_train], ytr, X[n_train:], y[n_train:]


def _sym_problem(rate: float = 0.4) -> tuple[np.ndarray, ...]:
    """Gaussian clusters (4 classes); a share `rate` of training labels flipped uniformly."""
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(4, 20))
    y = rng.integers(0, 4, 2300)
    X = (centers[y] + rng.normal(size=(len(y), 20)) * 1.5).astype(np.float32)
    ytr = y[:800].copy()
    flip = rng.random(800) < rate
    ytr[flip] = (ytr[flip] + rng.integers(1, 4, flip.sum())) % 4
    return X[:800], ytr, X[800:], y[800:], flip


def _pair_matrix(k: int, rate: float) -> np.ndarray:
    """noise_matrix[i, j] = P(given i | true j) for c -> c+1 flips."""
    m = np.eye(k) * (1 - rate)
    m[(np.arange(k) + 1) % k, np.arange(k)] += rate
    return m


def _acc(est: object, X: np.ndarray, y: np.ndarray) -> float:
    return float((est.predict(X) == y).mean())  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, ...]:
    return _pair_problem()


def test_forward_correction_beats_ce_under_pair_noise(pair: tuple[np.ndarray, ...]) -> None:
    Xtr, ytr, Xte, yte = pair
    kw = {"epochs": 30, "batch_size": 64, "random_state": 0}
    ce = _acc(RobustLogisticRegression(**kw).fit(Xtr, ytr), Xte, yte)
    fwd = RobustLogisticRegression(loss="forward", noise_matrix=_pair_matrix(4, 0.4), **kw)
    assert _acc(fwd.fit(Xtr, ytr), Xte, yte) > ce + 0.05


def test_soft_relabel_beats_plain_ce_at_40pct_flips() -> None:
    Xtr, ytr, Xte, yte, flipped = _sym_problem()
    kw = {"epochs": 40, "batch_size": 64, "random_state": 0, "hidden_size": 64}
    ce = _acc(RobustMLPClassifier(**kw).fit(Xtr, ytr), Xte, yte)
    soft = PruneAndRetrain(RobustMLPClassifier(**kw), action="soft", n_folds=3).fit(Xtr, ytr)
    assert _acc(soft, Xte, yte) > ce + 0.03
    # the mixture puts the flipped items on the noisy side more often than the clean ones
    w = soft.clean_weight_
    assert w[flipped].mean() < w[~flipped].mean() - 0.2


def test_precomputed_pred_probs_skip_cross_fitting(pair: tuple[np.ndarray, ...]) -> None:
    Xtr, ytr, _, _ = pair
    probs = np.full((len(ytr), 4), 0.02, dtype=np.float32)
    probs[np.arange(len(ytr)), (ytr + 3) % 4] = 0.94  # confident the label is one class off
    est = PruneAndRetrain(RobustLogisticRegression(epochs=3), action="relabel")
    est.fit(Xtr, ytr, pred_probs=probs)
    np.testing.assert_array_equal(est.pred_probs_, probs)
    assert est.label_issues_.mean() > 0.9
    with pytest.raises(InputError, match="pred_probs"):
        est.fit(Xtr, ytr, pred_probs=probs[:10])


def test_forward_bad_input(pair: tuple[np.ndarray, ...]) -> None:
    Xtr, ytr, _, _ = pair
    with pytest.raises(InputError, match="needs noise_matrix"):
        RobustLogisticRegression(loss="forward", epochs=1).fit(Xtr, ytr)
    with pytest.raises(InputError, match=r"shape \(4, 4\)"):
        RobustLogisticRegression(loss="forward", noise_matrix=np.eye(3), epochs=1).fit(Xtr, ytr)
    bad = np.eye(4)
    bad[0, 0] = 0.5
    with pytest.raises(InputError, match="columns sum"):
        RobustLogisticRegression(loss="forward", noise_matrix=bad, epochs=1).fit(Xtr, ytr)
    with pytest.raises(InputError, match="'noise_matrix' parameter"):
        RobustLogisticRegression(loss="forward", noise_matrix=0.3, epochs=1).fit(Xtr, ytr)
    with pytest.raises(InputError, match="'action' parameter"):
        PruneAndRetrain(action="mixup").fit(Xtr, ytr)
