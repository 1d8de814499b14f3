"""Numeric label models: many noisy numbers per item -> one estimate with an interval.

Three estimators share one contract (:class:`BaseNumericModel`), the numeric twin of
:class:`~truelabel.aggregate.BaseLabelModel`: ``fit(votes, gold=None)`` on
:class:`~truelabel.sources.NumericVotes` sets

- ``estimates_`` : ndarray of shape (n_items,), float64 (NaN for items without votes)
- ``std_`` : ndarray of shape (n_items,), float64, standard error of each estimate
- ``bias_``, ``scale_``, ``noise_`` : ndarray of shape (n_sources,), float64, each
  source's model ``value = intercept + scale * truth + noise`` summarised
- ``n_iter_``, ``converged_``

and ``predict()`` / ``predict_interval(level)`` return estimates and intervals.

- :class:`NumericMean` and :class:`NumericMedian`: the plain per-item mean / median.
- :class:`SourceBiasVariance`: each source ``s`` reports ``a_s + b_s * t_i + e`` with
  ``e ~ N(0, sigma_s^2 * h_i)``; EM (Gaussian E-step, ridge-regularised M-step) learns the
  truths ``t_i``, each source's intercept ``a_s``, scale ``b_s`` and noise ``sigma_s`` and
  each item's difficulty ``h_i``. Priors, counted in pseudo-votes, pull a sparse source
  toward "unbiased, unit scale, average noise" and an item with few votes toward average
  difficulty, so a worker with two ratings cannot blow up.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .._errors import ConvergenceWarning, InputError, NotFittedError
from .._validation import Interval, check_params
from ..sources._numeric import NumericVotes, check_numeric_votes

__all__ = [
    "NUMERIC_METHODS",
    "BaseNumericModel",
    "NumericMean",
    "NumericMedian",
    "SourceBiasVariance",
    "make_numeric_model",
]

#: Shrinkage of per-item spreads toward the pooled spread (pseudo-votes), used by the
#: mean and median intervals so that items with one or two votes get a sane width.
_SPREAD_PRIOR = 3.0


def _normal_quantile(level: float) -> float:
    """Two-sided standard normal quantile for a central interval of ``level``."""
    from statistics import NormalDist

    return float(NormalDist().inv_cdf(0.5 + level / 2.0))


def _gold_values(votes: NumericVotes, gold: Any) -> np.ndarray:
    g = votes.gold_values()
    if gold is not None:
        arr = np.asarray(gold, dtype=np.float64)
        if arr.shape != (votes.n_items,):
            raise InputError(
                f"gold has shape {arr.shape}; expected ({votes.n_items},) with NaN for items "
                "without gold."
            )
        g = np.where(np.isfinite(arr), arr, g)
    return g


class BaseNumericModel(BaseEstimator):  # type: ignore[misc]
    """Contract of every numeric label model (see the module docstring).

    Gold values (``gold`` or the votes of sources marked gold) are clamped: those items'
    estimate is the gold value with zero standard error, and they inform the source
    parameters of :class:`SourceBiasVariance`.
    """

    _constraints: dict[str, list[Any]] = {}
    estimates_: np.ndarray
    std_: np.ndarray

    def fit(self, votes: NumericVotes, gold: Any = None) -> BaseNumericModel:
        """Learn one estimate per item and each source's bias, scale and noise.

        Parameters
        ----------
        votes : NumericVotes
        gold : array-like of shape (n_items,), float, optional
            Known true values, NaN where unknown; combined with gold-source votes.

        Returns
        -------
        self
        """
        check_params(self)
        votes = check_numeric_votes(votes)
        g = _gold_values(votes, gold)
        plain = votes.without_gold()
        self.n_sources_ = votes.n_sources
        self._fit(plain, g)
        known = np.isfinite(g)
        self.estimates_ = np.where(known, g, self.estimates_)
        self.std_ = np.where(known, 0.0, self.std_)
        for name in ("bias_", "scale_", "noise_"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr[votes.is_gold_source] = 1.0 if name == "scale_" else 0.0
            setattr(self, name, arr)
        self.gold_ = g
        return self

    def predict(self) -> np.ndarray:
        """The estimate of every item, shape (n_items,), float64 (NaN = no votes)."""
        self._check_fitted()
        return np.asarray(self.estimates_)

    def predict_interval(self, level: float = 0.95) -> np.ndarray:
        """A central interval per item from the estimate and its standard error.

        Parameters
        ----------
        level : float in (0, 1)
            Nominal coverage.

        Returns
        -------
        interval : ndarray of shape (n_items, 2), float64
            ``[lower, upper]``; NaN for items without votes.
        """
        self._check_fitted()
        if not 0.0 < float(level) < 1.0:
            raise InputError(f"level must be in (0, 1); got {level!r}.")
        z = _normal_quantile(float(level))
        half = z * self.std_
        return np.stack([self.estimates_ - half, self.estimates_ + half], axis=1)

    def fit_predict(self, votes: NumericVotes, gold: Any = None) -> np.ndarray:
        """``fit(votes, gold).predict()``."""
        return self.fit(votes, gold).predict()

    def _fit(self, votes: NumericVotes, gold: np.ndarray) -> None:  # pragma: no cover
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimates_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(votes) first."
            )


def _residual_stats(
    votes: NumericVotes, est: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-source mean residual, residual sd and vote count against ``est``."""
    s, n_s = votes.source, votes.n_sources
    r = votes.value - est[votes.item]
    ok = np.isfinite(r)
    cnt = np.bincount(s[ok], minlength=n_s).astype(np.float64)
    mean = np.bincount(s[ok], r[ok], minlength=n_s) / np.maximum(cnt, 1)
    var = np.bincount(s[ok], (r[ok] - mean[s[ok]]) ** 2, minlength=n_s) / np.maximum(cnt, 1)
    return np.where(cnt > 0, mean, np.nan), np.where(cnt > 0, np.sqrt(var), np.nan), cnt


