"""Valid means, class proportions and regression coefficients from predictions plus gold.

Three public functions on NumPy arrays (no pandas, no files):

- :func:`estimate_mean` — the mean of an outcome;
- :func:`estimate_proportions` — the share of each class;
- :func:`estimate_regression` — OLS or logistic-regression coefficients, where the
  labeled variable is the outcome and/or a covariate.

Each returns an :class:`EstimateResult` holding the valid estimate (``method="dsl"``:
cross-fitted doubly-robust pseudo-outcomes; ``method="ppi++"``: the raw predictions
as the surrogate), both power-tuned per term, together with the classical (gold
only) and naive (predictions only) estimates. Gold rows may be sampled with known,
unequal probabilities (stratified or active designs; inverse-probability weights)
and standard errors may be clustered.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
from scipy import special, stats

from .._errors import InputError
from .._types import BoolArray, FloatArray, IntArray, RandomState
from .._validation import check_random_state
from ._core import (
    Fit,
    check_rank,
    fit_weighted,
    influence_parts,
    sandwich,
    single_threaded,
    tune_lambda,
)
from ._dsl import crossfit_g
from ._result import EstimateResult, Interval

__all__ = ["estimate_mean", "estimate_proportions", "estimate_regression"]

log = logging.getLogger(__name__)

METHODS = ("dsl", "ppi++")


# --------------------------------------------------------------------------- validation
def _as_1d(x: Any, name: str, n: int | None = None) -> FloatArray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-D of shape (N,); got shape {arr.shape}.")
    if n is not None and arr.shape[0] != n:
        raise InputError(f"{name} has {arr.shape[0]} rows but the data has {n}; align them.")
    return arr


def _check_design(
    n_rows: int,
    labeled: BoolArray,
    sampling_prob: Any,
    clusters: Any,
) -> tuple[FloatArray, IntArray | None]:
    """Sampling probabilities (N,) and coded clusters; raises on bad input.

    An interval needs the spread of the gold rows: at least 2 of them (a regression:
    one more than its coefficients, see :func:`check_rank`), in at least 2 clusters when
    clusters are given.
    """
    n_gold = int(labeled.sum())
    if n_gold == 0:
        raise InputError(
            "no gold rows: every row's gold value is empty, so nothing anchors the estimate; "
            "label a random sample of rows (truelabel plan --select N picks one) and pass them."
        )
    if n_gold < 2:
        raise InputError(
            "only 1 gold row: an interval needs at least 2, because the spread of the gold "
            "rows is what sets its width (from one row it would be zero). Label more rows; a "
            "pilot of about 30 (truelabel plan --select 30 --out pilot) lets `truelabel plan "
            "--target-width W` say how many a useful width needs."
        )
    if sampling_prob is None:
        pi = np.full(n_rows, n_gold / n_rows)
    else:
        pi = _as_1d(sampling_prob, "sampling_prob", n_rows)
        bad = labeled & ~((pi > 0) & (pi <= 1))
        if bad.any():
            idx = np.flatnonzero(bad)
            raise InputError(
                f"sampling_prob must be in (0, 1] on every gold row; rows {idx[:5].tolist()} "
                f"have {pi[idx[:5]].tolist()}; pass the probability with which each gold row "
                "was chosen for labeling."
            )
    codes: IntArray | None = None
    if clusters is not None:
        cl = np.asarray(clusters)
        if cl.shape != (n_rows,):
            raise InputError(f"clusters must have shape ({n_rows},); got {cl.shape}.")
        codes = np.unique(cl, return_inverse=True)[1].astype(np.int64)
        if int(codes.max()) + 1 < 2:
            raise InputError("clusters: all rows are in one cluster; pass at least 2 clusters.")
        if np.unique(codes[labeled]).size < 2:
            raise InputError(
                "clusters: every gold row is in one cluster, so the cluster-robust spread "
                "cannot be estimated; label rows from at least 2 clusters."
            )
    return pi, codes


def _check_level(level: float) -> float:
    if not (isinstance(level, float | int) and 0 < float(level) < 1):
        raise InputError(f"level must be in (0, 1), e.g. 0.95; got {level!r}.")
    return float(level)


def _interval(est: FloatArray, se: FloatArray, level: float, df: float | None = None) -> Interval:
    """Interval ``est +- q * se``: Student-t quantile with ``df`` degrees of freedom, or normal."""
    q = float(stats.norm.ppf(0.5 + level / 2) if df is None else stats.t.ppf(0.5 + level / 2, df))
    return Interval(est, se, est - q * se, est + q * se)


INTERVALS = ("score", "wald")


def score_interval(est: float, var: float, n_kish: float, q: float) -> tuple[float, float]:
    """Wilson-type score interval for the mean of a 0/1 outcome, within [0, 1].

    A Wald interval ``est +- q sqrt(var)`` treats the standard error as fixed,
    but for a 0/1 outcome it moves with the estimate: a draw with few positives
    gives a low estimate *and* a small ``var``, so Wald intervals miss mostly
    below. The score interval inverts the test ``theta = theta0`` with the
    variance evaluated under the null, ``theta0 (1 - theta0) / n_eff``, where the
    effective sample size ``n_eff = p (1 - p) / var`` (``p = est``) carries the
    gain from the predictions and the sampling design (Kish's design-effect form
    of Wilson's interval)::

        {theta0 : (est - theta0)^2 <= q^2 theta0 (1 - theta0) / n_eff}

    a quadratic inequality in ``theta0`` with Wilson's closed form. When ``est``
    is 0, 1 or outside [0, 1], or ``var`` is 0 (the callers pass 0 when every
    gold value is the same, which leaves the variance unidentified), ``n_eff`` falls back to
    ``n_kish = sum(a)^2 / sum(a^2)`` over gold rows (``a`` = inverse-probability
    weights; ``n_gold`` under uniform sampling). With a gold-only (``lam = 0``)
    estimate under uniform sampling ``n_eff = n_gold`` and this is exactly
    Wilson's interval.

    Parameters
    ----------
    est : float
        Point estimate.
    var : float
        Its (plug-in) Wald variance.
    n_kish : float
        Kish effective size of the gold sample, the fallback ``n_eff``.
    q : float
        Normal quantile, e.g. 1.96.

    Returns
    -------
    (low, high) : tuple of float
    """
    p = float(np.clip(est, 0.0, 1.0))
    ok = 0.0 < p < 1.0 and np.isfinite(var) and var > 0.0
    n_eff = p * (1.0 - p) / var if ok else float(n_kish)
    r = q * q / n_eff
    center = (p + r / 2.0) / (1.0 + r)
    half = q / (1.0 + r) * float(np.sqrt(p * (1.0 - p) / n_eff + r / (4.0 * n_eff)))
    return max(center - half, 0.0), min(center + half, 1.0)


def _n_kish(a: FloatArray, labeled: BoolArray) -> float:
    """Kish effective gold size ``sum(a)^2 / sum(a^2)`` (``n_gold`` when uniform)."""
    ag = a[labeled]
    return float(ag.sum() ** 2 / (ag * ag).sum())


def _apply_score(
    iv: Interval, hc: float, n_kish: float, level: float, degenerate: bool
) -> Interval:
    """Replace a one-term Wald interval by the score interval (plug-in variance, normal q).

    ``degenerate``: the gold values are all 0 or all 1, so the sample says nothing
    about the outcome's variance (the estimated one is ~0 whatever the predictions);
    ``n_eff`` is then the Kish gold size, as in Wilson's interval.
    """
    q = float(stats.norm.ppf(0.5 + level / 2))
    var = 0.0 if degenerate else float(iv.se[0]) ** 2 / hc
    lo, hi = score_interval(float(iv.estimate[0]), var, n_kish, q)
    return Interval(iv.estimate, iv.se, np.array([lo]), np.array([hi]))


def small_sample_terms(
    labeled: BoolArray, n_params: int, clusters: IntArray | None
) -> tuple[float, float]:
    """Degrees of freedom and variance factor of the small-sample correction.

    Without clusters: ``df = n_gold - p`` and the HC1 factor ``n_gold / (n_gold - p)``
    on the sandwich variance (the plug-in meat divides by ``n_gold``, not by the
    residual degrees of freedom). With clusters: ``df = G_gold - 1`` (clusters
    holding gold rows) and factor 1, since :func:`sandwich` already applies
    ``G / (G - 1)``.
    """
    n_gold = int(labeled.sum())
    if clusters is not None:
        g_gold = int(np.unique(clusters[labeled]).size)
        return float(max(g_gold - 1, 1)), 1.0
    dof = max(n_gold - n_params, 1)
    return float(dof), n_gold / dof


# --------------------------------------------------------------------------- engine
def _solve(
    loss: str,
    X: FloatArray,
    y: FloatArray,
    Xh: FloatArray,
    yh: FloatArray,
    a: FloatArray,
    lam: float,
    clusters: IntArray | None,
    theta0: FloatArray | None,
) -> tuple[Fit, FloatArray]:
    b = _control(a)
    fit = fit_weighted(loss, X, y, a, Xh, yh, lam * b, theta0=theta0)
    u, v = influence_parts(loss, X, y, a, Xh, yh, b, fit.theta, center=True)
    H = fit.hessian
    if np.any(np.linalg.eigvalsh((H + H.T) / 2) <= 0):
        H = _classical_hessian(loss, X, a, fit.theta)
    return fit, sandwich(H, u + lam * v, clusters)


def _control(a: FloatArray) -> FloatArray:
    """Weights of the surrogate part, ``mean(a) - a``: they sum to zero exactly.

    Under uniform sampling of a fixed ``n`` this is ``1 - R/pi``; otherwise the
    centring keeps the surrogate's mean out of the estimate's noise.
    """
    return np.asarray(a.mean() - a)


def _classical_hessian(loss: str, X: FloatArray, a: FloatArray, theta: FloatArray) -> FloatArray:
    w = a
    if loss == "logit":
        mu = special.expit(X @ theta)
        w = a * mu * (1 - mu)
    return np.asarray((X.T * w) @ X / X.shape[0])


def _engine(
    loss: str,
    X: FloatArray,
    y: FloatArray,
    Xh: FloatArray,
    yh: FloatArray,
    a: FloatArray,
    clusters: IntArray | None,
    *,
    lam_mode: str | float,
    theta0: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Power-tuned estimate: (theta, se, lam, se_unlabeled) each of shape (p,)."""
    p = X.shape[1]
    ones = np.ones(X.shape[0])
    if isinstance(lam_mode, float | int) and not isinstance(lam_mode, bool):
        lams = np.full(p, float(lam_mode))
        fit1 = None
    else:
        fit1 = fit_weighted(loss, X, y, a, Xh, yh, _control(a), theta0=theta0)
        u, v = influence_parts(loss, X, y, a, Xh, yh, _control(a), fit1.theta, center=True)
        H = _classical_hessian(loss, X, a, fit1.theta)
        if lam_mode == "overall":
            lams = np.full(p, tune_lambda(H, u, v, clusters))
        else:
            lams = np.array([tune_lambda(H, u, v, clusters, coord=j) for j in range(p)])
    theta = np.empty(p)
    se = np.empty(p)
    se_unl = np.empty(p)
    cache: dict[float, tuple[FloatArray, FloatArray, FloatArray]] = {}
    for j in range(p):
        key = round(float(lams[j]), 12)
        if key not in cache:
            start = theta0 if fit1 is None else fit1.theta
            fit, cov = _solve(loss, X, y, Xh, yh, a, key, clusters, start)
            _, vall = influence_parts(loss, X, y, a, Xh, yh, ones, fit.theta)
            cov_u = sandwich(_classical_hessian(loss, X, a, fit.theta), key * vall, clusters)
            cache[key] = (fit.theta, np.sqrt(np.diag(cov)), np.sqrt(np.diag(cov_u)))
        theta[j], se[j], se_unl[j] = (c[j] for c in cache[key])
    return theta, se, lams, se_unl


def _check_separation(X: FloatArray, y: FloatArray, theta: FloatArray, converged: bool) -> None:
    eta = X @ theta
    fitted_right = np.where(y > 0.5, eta > 0, eta < 0)
    if (
        (np.all(fitted_right) and np.min(np.abs(eta)) > 8)
        or not np.all(np.isfinite(theta))
        or (not converged and np.max(np.abs(theta)) > 20)
    ):
        raise InputError(
            "logit: the gold rows are perfectly separated (a combination of the covariates "
            "predicts the outcome exactly), so the coefficients are infinite; label more rows, "
            "drop the separating covariate, or use --outcome ols (a linear probability model)."
        )


def _run(
    loss: str,
    X: FloatArray,
    y: FloatArray,
    Xh: FloatArray,
    yh: FloatArray,
    labeled: BoolArray,
    pi: FloatArray,
    clusters: IntArray | None,
    *,
    method: str,
    features: FloatArray,
    predicted: BoolArray,
    y_predicted: bool,
    terms: list[str],
    outcome: str,
    level: float,
    lam: str | float,
    n_folds: int,
    rng: np.random.Generator,
    small_sample: bool = True,
    surrogate: str = "auto",
    interval: str = "wald",
) -> EstimateResult:
    n_rows = X.shape[0]
    a = np.where(labeled, 1.0 / np.where(labeled, pi, 1.0), 0.0)
    Xg = np.where(labeled[:, None], np.nan_to_num(X), 0.0)
    yg = np.where(labeled, np.nan_to_num(y), 0.0)
    check_rank(Xg[labeled], terms, outcome)

    # classical: gold rows only, IPW
    cl_fit = fit_weighted(loss, Xg, yg, a, Xh, yh, np.zeros(n_rows))
    if loss == "logit":
        _check_separation(Xg[labeled], yg[labeled], cl_fit.theta, cl_fit.converged)
    dof, hc = small_sample_terms(labeled, X.shape[1], clusters) if small_sample else (None, 1.0)
    u, _ = influence_parts(loss, Xg, yg, a, Xh, yh, 1.0 - a, cl_fit.theta)
    cl_cov = sandwich(_classical_hessian(loss, Xg, a, cl_fit.theta), u, clusters)
    classical = _interval(cl_fit.theta, np.sqrt(hc * np.diag(cl_cov)), level, dof)
    # score interval: a mean (intercept-only OLS) of a 0/1 gold outcome, no clusters
    use_score = (
        interval == "score"
        and loss == "ols"
        and X.shape[1] == 1
        and clusters is None
        and bool(np.all((yg[labeled] == 0) | (yg[labeled] == 1)))
    )
    if use_score:
        n_kish = _n_kish(a, labeled)
        gold_y = yg[labeled]
        degenerate = bool(gold_y.min() == gold_y.max())
        classical = _apply_score(classical, hc, n_kish, level, degenerate)

    # naive: predictions as if true, every row unweighted
    ones = np.ones(n_rows)
    nv_fit = fit_weighted(loss, Xh, yh, np.zeros(n_rows), Xh, yh, ones, theta0=cl_fit.theta)
    _, v = influence_parts(loss, Xh, yh, np.zeros(n_rows), Xh, yh, ones, nv_fit.theta)
    nv_cov = sandwich(nv_fit.hessian, v, clusters)
    naive = _interval(nv_fit.theta, np.sqrt(np.diag(nv_cov)), level)

    # the surrogate: raw predictions (PPI++) or cross-fitted g (DSL)
    Xs, ys = Xh, yh
    if method == "dsl":
        targets = []
        if y_predicted:
            targets.append(yg)
        cols = np.flatnonzero(predicted)
        targets.extend(Xg[:, j] for j in cols)
        if targets:
            g = crossfit_g(
                np.column_stack(targets),
                features,
                labeled,
                n_folds=n_folds,
                rng=rng,
                clusters=clusters,
            )
            k = 0
            if y_predicted:
                ys, k = g[:, 0], 1
            Xs = Xh.copy()
            for i, j in enumerate(cols):
                Xs[:, j] = g[:, k + i]
    theta, se, lams, se_unl = _engine(
        loss, Xg, yg, Xs, ys, a, clusters, lam_mode=lam, theta0=cl_fit.theta
    )
    chosen = ["fitted" if method == "dsl" else "raw"] * len(terms)
    if method == "dsl" and surrogate == "auto":
        # Any surrogate keeps DSL valid, the raw predictions included (they are g = identity).
        # Per term keep the one whose power-tuned estimate has the smaller estimated variance:
        # a fitted g costs estimation noise when the predictions are already calibrated.
        raw = _engine(loss, Xg, yg, Xh, yh, a, clusters, lam_mode=lam, theta0=cl_fit.theta)
        use_raw = raw[1] < se
        if use_raw.any():
            theta, se, lams, se_unl = (
                np.where(use_raw, r, f) for r, f in zip(raw, (theta, se, lams, se_unl), strict=True)
            )
            chosen = ["raw" if r else "fitted" for r in use_raw]
    valid = _interval(theta, se * np.sqrt(hc), level, dof)
    if use_score:
        valid = _apply_score(valid, hc, n_kish, level, degenerate)
    elif outcome != "proportions" and not np.all(valid.se > 0):
        raise InputError(
            f"the {int(labeled.sum())} gold rows show no spread (every gold value minus its "
            "prediction is the same), so an interval would have zero width; label more rows, "
            "or check that the gold column holds the measured values."
        )

    msgs: list[str] = []
    outside = (naive.estimate < valid.ci_low) | (naive.estimate > valid.ci_high)
    for j in np.flatnonzero(outside):
        msgs.append(
            f"{terms[j]}: the naive estimate from predictions alone ({naive.estimate[j]:.4g}) "
            f"is outside the valid {level:.0%} interval [{valid.ci_low[j]:.4g}, "
            f"{valid.ci_high[j]:.4g}]; the predictions are biased for this quantity."
        )
    for m in msgs:
        warnings.warn(m, UserWarning, stacklevel=4)
    return EstimateResult(
        terms=list(terms),
        estimate=valid.estimate,
        se=valid.se,
        ci_low=valid.ci_low,
        ci_high=valid.ci_high,
        classical=classical,
        naive=naive,
        method=method,
        lam=lams,
        n_gold=int(labeled.sum()),
        n_total=n_rows,
        level=level,
        outcome=outcome,
        warnings=msgs,
        se_unlabeled=se_unl,
        extra={
            "df": dof,
            "variance_factor": hc,
            "interval": "score" if use_score else "wald",
            "surrogate": dict(zip(terms, chosen, strict=True)),
        },
    )


def _check_common(method: str, lam: str | float, n_folds: int) -> None:
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
    if isinstance(lam, str):
        if lam not in ("coord", "overall"):
            raise InputError(f"lam must be 'coord', 'overall' or a float in [0, 1]; got {lam!r}.")
    elif not (0.0 <= float(lam) <= 1.0):
        raise InputError(f"lam must be 'coord', 'overall' or a float in [0, 1]; got {lam!r}.")
    if not (isinstance(n_folds, int) and n_folds >= 2):
        raise InputError(f"n_folds must be an int >= 2; got {n_folds!r}.")


def _check_interval(interval: str) -> None:
    if interval not in INTERVALS:
        raise InputError(
            f"interval must be one of {', '.join(INTERVALS)}; got {interval!r} ('score' is "
            "the Wilson-type interval for 0/1 outcomes, 'wald' estimate +- q * se)."
        )


def _check_surrogate(arr: FloatArray, labeled: BoolArray, name: str) -> None:
    bad = ~np.all(np.isfinite(arr.reshape(arr.shape[0], -1)), axis=1)
    if bad.any():
        gold_bad = np.flatnonzero(bad & labeled)
        if gold_bad.size:
            raise InputError(
                f"{name}: {gold_bad.size} gold rows have no prediction (e.g. rows "
                f"{gold_bad[:5].tolist()}); every row needs a prediction: fill them in "
                "(re-run the labeler on them) or drop those rows."
            )
        idx = np.flatnonzero(bad)
        raise InputError(
            f"{name}: {idx.size} rows have no prediction (e.g. rows {idx[:5].tolist()}); every "
            "row of the population needs one: predict them or drop them from the table."
        )


# --------------------------------------------------------------------------- public API
@single_threaded
def estimate_mean(
    y: Any,
    y_hat: Any,
    *,
    sampling_prob: Any = None,
    clusters: Any = None,
    features: Any = None,
    method: str = "dsl",
    lam: str | float = "coord",
    level: float = 0.95,
    n_folds: int = 5,
    random_state: RandomState = 0,
    small_sample: bool = True,
    interval: str = "score",
) -> EstimateResult:
    """Valid mean of ``y`` from gold values on some rows and predictions on all.

    Parameters
    ----------
    y : array-like of shape (N,)
        Gold values; NaN marks an unlabeled row.
    y_hat : array-like of shape (N,)
        Prediction for every row (a hard label, a probability or a score).
    sampling_prob : array-like of shape (N,), optional
        Known probability with which each gold row was chosen, in (0, 1]; default
        uniform ``n_gold / N``. Only gold rows are read.
    clusters : array-like of shape (N,), optional
        Cluster ids for cluster-robust standard errors.
    features : array-like of shape (N, q), optional
        Extra covariates for DSL's outcome model (default: ``y_hat`` alone).
    method : {"dsl", "ppi++"}
        DSL: cross-fitted model of ``y`` given the features as surrogate; PPI++:
        the raw ``y_hat``. Both are power-tuned (``lam``).
    lam : "coord", "overall" or float in [0, 1]
        Power tuning; a float fixes it (1 = untuned PPI / DSL, 0 = classical).
    level : float
        Confidence level in (0, 1).
    n_folds : int
        Cross-fitting folds for DSL.
    random_state : int, Generator or None
    small_sample : bool
        Small-sample correction of the valid and classical intervals (default): the
        HC1 factor ``n_gold / (n_gold - p)`` on the variance and Student-t quantiles
        with ``n_gold - p`` degrees of freedom (``G - 1`` over the G clusters holding
        gold rows when ``clusters`` is given). ``False``: plug-in variance, normal
        quantiles (what ppi_py does). Applies to Wald intervals only.
    interval : {"score", "wald"}
        ``"score"`` (default): when every gold value is 0 or 1 (and no
        ``clusters``), a Wilson-type score interval with the effective sample size
        of the estimate (:func:`score_interval`; plug-in variance, normal quantile,
        always within [0, 1]) for the valid and the classical estimates; other
        outcomes keep the Wald interval. ``"wald"``: ``estimate +- q * se`` always.
        ``extra["interval"]`` records which one was used; ``se`` is the Wald
        standard error either way.

    Returns
    -------
    EstimateResult
        One term, ``"mean"``. ``extra`` holds ``df``, ``variance_factor`` and, per
        term, the ``surrogate`` DSL used: ``"fitted"`` (the cross-fitted outcome
        model) or ``"raw"`` (the predictions themselves, kept when their power-tuned
        estimate has the smaller estimated standard error; both are valid DSL
        surrogates).
    """
    yv = _as_1d(y, "y")
    n = yv.shape[0]
    yh = _as_1d(y_hat, "y_hat", n)
    labeled = np.isfinite(yv)
    _check_common(method, lam, n_folds)
    _check_interval(interval)
    level = _check_level(level)
    pi, codes = _check_design(n, labeled, sampling_prob, clusters)
    _check_surrogate(yh, labeled, "y_hat")
    F = yh[:, None] if features is None else np.column_stack([yh, np.asarray(features, float)])
    ones = np.ones((n, 1))
    return _run(
        "ols",
        ones,
        yv,
        ones,
        yh,
        labeled,
        pi,
        codes,
        method=method,
        features=F,
        predicted=np.zeros(1, bool),
        y_predicted=True,
        terms=["mean"],
        outcome="mean",
        level=level,
        lam=lam,
        n_folds=n_folds,
        rng=check_random_state(random_state),
        small_sample=small_sample,
        interval=interval,
    )


@single_threaded
def estimate_proportions(
    y: Any,
    y_hat: Any,
    *,
    n_classes: int | None = None,
    class_names: list[str] | None = None,
    sampling_prob: Any = None,
    clusters: Any = None,
    method: str = "dsl",
    lam: str | float = "coord",
    level: float = 0.95,
    n_folds: int = 5,
    random_state: RandomState = 0,
    small_sample: bool = True,
    interval: str = "score",
) -> EstimateResult:
    """Valid share of each class from gold labels on some rows and predictions on all.

    Parameters
    ----------
    y : array-like of shape (N,), int
        Gold class codes 0..K-1; -1 marks an unlabeled row.
    y_hat : array-like of shape (N,) int or (N, K) float
        Hard predicted codes, or per-class probabilities (rows summing to 1), or
        per-class scores (any reals; turned into probabilities with a softmax).
    n_classes : int, optional
        K; inferred from the data when omitted.
    class_names : list of str, optional
        Term names; default ``"0".."K-1"``.
    sampling_prob, clusters, method, lam, level, n_folds, random_state, small_sample, interval
        As in :func:`estimate_mean` (class shares are means of 0/1 indicators, so
        the default ``interval="score"`` applies to every class). DSL's outcome model for each class uses
        every class's probability (or one-hot hard label) as features, which
        corrects a confusion between classes.

    Returns
    -------
    EstimateResult
        One term per class.
    """
    yc = np.asarray(y)
    if yc.ndim != 1:
        raise InputError(f"y must be 1-D class codes of shape (N,); got shape {yc.shape}.")
    n = yc.shape[0]
    yc = np.where(np.isfinite(yc.astype(float)), yc.astype(float), -1).astype(np.int64)
    labeled = yc >= 0
    yh = np.asarray(y_hat, dtype=float)
    if yh.shape[0] != n:
        raise InputError(f"y_hat has {yh.shape[0]} rows but y has {n}; align them.")
    _check_surrogate(yh, labeled, "y_hat")
    if yh.ndim == 1:
        if np.any(yh != np.round(yh)) or np.any(yh < 0):
            raise InputError("y_hat: 1-D predictions must be class codes 0..K-1 (ints).")
        k = int(max(yc.max(), yh.max())) + 1 if n_classes is None else int(n_classes)
        P = np.eye(k)[yh.astype(np.int64)] if yh.max() < k else None
        if P is None:
            raise InputError(f"y_hat has class code {int(yh.max())} >= n_classes={k}.")
    elif yh.ndim == 2:
        k = yh.shape[1] if n_classes is None else int(n_classes)
        if yh.shape[1] != k:
            raise InputError(f"y_hat has {yh.shape[1]} columns but n_classes={k}.")
        rows_ok = np.all((yh >= 0) & (yh <= 1), axis=1) & np.isclose(yh.sum(axis=1), 1, atol=1e-3)
        P = yh if rows_ok.all() else special.softmax(yh, axis=1)
    else:
        raise InputError(f"y_hat must be (N,) codes or (N, K) probabilities; got {yh.shape}.")
    if yc.max() >= k:
        raise InputError(f"y has class code {int(yc.max())} but there are only {k} classes.")
    names = [str(c) for c in range(k)] if class_names is None else [str(c) for c in class_names]
    if len(names) != k:
        raise InputError(f"class_names has {len(names)} names for {k} classes.")
    _check_common(method, lam, n_folds)
    _check_interval(interval)
    level = _check_level(level)
    pi, codes = _check_design(n, labeled, sampling_prob, clusters)
    rng = check_random_state(random_state)
    onehot = np.where(labeled[:, None], np.eye(k)[np.maximum(yc, 0)], np.nan)
    parts = []
    ones = np.ones((n, 1))
    for j in range(k):
        parts.append(
            _run(
                "ols",
                ones,
                onehot[:, j],
                ones,
                P[:, j],
                labeled,
                pi,
                codes,
                method=method,
                features=P,
                predicted=np.zeros(1, bool),
                y_predicted=True,
                terms=[names[j]],
                outcome="proportions",
                level=level,
                lam=lam,
                n_folds=n_folds,
                rng=rng,
                small_sample=small_sample,
                interval=interval,
            )
        )
    return _stack(parts, names, "proportions")


def _stack(parts: list[EstimateResult], names: list[str], outcome: str) -> EstimateResult:
    def cat(attr: str, sub: str | None = None) -> FloatArray:
        vals = [getattr(getattr(p, sub), attr) if sub else getattr(p, attr) for p in parts]
        return np.concatenate([np.atleast_1d(v) for v in vals])

    def iv(sub: str) -> Interval:
        return Interval(*(cat(a, sub) for a in ("estimate", "se", "ci_low", "ci_high")))

    first = parts[0]
    return EstimateResult(
        terms=names,
        estimate=cat("estimate"),
        se=cat("se"),
        ci_low=cat("ci_low"),
        ci_high=cat("ci_high"),
        classical=iv("classical"),
        naive=iv("naive"),
        method=first.method,
        lam=cat("lam"),
        n_gold=first.n_gold,
        n_total=first.n_total,
        level=first.level,
        outcome=outcome,
        warnings=[w for p in parts for w in p.warnings],
        se_unlabeled=cat("se_unlabeled"),
        extra={
            **first.extra,
            "surrogate": {k: v for p in parts for k, v in p.extra.get("surrogate", {}).items()},
        },
    )


@single_threaded
def estimate_regression(
    y: Any,
    X: Any,
    y_hat: Any = None,
    X_hat: Any = None,
    *,
    model: str = "ols",
    labeled: Any = None,
    names: list[str] | None = None,
    sampling_prob: Any = None,
    clusters: Any = None,
    features: Any = None,
    method: str = "dsl",
    lam: str | float = "coord",
    level: float = 0.95,
    n_folds: int = 5,
    random_state: RandomState = 0,
    small_sample: bool = True,
) -> EstimateResult:
    """Valid OLS or logistic-regression coefficients when labeled variables are predicted.

    Parameters
    ----------
    y : array-like of shape (N,)
        Outcome; when it is the labeled variable, NaN on unlabeled rows.
    X : array-like of shape (N, p)
        Design matrix including the intercept column; a labeled covariate holds
        NaN on unlabeled rows.
    y_hat : array-like of shape (N,), optional
        Prediction of ``y`` (omit when the outcome is observed on every row).
    X_hat : array-like of shape (N, p), optional
        ``X`` with each labeled covariate replaced by its prediction (omit when no
        covariate needs a label).
    model : {"ols", "logit"}
    labeled : array-like of shape (N,), bool, optional
        Gold rows; default: rows where ``y`` and ``X`` are all finite.
    names : list of str, optional
        Coefficient names, default ``x0..x{p-1}``.
    sampling_prob, clusters, method, lam, level, n_folds, random_state, small_sample
        As in :func:`estimate_mean`.
    features : array-like of shape (N, q), optional
        Extra columns for DSL's models of the labeled variables (default: the
        predictions and the observed covariates).

    Returns
    -------
    EstimateResult
        One term per coefficient.

    Raises
    ------
    InputError
        No gold rows, fewer gold rows than coefficients, a rank-deficient gold
        design, perfectly separated logistic data, sampling probabilities outside
        (0, 1], gold rows without predictions.
    """
    if model not in ("ols", "logit"):
        raise InputError(f"model must be 'ols' or 'logit'; got {model!r}.")
    yv = _as_1d(y, "y")
    n = yv.shape[0]
    Xv = np.asarray(X, dtype=float)
    if Xv.ndim != 2 or Xv.shape[0] != n:
        raise InputError(f"X must have shape ({n}, p); got {Xv.shape}.")
    p = Xv.shape[1]
    yh = yv.copy() if y_hat is None else _as_1d(y_hat, "y_hat", n)
    Xh = Xv.copy() if X_hat is None else np.asarray(X_hat, dtype=float)
    if Xh.shape != Xv.shape:
        raise InputError(f"X_hat must have the shape of X {Xv.shape}; got {Xh.shape}.")
    if labeled is None:
        lab = np.isfinite(yv) & np.all(np.isfinite(Xv), axis=1)
    else:
        lab = np.asarray(labeled, dtype=bool)
    y_predicted = y_hat is not None
    predicted = (
        np.zeros(p, bool)
        if X_hat is None
        else ~np.all(np.isfinite(Xv[~lab]) & (Xv[~lab] == Xh[~lab]), axis=0)
    )
    if y_hat is None and X_hat is None:
        raise InputError("pass y_hat and/or X_hat: nothing is predicted, so OLS/logit suffices.")
    if lab.any():
        gold_missing = lab & ~(np.isfinite(yv) & np.all(np.isfinite(Xv), axis=1))
        if gold_missing.any():
            idx = np.flatnonzero(gold_missing)
            raise InputError(f"labeled rows {idx[:5].tolist()} have NaN gold values in y or X.")
    _check_surrogate(np.column_stack([yh, Xh]), lab, "y_hat/X_hat")
    if model == "logit":
        vals = yv[lab]
        if np.any((vals < 0) | (vals > 1)):
            raise InputError("logit: the gold outcome must be 0/1 (or a probability in [0, 1]).")
    names = [f"x{j}" for j in range(p)] if names is None else list(names)
    _check_common(method, lam, n_folds)
    level = _check_level(level)
    pi, codes = _check_design(n, lab, sampling_prob, clusters)
    if features is None:
        const = np.all(Xh == Xh[:1], axis=0)
        F = np.column_stack([yh[:, None] if y_predicted else np.empty((n, 0)), Xh[:, ~const]])
    else:
        F = np.column_stack([yh, Xh, np.asarray(features, dtype=float)])
    return _run(
        model,
        Xv,
        yv,
        Xh,
        yh,
        lab,
        pi,
        codes,
        method=method,
        features=F,
        predicted=predicted,
        y_predicted=y_predicted,
        terms=names,
        outcome=model,
        level=level,
        lam=lam,
        n_folds=n_folds,
        rng=check_random_state(random_state),
        small_sample=small_sample,
    )
