"""Noise matrices, the per-class health table and class imbalance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truelabel import InputError
from truelabel.audit import (
    class_health,
    class_imbalance,
    estimate_noise_matrices,
    find_label_issues,
)

LABELS = np.array([0, 0, 0, 1, 1, 1])
PROBS = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8], [0.1, 0.9], [0.3, 0.7]])


def test_hand_checked_noise_estimate() -> None:
    # calibrated joint [[2, 1], [0, 3]] / 6
    est = estimate_noise_matrices(LABELS, PROBS)
    np.testing.assert_allclose(est.joint, [[2 / 6, 1 / 6], [0, 3 / 6]])
    # P(given | true): column true=0 holds [2, 0] -> [1, 0]; column true=1 holds [1, 3] -> [.25, .75]
    np.testing.assert_allclose(est.noise_matrix, [[1, 0.25], [0, 0.75]])
    # P(true | given): row given=0 holds [2, 1] -> [2/3, 1/3]; row given=1 -> [0, 1]
    np.testing.assert_allclose(est.inverse_noise_matrix, [[2 / 3, 1 / 3], [0, 1]])
    np.testing.assert_allclose(est.prior, [2 / 6, 4 / 6])
    np.testing.assert_allclose(
        est.noise_rate_per_class, [1 / 3, 0]
    )  # share of items GIVEN k that are wrong
    np.testing.assert_allclose(est.flip_rate_per_true_class, [0, 0.25])
    assert est.noise_rate == pytest.approx(1 / 6)


@settings(deadline=None, max_examples=40)
@given(k=st.integers(2, 6), n=st.integers(2, 80), seed=st.integers(0, 2**32 - 1))
def test_matrix_properties(k: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(k, 0.5), size=n)
    labels = rng.integers(0, k, n)
    est = estimate_noise_matrices(labels, probs)
    assert est.joint.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(est.noise_matrix.sum(axis=0), 1.0)
    np.testing.assert_allclose(est.inverse_noise_matrix.sum(axis=1), 1.0)
    assert est.prior.sum() == pytest.approx(1.0)
    assert 0 <= est.noise_rate <= 1
    assert np.all((est.noise_rate_per_class >= 0) & (est.noise_rate_per_class <= 1))


def test_agrees_with_cleanlab_noise_matrix() -> None:
    count = pytest.importorskip("cleanlab.count")
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 4, 3000)
    logits = rng.normal(size=(3000, 4))
    logits[np.arange(3000), truth] += 2.5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.where(rng.random(3000) < 0.2, rng.integers(0, 4, 3000), truth)
    est = estimate_noise_matrices(labels, probs)
    joint = count.estimate_joint(labels, probs)
    np.testing.assert_allclose(est.joint, joint, atol=1e-9)
    # cleanlab's noise matrix adds its own clipping / convergence steps; same direction, close values
    _, nm, inv = count.estimate_latent(count.compute_confident_joint(labels, probs), labels)
    np.testing.assert_allclose(est.noise_matrix, nm, atol=0.05)
    np.testing.assert_allclose(est.inverse_noise_matrix, inv.T, atol=0.05)


def test_class_health_hand_checked() -> None:
    est = estimate_noise_matrices(LABELS, PROBS)
    mask = find_label_issues(LABELS, PROBS)  # item 2 only
    h = class_health(LABELS, PROBS, est, mask)
    assert h["n_items"].tolist() == [3, 3]
    np.testing.assert_allclose(h["estimated_error_rate"], [1 / 3, 0])
    assert h["n_flagged"].tolist() == [1, 0]
    np.testing.assert_allclose(h["flagged_rate"], [1 / 3, 0])
    np.testing.assert_allclose(
        h["mean_self_confidence"], [(0.9 + 0.8 + 0.1) / 3, (0.8 + 0.9 + 0.7) / 3]
    )
    # given 0: 1/3 truly 1 -> top confusion 1 with share 1/3; given 1: no confusion -> -1, 0
    assert h["top_confusion"].tolist() == [1, -1]
    np.testing.assert_allclose(h["top_confusion_share"], [1 / 3, 0])


def test_class_health_bad_inputs() -> None:
    est = estimate_noise_matrices(LABELS, PROBS)
    with pytest.raises(InputError, match="bool array of shape"):
        class_health(LABELS, PROBS, est, np.zeros(5, dtype=bool))
    three = np.full((6, 3), 1 / 3)
    with pytest.raises(InputError, match="estimated for 2 classes but pred_probs has 3"):
        class_health(LABELS, three, est, np.zeros(6, dtype=bool))


def test_class_imbalance() -> None:
    # counts [6, 3, 1]: ratio 1/6; equal share 10/3, half of it 1.67 -> class 2 is a minority
    labels = np.array([0] * 6 + [1] * 3 + [2])
    out = class_imbalance(labels, 3)
    assert out["counts"].tolist() == [6, 3, 1]
    assert out["ratio"] == pytest.approx(1 / 6)
    assert out["minority_classes"].tolist() == [2]
    # an empty class: ratio 0, smallest first
    out = class_imbalance(labels, 4)
    assert out["ratio"] == 0 and out["minority_classes"].tolist() == [3, 2]
    with pytest.raises(InputError, match="n_classes must be an int >= 1"):
        class_imbalance(labels, 0)
    with pytest.raises(InputError, match="only 2 classes"):
        class_imbalance(labels, 2)
    with pytest.raises(InputError, match="empty"):
        class_imbalance(np.array([], dtype=int), 2)