def _item_spread(votes: NumericVotes, center: np.ndarray) -> np.ndarray:
    """Per-item vote variance around ``center``, shrunk toward the pooled variance.

    Returns
    -------
    var : ndarray of shape (n_items,), float64
        ``(sum of squared deviations + k * pooled) / (n_votes - 1 + k)``.
    """
    i, n = votes.item, votes.n_items
    nv = np.bincount(i, minlength=n).astype(np.float64)
    dev = (votes.value - center[i]) ** 2
    ss = np.bincount(i, np.where(np.isfinite(dev), dev, 0.0), minlength=n)
    dof = np.maximum(nv - 1, 0)
    pooled = ss.sum() / max(dof.sum(), 1.0)
    return (ss + _SPREAD_PRIOR * pooled) / np.maximum(dof + _SPREAD_PRIOR, 1e-12)


class _DescriptiveModel(BaseNumericModel):
    """Shared tail of the mean and median models: residual source stats, no iterations."""

    def _finish(self, votes: NumericVotes, est: np.ndarray, std: np.ndarray) -> None:
        self.estimates_ = est
        self.std_ = std
        bias, sd, _ = _residual_stats(votes, est)
        self.bias_ = bias
        self.scale_ = np.ones(votes.n_sources)
        self.noise_ = sd
        self.n_iter_ = 0
        self.converged_ = True


class NumericMean(_DescriptiveModel):
    """Each item's estimate is the mean of its votes.

    The standard error is the item's vote spread (shrunk toward the pooled spread with
    3 pseudo-votes, so one-vote items get a width) over ``sqrt(n_votes)``. The source
    table holds each source's mean residual (``bias_``) and residual sd (``noise_``)
    against the means.
    """

    def __init__(self) -> None:
        pass

    def _fit(self, votes: NumericVotes, gold: np.ndarray) -> None:
        i, n = votes.item, votes.n_items
        nv = np.bincount(i, minlength=n).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            est = np.bincount(i, votes.value, minlength=n) / nv
            std = np.sqrt(_item_spread(votes, est) / nv)
        self._finish(votes, est, np.where(nv > 0, std, np.nan))


class NumericMedian(_DescriptiveModel):
    """Each item's estimate is the median of its votes (robust to a wild vote).

    The standard error is ``sqrt(pi / 2)`` times the mean's (the normal-theory efficiency
    of the median).
    """

    def __init__(self) -> None:
        pass

    def _fit(self, votes: NumericVotes, gold: np.ndarray) -> None:
        i, n = votes.item, votes.n_items
        nv = np.bincount(i, minlength=n)
        order = np.lexsort((votes.value, i))
        vals = votes.value[order]
        start = np.concatenate([[0], np.cumsum(nv)[:-1]])
        lo = start + (nv - 1) // 2
        hi = start + nv // 2
        has = nv > 0
        est = np.full(n, np.nan)
        est[has] = 0.5 * (vals[lo[has]] + vals[hi[has]])
        with np.errstate(invalid="ignore", divide="ignore"):
            std = np.sqrt(np.pi / 2 * _item_spread(votes, est) / nv)
        self._finish(votes, est, np.where(has, std, np.nan))


