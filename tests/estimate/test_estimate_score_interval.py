"""The score (Wilson-type) interval for means of 0/1 outcomes and class shares."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from estimate_helpers import mean_coverage
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from truelabel import InputError
from truelabel.estimate import estimate_mean, estimate_proportions
from truelabel.estimate._estimators import score_interval

Z = stats.norm.ppf(0.975)


def wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    """Wilson's interval for k successes in n trials, written out (no statsmodels)."""
    p = k / n
    center = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(center - half, 0.0), min(center + half, 1.0)


def _binary(n_total: int = 600, n_gold: int = 80, rate: float = 0.2, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    y = (rng.random(n_total) < rate).astype(float)
    yhat = np.clip(0.6 * y + 0.4 * rng.random(n_total), 0, 1)
    lab = np.zeros(n_total, bool)
    lab[rng.choice(n_total, n_gold, replace=False)] = True
    return np.where(lab, y, np.nan), yhat, lab, y


# --------------------------------------------------------------------------- closed forms
def test_gold_only_interval_is_wilson() -> None:
    y, yhat, lab, y_all = _binary()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = estimate_mean(y, yhat, method="ppi++", lam=0.0)
    k, n = int(y_all[lab].sum()), int(lab.sum())
    lo, hi = wilson(k, n)
    assert r.extra["interval"] == "score"
    assert r.ci_low[0] == pytest.approx(lo) and r.ci_high[0] == pytest.approx(hi)
    # the classical interval is Wilson too, and se stays the (HC1) Wald se
    assert r.classical.ci_low[0] == pytest.approx(lo)
    assert r.classical.ci_high[0] == pytest.approx(hi)
    p = k / n
    assert r.se[0] == pytest.approx(np.sqrt(p * (1 - p) / (n - 1)))


def test_constant_prediction_gives_wilson_for_any_lambda() -> None:
    # f = const: the surrogate term is exactly zero, so the estimate is the gold mean
    y, _, lab, y_all = _binary(seed=3)
    r = estimate_mean(y, np.full(y.shape, 0.3), method="ppi++", lam=1.0)
    lo, hi = wilson(int(y_all[lab].sum()), int(lab.sum()))
    assert r.ci_low[0] == pytest.approx(lo) and r.ci_high[0] == pytest.approx(hi)


@settings(deadline=None, max_examples=40)
@given(k=st.integers(0, 50), n=st.integers(1, 50), level=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_score_interval_function_equals_wilson(k: int, n: int, level: float) -> None:
    k = min(k, n)
    z = stats.norm.ppf(0.5 + level / 2)
    p = k / n
    lo, hi = score_interval(p, p * (1 - p) / n, float(n), z)
    wl, wh = wilson(k, n, z)
    assert lo == pytest.approx(wl, abs=1e-12) and hi == pytest.approx(wh, abs=1e-12)
    assert 0.0 <= lo <= hi <= 1.0


def test_effective_sample_size_carries_the_variance() -> None:
    # var = p(1-p)/m with m != n_gold: Wilson at m trials (the fallback size is unused)
    lo, hi = score_interval(0.2, 0.2 * 0.8 / 250, 100.0, Z)
    wl, wh = wilson(50, 250)
    assert lo == pytest.approx(wl) and hi == pytest.approx(wh)
    # close to the Wald interval away from 0 and 1, shifted towards 1/2
    se = np.sqrt(0.2 * 0.8 / 250)
    assert hi - lo == pytest.approx(2 * Z * se, rel=0.02)
    assert (lo + hi) / 2 > 0.2


# --------------------------------------------------------------------------- degenerate cases
def test_no_positives_gives_interval_from_zero() -> None:
    rng = np.random.default_rng(1)
    n_total, n_gold = 500, 60
    lab = np.zeros(n_total, bool)
    lab[rng.choice(n_total, n_gold, replace=False)] = True
    y = np.where(lab, 0.0, np.nan)
    yhat = 0.1 * rng.random(n_total)
    wl, wh = wilson(0, n_gold)  # [0, z^2 / (n + z^2)]
    assert wl == 0.0 and wh == pytest.approx(Z**2 / (n_gold + Z**2))
    for method in ("dsl", "ppi++"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = estimate_mean(y, yhat, method=method)
        # the classical interval is Wilson's; the valid one does not collapse onto the
        # estimate (Wald would give ~[est, est]: the estimated variance is ~0)
        assert r.classical.ci_low[0] == 0.0
        assert r.classical.ci_high[0] == pytest.approx(wh)
        assert r.ci_low[0] <= max(r.estimate[0], 0.0) < r.ci_high[0], method
        assert r.ci_low[0] < 0.01 and r.ci_high[0] >= 0.9 * wh, method


def test_all_positives_gives_interval_to_one() -> None:
    y = np.full(300, np.nan)
    y[:40] = 1.0
    r = estimate_mean(y, np.full(300, 0.9), method="ppi++")
    assert r.ci_high[0] == 1.0 and r.ci_low[0] == pytest.approx(wilson(40, 40)[0])


def test_estimate_outside_unit_interval_still_gives_a_clipped_interval() -> None:
    # predictions far above the gold: lam = 1 PPI can go below 0
    y = np.full(400, np.nan)
    y[:50] = 0.0
    y[0] = 1.0
    yhat = np.zeros(400)
    yhat[:50] = 0.9
    r = estimate_mean(y, yhat, method="ppi++", lam=1.0)
    assert r.estimate[0] < 0
    assert 0.0 == r.ci_low[0] < r.ci_high[0] <= 1.0


# --------------------------------------------------------------------------- scope
def test_continuous_outcome_clusters_and_wald_option_keep_wald() -> None:
    y, yhat, _, _ = _binary(seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cont = estimate_mean(np.where(np.isfinite(y), y + 0.5, np.nan), yhat)
        clus = estimate_mean(y, yhat, clusters=np.arange(y.size) // 5)
        wald = estimate_mean(y, yhat, interval="wald")
        score = estimate_mean(y, yhat)
    for r in (cont, clus, wald):
        assert r.extra["interval"] == "wald"
        q = stats.t.ppf(0.975, r.extra["df"])
        assert r.ci_high[0] - r.estimate[0] == pytest.approx(q * r.se[0])
    # same fit, only the interval differs
    np.testing.assert_allclose(score.estimate, wald.estimate)
    np.testing.assert_allclose(score.se, wald.se)
    assert score.extra["interval"] == "score"
    assert score.to_dict()["interval"] == "score"


def test_proportions_use_the_score_interval_per_class() -> None:
    rng = np.random.default_rng(2)
    n_total, n_gold, k = 600, 90, 3
    y_all = rng.choice(k, n_total, p=[0.6, 0.3, 0.1])
    yhat = np.where(rng.random(n_total) < 0.8, y_all, rng.choice(k, n_total))
    lab = np.zeros(n_total, bool)
    lab[rng.choice(n_total, n_gold, replace=False)] = True
    y = np.where(lab, y_all, -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = estimate_proportions(y, yhat, method="ppi++", lam=0.0)
    assert r.extra["interval"] == "score"
    for j in range(k):
        lo, hi = wilson(int(np.sum(y_all[lab] == j)), n_gold)
        assert r.ci_low[j] == pytest.approx(lo) and r.ci_high[j] == pytest.approx(hi)


def test_ipw_uses_kish_size_as_fallback_and_keeps_ipw_estimate() -> None:
    rng = np.random.default_rng(7)
    n_total = 800
    y_all = (rng.random(n_total) < 0.25).astype(float)
    yhat = np.clip(0.5 * y_all + 0.5 * rng.random(n_total), 0, 1)
    pi = np.where(yhat > 0.5, 0.3, 0.1)
    lab = rng.random(n_total) < pi
    y = np.where(lab, y_all, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = estimate_mean(y, yhat, sampling_prob=pi)
        w = estimate_mean(y, yhat, sampling_prob=pi, interval="wald")
    np.testing.assert_allclose(s.estimate, w.estimate)
    var = w.se[0] ** 2 / w.extra["variance_factor"]
    p = w.estimate[0]
    lo, hi = wilson_neff(p, p * (1 - p) / var)
    assert s.ci_low[0] == pytest.approx(lo) and s.ci_high[0] == pytest.approx(hi)


def wilson_neff(p: float, n_eff: float) -> tuple[float, float]:
    r = Z * Z / n_eff
    center = (p + r / 2) / (1 + r)
    half = Z / (1 + r) * np.sqrt(p * (1 - p) / n_eff + r / (4 * n_eff))
    return center - half, center + half


# --------------------------------------------------------------------------- coverage
def test_score_coverage_seeded_simulation_rare_outcome() -> None:
    # 200 draws of 80 gold rows, outcome rate 0.15; coverage ~ Binomial(200, .95): sd 0.015,
    # so >= 0.90 fails with probability < 0.1% for a correct 95% interval.
    rng = np.random.default_rng(11)
    n_total = 2000
    y_all = (rng.random(n_total) < 0.15).astype(float)
    yhat = np.clip(0.55 * y_all + 0.45 * rng.random(n_total) ** 2, 0, 1)
    coverage = mean_coverage(y_all, yhat, n_gold=80, reps=200, rng=rng)
    for m, c in coverage.items():
        assert c >= 0.90, (m, c)


# --------------------------------------------------------------------------- bad input
def test_bad_interval_option() -> None:
    y, yhat, _, _ = _binary()
    with pytest.raises(InputError, match="interval must be one of score, wald"):
        estimate_mean(y, yhat, interval="wilson")
    with pytest.raises(InputError, match="interval must be one of"):
        estimate_proportions(
            np.where(np.isfinite(y), y, -1).astype(int), (yhat > 0.5).astype(int), interval="exact"
        )
    with pytest.raises(InputError, match="no gold rows"):
        estimate_mean(np.full(10, np.nan), np.zeros(10))
