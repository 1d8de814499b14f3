"""Estimators vs closed forms, weights, clusters, power tuning and a seeded coverage check."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from estimate_helpers import mean_coverage
from hypothesis import given, settings
from hypothesis import strategies as st

from truelabel import InputError
from truelabel.estimate import (
    estimate_mean,
    estimate_proportions,
    estimate_regression,
)


def _toy(n_total: int = 400, n_gold: int = 80, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    y = rng.normal(1.0, 1.0, n_total)
    yhat = y + rng.normal(0.3, 0.5, n_total)  # biased, informative predictions
    lab = np.zeros(n_total, bool)
    lab[rng.choice(n_total, n_gold, replace=False)] = True
    return np.where(lab, y, np.nan), yhat, lab, y


def test_classical_mean_is_gold_mean_with_plugin_se() -> None:
    # y = [1, 2, 3, NaN, NaN]: classical mean 2, se = sqrt(sum((y-2)^2)/3^2) = sqrt(2)/3
    y = np.array([1.0, 2.0, 3.0, np.nan, np.nan])
    yhat = np.array([1.0, 2.5, 2.5, 4.0, 0.0])
    r = estimate_mean(y, yhat, method="ppi++", lam=1.0, small_sample=False)
    assert r.classical.estimate[0] == pytest.approx(2.0)
    assert r.classical.se[0] == pytest.approx(np.sqrt(2.0) / 3)
    # naive: mean of all predictions = 2.0
    assert r.naive.estimate[0] == pytest.approx(2.0)
    # PPI (lam=1): mean(yhat) + mean over gold of (y - yhat) = 2.0 + (0 - 0.5 + 0.5)/3 = 2.0
    assert r.estimate[0] == pytest.approx(2.0)
    assert r.n_gold == 3 and r.n_total == 5


def test_ppi_lam1_matches_closed_form() -> None:
    y, yhat, lab, _ = _toy()
    r = estimate_mean(y, yhat, method="ppi++", lam=1.0, small_sample=False)
    closed = yhat.mean() + np.mean(y[lab] - yhat[lab])
    assert r.estimate[0] == pytest.approx(closed)
    # variance: psi_i = a_i (y_i - theta) + (1 - a_i)(yhat_i - mean(yhat)), a_i = R_i N/n;
    # the prediction is centred, so a biased surrogate does not inflate it; var = sum psi^2 / N^2
    n, big_n = lab.sum(), len(lab)
    a = np.where(lab, big_n / n, 0.0)
    psi = a * (np.nan_to_num(y) - closed) + (1 - a) * (yhat - yhat.mean())
    assert r.se[0] == pytest.approx(np.sqrt(np.sum(psi**2)) / big_n)


def test_lam0_is_classical() -> None:
    y, yhat, _, _ = _toy()
    r = estimate_mean(y, yhat, method="ppi++", lam=0.0)
    np.testing.assert_allclose(r.estimate, r.classical.estimate)
    np.testing.assert_allclose(r.se, r.classical.se)


@pytest.mark.parametrize("offset", [0.0, 10.0])
def test_tuned_lambda_matches_ppi_py_and_is_not_wider_than_classical(offset: float) -> None:
    # offset: outcome and prediction far from 0 (a biased surrogate must not widen PPI++)
    ppi_py = pytest.importorskip("ppi_py")
    y, yhat, lab, _ = _toy(2000, 200, seed=3)
    y, yhat = y + offset, yhat + offset
    r = estimate_mean(y, yhat, method="ppi++")
    lo, hi = ppi_py.ppi_mean_ci(y[lab], yhat[lab], yhat[~lab], alpha=0.05)
    # same estimand and tuning; ours averages predictions over all rows, ppi_py over the rest
    assert r.ci_low[0] == pytest.approx(float(np.ravel(lo)[0]), abs=0.02)
    assert r.ci_high[0] == pytest.approx(float(np.ravel(hi)[0]), abs=0.02)
    assert r.se[0] <= r.classical.se[0] * 1.001


def test_ols_matches_numpy_lstsq_on_gold_for_classical() -> None:
    rng = np.random.default_rng(1)
    n = 300
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    y = X @ np.array([0.5, 1.0, -2.0]) + rng.normal(size=n)
    yhat = y + rng.normal(0, 0.5, n)
    lab = rng.random(n) < 0.4
    r = estimate_regression(np.where(lab, y, np.nan), X, yhat, names=["c", "a", "b"])
    np.testing.assert_allclose(r.classical.estimate, np.linalg.lstsq(X[lab], y[lab], rcond=None)[0])
    np.testing.assert_allclose(r.naive.estimate, np.linalg.lstsq(X, yhat, rcond=None)[0])
    assert r.terms == ["c", "a", "b"]
    assert np.all(r.se <= r.classical.se * 1.01)


def test_ols_lam1_ppi_closed_form() -> None:
    rng = np.random.default_rng(2)
    n = 200
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = X @ np.array([1.0, 2.0]) + rng.normal(size=n)
    yhat = 0.8 * y + 0.3
    lab = rng.random(n) < 0.5
    r = estimate_regression(np.where(lab, y, np.nan), X, yhat, method="ppi++", lam=1.0)
    # theta = (X'X)^-1 X'yhat + (X_g'X_g)^-1... with IPW a = N/n on gold: solve
    # (N/n X_g'X_g + X'X - N/n X_g'X_g) theta = N/n X_g'y_g + X'yhat - N/n X_g'yhat_g
    w = n / lab.sum()
    lhs = X.T @ X
    rhs = w * X[lab].T @ y[lab] + X.T @ yhat - w * X[lab].T @ yhat[lab]
    np.testing.assert_allclose(r.estimate, np.linalg.solve(lhs, rhs))


def test_logit_classical_matches_sklearn_unpenalised() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(4)
    n = 600
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + 1.2 * x)))).astype(float)
    yhat = np.clip(y * 0.8 + 0.1 + rng.normal(0, 0.05, n), 0, 1)
    lab = rng.random(n) < 0.5
    X = np.column_stack([np.ones(n), x])
    r = estimate_regression(np.where(lab, y, np.nan), X, yhat, model="logit")
    sk = LogisticRegression(C=1e12, tol=1e-10, max_iter=1000).fit(x[lab, None], y[lab])
    np.testing.assert_allclose(r.classical.estimate, [sk.intercept_[0], sk.coef_[0, 0]], atol=1e-5)


def test_ipw_weights_recover_mean_under_unequal_sampling() -> None:
    # rows with y=1 are sampled 5x as often; IPW classical must undo the bias
    rng = np.random.default_rng(5)
    n = 20000
    y = (rng.random(n) < 0.3).astype(float)
    pi = np.where(y == 1, 0.25, 0.05)
    lab = rng.random(n) < pi
    yhat = np.clip(y * 0.7 + 0.15, 0, 1)
    r = estimate_mean(np.where(lab, y, np.nan), yhat, sampling_prob=pi)
    unweighted = y[lab].mean()
    assert abs(unweighted - 0.3) > 0.2  # the raw gold mean is badly biased
    assert r.classical.ci_low[0] < y.mean() < r.classical.ci_high[0]
    assert r.ci_low[0] < y.mean() < r.ci_high[0]


def test_cluster_se_larger_with_correlated_clusters() -> None:
    rng = np.random.default_rng(6)
    g = np.repeat(np.arange(100), 10)
    y = rng.normal(size=100)[g] + 0.1 * rng.normal(size=1000)
    lab = np.isin(g, rng.choice(100, 40, replace=False))
    yhat = y + rng.normal(0, 1, 1000)
    yy = np.where(lab, y, np.nan)
    plain = estimate_mean(yy, yhat, sampling_prob=np.full(1000, 0.4))
    clus = estimate_mean(yy, yhat, sampling_prob=np.full(1000, 0.4), clusters=g)
    assert clus.classical.se[0] > 2 * plain.classical.se[0]


def test_proportions_hard_and_probabilities() -> None:
    rng = np.random.default_rng(7)
    n = 1000
    y = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    noisy = np.where(rng.random(n) < 0.7, y, rng.choice(3, n))
    lab = rng.random(n) < 0.3
    yc = np.where(lab, y, -1)
    r = estimate_proportions(yc, noisy, class_names=["a", "b", "c"])
    assert r.terms == ["a", "b", "c"]
    assert r.estimate.sum() == pytest.approx(1.0, abs=0.02)
    np.testing.assert_allclose(r.naive.estimate, np.bincount(noisy, minlength=3) / n)
    P = np.full((n, 3), 0.1)
    P[np.arange(n), noisy] = 0.8
    rp = estimate_proportions(yc, P)
    assert rp.terms == ["0", "1", "2"]
    np.testing.assert_allclose(rp.classical.estimate, np.bincount(y[lab], minlength=3) / lab.sum())


def test_label_as_covariate_dsl_is_close_to_truth() -> None:
    rng = np.random.default_rng(8)
    n = 3000
    x = rng.normal(size=n)
    z = (rng.random(n) < 0.4).astype(float)  # needs a label
    zhat = np.where(rng.random(n) < 0.85, z, 1 - z)
    y = 1.0 + 0.5 * x + 2.0 * z + rng.normal(size=n)
    lab = rng.random(n) < 0.2
    X = np.column_stack([np.ones(n), x, np.where(lab, z, np.nan)])
    Xh = np.column_stack([np.ones(n), x, zhat])
    r = estimate_regression(y, X, None, Xh, labeled=lab, names=["c", "x", "z"])
    assert r.ci_low[2] < 2.0 < r.ci_high[2]
    assert not (r.naive.ci_low[2] < 2.0 < r.naive.ci_high[2])  # attenuated by misclassification
    assert any("naive" in w for w in r.warnings)


def test_naive_outside_interval_warns() -> None:
    y, yhat, _, _ = _toy(2000, 400, seed=9)
    with pytest.warns(UserWarning, match="naive estimate"):
        r = estimate_mean(y, yhat + 1.0)
    assert r.warnings


def test_coverage_seeded_simulation() -> None:
    # 200 repetitions on small synthetic data; coverage of 95% intervals ~ Binomial(200, .95):
    # sd 0.015, so >= 0.90 fails with probability < 0.1%.
    rng = np.random.default_rng(10)
    n_total = 500
    y_all = rng.normal(0, 1, n_total)
    yhat = 0.7 * y_all + 0.4 + rng.normal(0, 0.5, n_total)
    coverage = mean_coverage(y_all, yhat, n_gold=60, reps=200, rng=rng)
    for m, c in coverage.items():
        assert c >= 0.90, (m, c)


@settings(deadline=None, max_examples=25)
@given(seed=st.integers(0, 10_000), shift=st.floats(-2, 2))
def test_shifting_predictions_leaves_ppi_lam1_estimate_unchanged(seed: int, shift: float) -> None:
    # PPI with lam=1 is invariant to adding a constant to every prediction
    y, yhat, _, _ = _toy(200, 50, seed=seed)
    a = estimate_mean(y, yhat, method="ppi++", lam=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = estimate_mean(y, yhat + shift, method="ppi++", lam=1.0)
    assert a.estimate[0] == pytest.approx(b.estimate[0])


@settings(deadline=None, max_examples=25)
@given(seed=st.integers(0, 10_000))
def test_permuting_rows_keeps_ppi_estimate(seed: int) -> None:
    y, yhat, _, _ = _toy(150, 40, seed=seed)
    perm = np.random.default_rng(seed).permutation(150)
    a = estimate_mean(y, yhat, method="ppi++")
    b = estimate_mean(y[perm], yhat[perm], method="ppi++")
    assert a.estimate[0] == pytest.approx(b.estimate[0])


def test_same_seed_same_dsl_output() -> None:
    y, yhat, _, _ = _toy()
    a = estimate_mean(y, yhat, random_state=3)
    b = estimate_mean(y, yhat, random_state=3)
    np.testing.assert_array_equal(a.estimate, b.estimate)


# ----------------------------------------------------------------------------- bad input
def test_no_gold_rows() -> None:
    with pytest.raises(InputError, match="no gold rows"):
        estimate_mean(np.full(5, np.nan), np.arange(5.0))


def test_gold_rows_without_predictions() -> None:
    with pytest.raises(InputError, match="gold rows have no prediction"):
        estimate_mean(np.array([1.0, 2.0, np.nan]), np.array([np.nan, 1.0, 2.0]))


def test_unlabeled_rows_without_predictions() -> None:
    with pytest.raises(InputError, match="rows have no prediction"):
        estimate_mean(np.array([1.0, 2.0, np.nan]), np.array([1.0, 1.0, np.nan]))


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, np.nan])
def test_sampling_prob_outside_unit_interval(bad: float) -> None:
    y = np.array([1.0, 2.0, np.nan, np.nan])
    with pytest.raises(InputError, match=r"sampling_prob must be in \(0, 1\]"):
        estimate_mean(y, np.ones(4), sampling_prob=np.array([bad, 0.5, 0.5, 0.5]))


def test_fewer_gold_rows_than_parameters() -> None:
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(10), rng.normal(size=(10, 3))])
    y = np.full(10, np.nan)
    y[:3] = [1.0, 2.0, 3.0]
    with pytest.raises(InputError, match="3 gold rows but the model has 4 parameters"):
        estimate_regression(y, X, rng.normal(size=10))


def test_perfect_separation_in_logit() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    y = (x > 0).astype(float)
    lab = np.arange(200) < 60
    X = np.column_stack([np.ones(200), x])
    with pytest.raises(InputError, match="perfectly separated"):
        estimate_regression(np.where(lab, y, np.nan), X, y, model="logit")


def test_bad_method_and_level() -> None:
    y, yhat, _, _ = _toy()
    with pytest.raises(InputError, match="method must be one of"):
        estimate_mean(y, yhat, method="magic")
    with pytest.raises(InputError, match="level must be in"):
        estimate_mean(y, yhat, level=95)


# --------------------------------------------------------------------------- small-sample
def test_small_sample_is_hc1_variance_and_t_quantile_with_gold_df() -> None:
    # y = [1, 2, 3, NaN, NaN], p = 1: df = 3 - 1 = 2, variance factor 3 / 2, so the
    # classical se is the usual sample sd / sqrt(n) = 1 / sqrt(3), and q = t_{0.975, 2}
    from scipy import stats

    y = np.array([1.0, 2.0, 3.0, np.nan, np.nan])
    yhat = np.array([1.0, 2.5, 2.5, 4.0, 0.0])
    r = estimate_mean(y, yhat, method="ppi++", lam=1.0)
    assert r.extra["df"] == 2 and r.extra["variance_factor"] == pytest.approx(1.5)
    assert r.classical.se[0] == pytest.approx(1 / np.sqrt(3))
    q = stats.t.ppf(0.975, 2)
    assert r.classical.ci_high[0] - r.classical.estimate[0] == pytest.approx(q / np.sqrt(3))
    plain = estimate_mean(y, yhat, method="ppi++", lam=1.0, small_sample=False)
    assert r.se[0] == pytest.approx(plain.se[0] * np.sqrt(1.5))
    assert r.ci_high[0] - r.estimate[0] == pytest.approx(q * r.se[0])
    np.testing.assert_allclose(r.estimate, plain.estimate)


def test_small_sample_df_is_gold_rows_minus_parameters() -> None:
    rng = np.random.default_rng(4)
    n = 300
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    y = X @ np.array([1.0, 2.0, -1.0]) + rng.normal(size=n)
    yhat = y + rng.normal(0.2, 0.5, n)
    lab = np.zeros(n, bool)
    lab[:60] = True
    r = estimate_regression(np.where(lab, y, np.nan), X, yhat, method="ppi++", labeled=lab)
    assert r.extra["df"] == 57 and r.extra["variance_factor"] == pytest.approx(60 / 57)
    # clusters: df = (clusters holding gold rows) - 1, no extra factor
    cl = np.arange(n) // 10  # gold rows 0..59 -> 6 clusters
    rc = estimate_regression(
        np.where(lab, y, np.nan), X, yhat, method="ppi++", labeled=lab, clusters=cl
    )
    assert rc.extra["df"] == 5 and rc.extra["variance_factor"] == 1.0


def test_hajek_form_equals_plain_mean_under_uniform_and_is_ratio_under_ipw() -> None:
    # The estimating equation gives theta = sum a (y - lam g) / sum a + lam mean(g): the
    # self-normalised (Hajek) form. Under uniform sampling sum a = N, so it is the plain
    # estimator; under unequal probabilities it divides by sum(1 / pi) over gold rows.
    y, yhat, lab, _ = _toy(400, 80, seed=5)
    r = estimate_mean(y, yhat, method="ppi++", lam=1.0)
    assert r.estimate[0] == pytest.approx(yhat.mean() + np.mean(y[lab] - yhat[lab]))
    pi = np.where(np.arange(400) % 2 == 0, 0.1, 0.3)
    rw = estimate_mean(y, yhat, method="ppi++", lam=1.0, sampling_prob=pi)
    a = np.where(lab, 1 / pi, 0.0)
    hajek = np.sum(a * (np.nan_to_num(y) - yhat)) / a.sum() + yhat.mean()
    assert rw.estimate[0] == pytest.approx(hajek)
    rc = estimate_mean(y, yhat, method="ppi++", lam=0.0, sampling_prob=pi)
    assert rc.classical.estimate[0] == pytest.approx(np.sum(a * np.nan_to_num(y)) / a.sum())


def test_dsl_keeps_raw_predictions_when_they_beat_the_fitted_model() -> None:
    # calibrated predictions: DSL may keep them; whichever it keeps, the se is the smaller
    rng = np.random.default_rng(6)
    n_total = 3000
    p = rng.uniform(0.02, 0.98, n_total)
    y = (rng.random(n_total) < p).astype(float)
    lab = np.zeros(n_total, bool)
    lab[rng.choice(n_total, 100, replace=False)] = True
    yg = np.where(lab, y, np.nan)
    r = estimate_mean(yg, p, method="dsl")
    ppi = estimate_mean(yg, p, method="ppi++")
    assert r.extra["surrogate"]["mean"] in ("raw", "fitted")
    assert r.se[0] <= ppi.se[0] * (1 + 1e-9)
    if r.extra["surrogate"]["mean"] == "raw":
        assert r.estimate[0] == pytest.approx(ppi.estimate[0])