class SourceBiasVariance(BaseNumericModel):
    """Per-source bias, scale and noise, per-item difficulty, fitted by EM.

    Model: source ``s`` rating item ``i`` reports ``a_s + b_s * t_i + e`` with
    ``e ~ N(0, sigma_s^2 * h_i)``; the truths ``t_i`` have a flat prior (items may come
    from different scales, so none is pooled toward a common mean).

    - E-step: ``t_i`` given the source parameters is Gaussian with precision
      ``sum_v b_s^2 / (sigma_s^2 h_i)`` (gold items are known exactly).
    - M-step: per source, a ridge regression of its votes on ``E[t_i]`` (using
      ``E[t_i^2]``) pulled toward ``a = 0, b = 1`` by ``prior_strength`` pseudo-votes; its
      noise variance pulled toward the pooled one by the same count; item difficulty
      ``h_i`` (geometric mean 1) pulled toward 1 by ``item_prior_strength`` pseudo-votes.
    - Scale: the truth is only defined up to ``t -> c t + d``. Without gold, after each
      M-step it is put on the scale of the average source (vote-weighted mean intercept
      0, mean scale 1): the estimate is what an average, unbiased rater would say. With
      gold values, the gold fixes the scale.

    Parameters
    ----------
    prior_strength : float, default 10
        Pseudo-votes pulling each source toward intercept 0, scale 1 and the pooled
        noise. Larger = closer to a plain mean; sources with many more votes than this
        are estimated from their own data.
    item_prior_strength : float, default 1
        Pseudo-votes pulling each item's difficulty toward average.

    The defaults were chosen across two real rating sets (emotion_numeric, moviereviews:
    never worse than the better of mean and median on either, then the best geometric
    mean of the MAE ratios; ``benchmarks/bench_aggregate_numeric.py``).
    fit_scale : bool, default True
        Learn each source's scale ``b_s``; False fixes it at 1 (bias and noise only).
    max_iter : int, default 200
    tol : float, default 1e-6
        Stop when no estimate moves by more than ``tol`` times the spread of the estimates.

    Attributes
    ----------
    intercept_, scale_, noise_ : ndarray of shape (n_sources,)
        ``a_s``, ``b_s`` and ``sigma_s * sqrt(mean h)`` over the source's items.
    bias_ : ndarray of shape (n_sources,)
        The source's mean deviation on the items it rated, ``a_s + (b_s - 1) t_i`` averaged.
    difficulty_ : ndarray of shape (n_items,)
        ``h_i`` (1 = average item; 2 = votes twice as variable).
    """

    _constraints = {
        "prior_strength": [Interval(float, 0, None, closed="neither")],
        "item_prior_strength": [Interval(float, 0, None, closed="neither")],
        "fit_scale": ["boolean"],
        "max_iter": [Interval(int, 1, None)],
        "tol": [Interval(float, 0, None)],
    }

    def __init__(
        self,
        *,
        prior_strength: float = 10.0,
        item_prior_strength: float = 1.0,
        fit_scale: bool = True,
        max_iter: int = 200,
        tol: float = 1e-6,
    ) -> None:
        self.prior_strength = prior_strength
        self.item_prior_strength = item_prior_strength
        self.fit_scale = fit_scale
        self.max_iter = max_iter
        self.tol = tol

    def _fit(self, votes: NumericVotes, gold: np.ndarray) -> None:
        i, s, y = votes.item, votes.source, votes.value
        n, n_s = votes.n_items, votes.n_sources
        k = float(self.prior_strength)
        kh = float(self.item_prior_strength)
        nv = np.bincount(i, minlength=n).astype(np.float64)
        ns = np.bincount(s, minlength=n_s).astype(np.float64)
        known = np.isfinite(gold)
        has = (nv > 0) | known
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.bincount(i, y, minlength=n) / nv
        m = np.where(known, gold, m)
        dev = (y - m[i]) ** 2
        dof = max(float(np.maximum(nv - 1, 0).sum()), 1.0)
        pooled = float(np.nansum(dev) / dof)
        spread = float(np.nanvar(y)) if len(y) else 0.0
        floor = 1e-9 * (pooled if pooled > 0 else (spread if spread > 0 else 1.0))
        pooled = max(pooled, floor)
        V = np.where(known, 0.0, pooled / np.maximum(nv, 1))
        a = np.zeros(n_s)
        b = np.ones(n_s)
        sig2 = np.full(n_s, pooled)
        h = np.ones(n)
        anchored = bool(known.sum() >= 2)
        converged = False
        n_iter = 0
        m_fill = np.where(has, m, 0.0)
        step = 0.0
        for _ in range(self.max_iter):
            n_iter += 1
            # ---- M-step: source intercept/scale (ridge), noise, item difficulty
            ok = has[i]
            center = float(np.mean(m_fill[has])) if has.any() else 0.0
            var_t = float(np.mean((m_fill[has] - center) ** 2 + V[has])) if has.any() else 1.0
            var_t = max(var_t, floor)
            x = m_fill[i] - center
            xx = x * x + V[i]
            iw = np.where(ok, 1.0 / h[i], 0.0)
            sw = np.bincount(s, iw, minlength=n_s)
            sx = np.bincount(s, iw * x, minlength=n_s)
            sxx = np.bincount(s, iw * xx, minlength=n_s)
            sy = np.bincount(s, iw * y, minlength=n_s)
            sxy = np.bincount(s, iw * y * x, minlength=n_s)
            if self.fit_scale:
                a11, a12, a22 = sw + k, sx, sxx + k * var_t
                r1, r2 = sy + k * center, sxy + k * var_t
                det = a11 * a22 - a12 * a12
                c = (r1 * a22 - a12 * r2) / det
                b = (a11 * r2 - a12 * r1) / det
            else:
                b = np.ones(n_s)
                c = (sy - sx + k * center) / (sw + k)
            r = y - c[s] - b[s] * x
            e2 = np.where(ok, r * r + b[s] ** 2 * V[i], 0.0)
            sse = np.bincount(s, e2 / h[i], minlength=n_s)
            pooled = max(float(sse.sum() / max(ns.sum(), 1.0)), floor)
            sig2 = np.maximum((sse + k * pooled) / (ns + k), floor)
            he = np.bincount(i, e2 / sig2[s], minlength=n)
            h = (he + kh) / (nv + kh)
            g = float(np.exp(np.mean(np.log(h[nv > 0])))) if (nv > 0).any() else 1.0
            h /= g
            sig2 *= g
            a = c - b * center
            if not anchored:
                w = ns / max(ns.sum(), 1.0)
                a_bar, b_bar = float(w @ a), float(w @ b)
                if abs(b_bar) > 1e-12:
                    a = a - b * a_bar / b_bar
                    b = b / b_bar
            # ---- E-step: Gaussian posterior of each truth
            m_new, V_new = self._e_step(votes, a, b, sig2, h, nv)
            m_new = np.where(known, gold, m_new)
            V_new = np.where(known, 0.0, V_new)
            step = float(np.max(np.abs(m_new - m_fill)[has])) if has.any() else 0.0
            m_fill = np.where(has, m_new, 0.0)
            V = np.where(has, V_new, 0.0)
            spread_t = float(np.sqrt(var_t))
            if step <= self.tol * max(spread_t, floor):
                converged = True
                break
        if not converged:
            warnings.warn(
                f"SourceBiasVariance stopped after max_iter={self.max_iter} iterations with "
                f"estimates still moving by {step:.3g}; raise max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.estimates_ = np.where(has, m_fill, np.nan)
        self.std_ = np.where(has, np.sqrt(V), np.nan)
        self.intercept_ = a
        self.scale_ = b
        mean_h = np.bincount(s, h[i], minlength=n_s) / np.maximum(ns, 1)
        self.noise_ = np.sqrt(sig2 * np.where(ns > 0, mean_h, 1.0))
        dev_s = a[s] + (b[s] - 1.0) * m_fill[i]
        bias = np.bincount(s, dev_s, minlength=n_s) / np.maximum(ns, 1)
        self.bias_ = np.where(
            ns > 0, bias, a + (b - 1.0) * float(np.mean(m_fill[has]) if has.any() else 0.0)
        )
        self.difficulty_ = np.where(nv > 0, h, np.nan)
        self.n_iter_ = n_iter
        self.converged_ = converged

    @staticmethod
    def _e_step(
        votes: NumericVotes,
        a: np.ndarray,
        b: np.ndarray,
        sig2: np.ndarray,
        h: np.ndarray,
        nv: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of every truth, shape (n_items,) each."""
        i, s, y, n = votes.item, votes.source, votes.value, votes.n_items
        prec_v = b[s] ** 2 / (sig2[s] * h[i])
        prec = np.bincount(i, prec_v, minlength=n)
        num = np.bincount(i, b[s] * (y - a[s]) / (sig2[s] * h[i]), minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.where(prec > 0, num / prec, np.nan)
            V = np.where(prec > 0, 1.0 / prec, np.inf)
        return m, V


NUMERIC_METHODS: dict[str, type[BaseNumericModel]] = {
    "mean": NumericMean,
    "median": NumericMedian,
    "bias_variance": SourceBiasVariance,
}


def make_numeric_model(method: str, **params: Any) -> BaseNumericModel:
    """A numeric label model by name (``mean``, ``median`` or ``bias_variance``).

    Raises
    ------
    InputError
        Unknown name.
    """
    if method not in NUMERIC_METHODS:
        raise InputError(
            f"unknown numeric method {method!r}; choose one of "
            + ", ".join(sorted(NUMERIC_METHODS))
            + "."
        )
    return NUMERIC_METHODS[method](**params)
