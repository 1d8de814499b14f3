"""Split conformal sets: coverage in seeded simulations, hand-checked quantile, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from truelabel import InputError, NotFittedError
from truelabel.calibrate import (
    ConformalClassifier,
    MultiLabelConformal,
    conformal_quantile,
    set_sizes,
)


def _sim(n: int, k: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k)) * 2
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    y = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return p, np.minimum(y, k - 1)


def test_quantile_hand_checked() -> None:
    # n = 9 scores 0.1..0.9, alpha = 0.1: rank ceil(10 * 0.9) = 9 -> the largest, 0.9
    s = np.arange(1, 10) / 10
    assert conformal_quantile(s, 0.1) == pytest.approx(0.9)
    # alpha = 0.5: rank ceil(10 * 0.5) = 5 -> 0.5
    assert conformal_quantile(s, 0.5) == pytest.approx(0.5)
    # too few items for alpha = 0.05: rank 10 > 9 -> inf
    assert conformal_quantile(s, 0.05) == np.inf


@pytest.mark.parametrize("score", ["lac", "aps", "raps"])
@pytest.mark.parametrize("class_conditional", [False, True])
def test_coverage_seeded_simulation(score: str, class_conditional: bool) -> None:
    p, y = _sim(20000)
    rng = np.random.default_rng(1)
    covs = []
    for _ in range(20):
        perm = rng.permutation(len(y))
        cal, test = perm[:1000], perm[1000:3000]
        cc = ConformalClassifier(score=score, alpha=0.1, class_conditional=class_conditional)
        cc.fit(p[cal], y[cal])
        covs.append(cc.coverage(p[test], y[test]))
    assert abs(np.mean(covs) - 0.9) < 0.015


def test_class_conditional_coverage_per_class() -> None:
    p, y = _sim(30000, k=3, seed=2)
    cc = ConformalClassifier(score="lac", alpha=0.1, class_conditional=True).fit(
        p[:10000], y[:10000]
    )
    sets = cc.predict_sets(p[10000:])
    yt = y[10000:]
    for c in range(3):
        m = yt == c
        assert abs(sets[m, c].mean() - 0.9) < 0.02


def test_sets_shape_and_sizes() -> None:
    p, y = _sim(2000)
    cc = ConformalClassifier(score="aps", alpha=0.05).fit(p[:1000], y[:1000])
    s = cc.predict_sets(p[1000:])
    assert s.shape == (1000, 5) and s.dtype == bool
    sizes = set_sizes(s)
    assert sizes.mean() > 1
    # smaller alpha -> larger sets
    s10 = ConformalClassifier(score="aps", alpha=0.2).fit(p[:1000], y[:1000]).predict_sets(p[1000:])
    assert set_sizes(s10).mean() < sizes.mean()


def test_deterministic_randomization() -> None:
    p, y = _sim(500)
    a = ConformalClassifier(score="raps", random_state=3).fit(p, y).predict_sets(p)
    b = ConformalClassifier(score="raps", random_state=3).fit(p, y).predict_sets(p)
    np.testing.assert_array_equal(a, b)


def test_too_few_calibration_items_warns() -> None:
    p, y = _sim(5)
    with pytest.warns(UserWarning, match="too few"):
        cc = ConformalClassifier(alpha=0.1).fit(p, y)
    assert cc.predict_sets(p).all()


def test_multilabel_coverage() -> None:
    rng = np.random.default_rng(0)
    n, L = 6000, 6
    probs = rng.uniform(size=(n, L))
    targets = (rng.random((n, L)) < probs).astype(int)
    ml = MultiLabelConformal(alpha=0.1).fit(probs[:3000], targets[:3000])
    s = ml.predict_sets(probs[3000:])
    t = targets[3000:].astype(bool)
    has = t.any(1)
    covered = (~t | s).all(axis=1)[has]
    assert abs(covered.mean() - 0.9) < 0.03


def test_errors() -> None:
    p, y = _sim(100)
    with pytest.raises(NotFittedError, match="not fitted"):
        ConformalClassifier().predict_sets(p)
    with pytest.raises(InputError, match="'alpha' parameter"):
        ConformalClassifier(alpha=1.5).fit(p, y)
    with pytest.raises(InputError, match="'score' parameter"):
        ConformalClassifier(score="top1").fit(p, y)
    cc = ConformalClassifier().fit(p, y)
    with pytest.raises(InputError, match="columns"):
        cc.predict_sets(p[:, :3] / p[:, :3].sum(1, keepdims=True))
    with pytest.raises(InputError, match="length"):
        ConformalClassifier().fit(p, y[:10])
    with pytest.raises(InputError, match="shape"):
        MultiLabelConformal().fit(p, np.zeros((3, 3)))
    with pytest.raises(InputError, match="0/1"):
        MultiLabelConformal().fit(p, np.full(p.shape, 2))
