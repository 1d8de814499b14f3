"""Calibration on noisy labels: weighted conformal quantile, true-label weights, conformal
sets that cover the true labels, noise-aware temperature with a shrunk noise matrix."""

from __future__ import annotations

import numpy as np
import pytest

from truelabel import InputError
from truelabel.calibrate import (
    ConformalClassifier,
    TemperatureScaling,
    conformal_quantile,
    expected_calibration_error,
    true_label_weights,
    weighted_conformal_quantile,
)


def _sim(n: int, k: int, seed: int, scale: float = 2.5) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated probabilities and true labels drawn from them."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k)) * scale
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    y = np.minimum((rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1), k - 1)
    return p, y


def _flip(y: np.ndarray, k: int, rate: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    flip = rng.random(len(y)) < rate
    out = y.copy()
    out[flip] = (y[flip] + rng.integers(1, k, flip.sum())) % k
    return out


def _symmetric(k: int, rate: float) -> np.ndarray:
    m = np.full((k, k), rate / (k - 1))
    np.fill_diagonal(m, 1 - rate)
    return m


def test_weighted_quantile_equals_plain_for_one_hot_weights() -> None:
    rng = np.random.default_rng(0)
    for n in (9, 50, 333):
        s = rng.random(n)
        scores = np.column_stack([s, np.full(n, 5.0)])  # second class never the label
        w = np.column_stack([np.ones(n), np.zeros(n)])
        for a in (0.1, 0.05, 0.3):
            assert weighted_conformal_quantile(scores, w, a) == conformal_quantile(s, a)


def test_weighted_quantile_hand_checked_with_negative_weights() -> None:
    # 4 pairs; coverage after each sorted score: 0.5, 0.25, 0.75, 1.0 (of total 2)
    scores = np.array([[0.1, 0.2], [0.3, 0.4]])
    w = np.array([[1.0, -0.5], [1.0, 0.5]])
    # target (1 - 0.5) * (2 + 1) / 2 = 0.75: reached at the third score (0.3)
    assert weighted_conformal_quantile(scores, w, 0.5, n=2) == pytest.approx(0.3)
    # too few items for alpha = 0.05: (0.95 * 3 / 2) > 1
    assert weighted_conformal_quantile(scores, w, 0.05, n=2) == np.inf


def test_true_label_weights_invert_is_unbiased_and_posterior_is_bayes() -> None:
    k = 3
    nm = np.array([[0.8, 0.1, 0.0], [0.2, 0.7, 0.3], [0.0, 0.2, 0.7]])
    labels = np.array([0, 1, 2, 1])
    w = true_label_weights(labels, nm)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-9)
    # E[w | true = j] = sum_i N[i, j] N^-1[:, i] = e_j
    inv = np.linalg.inv(nm)
    np.testing.assert_allclose(inv @ nm, np.eye(k), atol=1e-9)
    p = np.array([[0.6, 0.3, 0.1]] * 4)
    post = true_label_weights(labels, nm, method="posterior", probs=p)
    expect = p[0] * nm[1]
    np.testing.assert_allclose(post[1], expect / expect.sum())
    with pytest.raises(InputError, match="posterior"):
        true_label_weights(labels, nm, method="posterior")
    with pytest.raises(InputError, match="sum to 1"):
        true_label_weights(labels, nm * 2)


@pytest.mark.parametrize("correction", ["invert", "posterior"])
def test_noisy_calibration_covers_true_labels(correction: str) -> None:
    """20% symmetric noise on the calibration labels: plain sets over-cover the true labels
    (about 0.99 at 90%); with the noise matrix they cover at the level (simulation, 30
    repetitions; measured 0.896-0.902 / 0.947-0.950, bound 0.015)."""
    k, rate = 5, 0.2
    nm = _symmetric(k, rate)
    covs: dict[str, dict[float, list[float]]] = {"plain": {}, "noisy": {}}
    for rep in range(30):
        p, y = _sim(3000, k, rep)
        yn = _flip(y, k, rate, 100 + rep)
        for a in (0.1, 0.05):
            plain = ConformalClassifier(alpha=a, include_top=True).fit(p[:1000], yn[:1000])
            fixed = ConformalClassifier(
                alpha=a, noise_matrix=nm, noise_correction=correction, include_top=True
            ).fit(p[:1000], yn[:1000])
            covs["plain"].setdefault(a, []).append(plain.coverage(p[1000:], y[1000:]))
            covs["noisy"].setdefault(a, []).append(fixed.coverage(p[1000:], y[1000:]))
    for a in (0.1, 0.05):
        assert np.mean(covs["plain"][a]) > 1 - a + 0.04
        assert abs(np.mean(covs["noisy"][a]) - (1 - a)) < 0.015


def test_include_top_scores_the_top_class_as_always_in() -> None:
    """With ``include_top`` an item whose label is its top class never raises the threshold,
    and no set is empty (the model artifact adds the top class to every set)."""
    p = np.array([[0.9, 0.1], [0.6, 0.4], [0.55, 0.45], [0.2, 0.8]] * 5)
    y = np.array([0, 0, 1, 1] * 5)  # one in four labels is not the top class
    plain = ConformalClassifier(alpha=0.3).fit(p, y)
    top = ConformalClassifier(alpha=0.3, include_top=True).fit(p, y)
    # plain: scores 0.1, 0.4, 0.55, 0.2 (x5), rank ceil(21 * 0.7) = 15 of 20 -> 0.4;
    # include_top: the three top-class labels score -1, rank 15 -> still -1, so the sets
    # are the top class only (coverage 15/20 = 0.75 >= 0.7)
    assert plain.quantile_ == pytest.approx(0.4)
    assert top.quantile_ == -1.0
    sets = top.predict_sets(p)
    assert (sets.sum(axis=1) == 1).all() and sets[np.arange(20), p.argmax(axis=1)].all()


def test_soft_calibration_labels_and_bad_combinations() -> None:
    p, y = _sim(2000, 4, 3)
    # soft labels = the (calibrated) probabilities themselves: coverage of labels drawn
    # from them stays at the level
    cc = ConformalClassifier(alpha=0.1, include_top=True).fit(p[:1000], p[:1000])
    assert abs(cc.coverage(p[1000:], y[1000:]) - 0.9) < 0.03
    assert cc.label_weights_.shape == (1000, 4)
    with pytest.raises(InputError, match="not both"):
        ConformalClassifier(noise_matrix=np.eye(4)).fit(p, p)
    with pytest.raises(InputError, match="clustered"):
        ConformalClassifier(class_conditional="clustered", noise_matrix=np.eye(4)).fit(p, y)


def test_noise_scale_shrinks_a_matrix_that_counts_model_errors_as_noise() -> None:
    """Labels without noise and a claimed 40% noise matrix: believing it (scale 1) makes the
    probabilities over-confident; ``noise_scale="conservative"`` keeps close to none of it,
    and with truly noisy labels ``"mle"`` keeps most of it (measured s = 0.00 and 0.95)."""
    k = 3
    claimed = _symmetric(k, 0.4)
    p, y = _sim(4000, k, 7, scale=1.5)
    full = TemperatureScaling(noise_matrix=claimed).fit(p, y)
    cons = TemperatureScaling(noise_matrix=claimed, noise_scale="conservative").fit(p, y)
    assert full.noise_scale_ == 1.0 and cons.noise_scale_ <= 0.1
    ece_full = expected_calibration_error(full.predict_proba(p), y)
    ece_cons = expected_calibration_error(cons.predict_proba(p), y)
    assert ece_cons < 0.02 < ece_full
    yn = _flip(y, k, 0.4, 8)
    mle = TemperatureScaling(noise_matrix=claimed, noise_scale="mle").fit(p, yn)
    assert mle.noise_scale_ >= 0.8
    np.testing.assert_allclose(
        mle.noise_matrix_, (1 - mle.noise_scale_) * np.eye(k) + mle.noise_scale_ * claimed
    )
    assert abs(mle.temperature_ - 1.0) < 0.1  # p is calibrated for the true labels
