"""Numeric aggregation, high level: numeric votes in, one value and interval per item out.

The numeric twin of :func:`truelabel.aggregate.aggregate_votes`; the run folder has the
same files (``labels.parquet``, ``sources.parquet``, ``summary.json``, ``report.html``)
with numeric columns (``label`` is a number, plus ``lower``/``upper``/``std``).
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ConvergenceWarning, InputError
from ..report import ReportMixin
from ..sources._numeric import NumericVotes, check_numeric_votes
from ._numeric import NUMERIC_METHODS, BaseNumericModel, make_numeric_model
from ._result_common import result_facts, result_repr

__all__ = [
    "DEFAULT_NUMERIC_METHOD",
    "NumericAggregateResult",
    "aggregate_numeric_votes",
    "krippendorff_alpha_interval",
]

logger = logging.getLogger(__name__)

#: Chosen across emotion_numeric and moviereviews-crowd (BENCHMARKS.md, numeric section).
DEFAULT_NUMERIC_METHOD = "bias_variance"


@dataclass(repr=False)
class NumericAggregateResult(ReportMixin):
    """What numeric aggregation produced.

    Attributes
    ----------
    estimates : ndarray of shape (n_items,), float64
        In ``item_ids`` order; NaN for items without votes.
    interval : ndarray of shape (n_items, 2), float64
        ``[lower, upper]`` at ``summary["interval_level"]``.
    item_ids : ndarray of shape (n_items,)
    labels : DataFrame
        ``item_id``, ``label`` (the estimate), ``lower``, ``upper``, ``std``, ``n_votes``,
        ``no_votes``, ``is_gold``.
    sources : DataFrame
        One row per source: ``n_votes``, the model's ``bias``, ``scale``, ``intercept`` and
        ``noise_sd`` (shrunk toward an average source when it gave few votes), the raw
        ``mean_deviation`` and ``mean_abs_deviation`` of its votes from the estimates,
        ``gold_mae``, ``is_gold``; noisiest first.
    summary : dict
    model : BaseNumericModel
    votes : NumericVotes
    """

    estimates: np.ndarray
    interval: np.ndarray
    item_ids: np.ndarray
    labels: pd.DataFrame
    sources: pd.DataFrame
    summary: dict[str, Any]
    model: BaseNumericModel
    votes: NumericVotes

    def __repr__(self) -> str:
        return result_repr("NumericAggregateResult", self.summary)

    def _render_report(self) -> str:
        from ._report import render_numeric_report

        return render_numeric_report(self)

    def _repr_facts(self) -> list[tuple[str, Any]]:
        s = self.summary
        return result_facts(
            s,
            [
                ("Krippendorff's alpha (interval)", s.get("krippendorff_alpha_interval")),
                (
                    f"mean {s.get('interval_level', 0.95):.0%} interval width",
                    s.get("mean_interval_width"),
                ),
            ],
        )

    def _repr_frame(self) -> tuple[str, Any]:
        cols = [c for c in ("item_id", "label", "lower", "upper", "n_votes") if c in self.labels]
        return "labels", self.labels[cols]

    def save(
        self, out: str | Path, *, overwrite: bool = False, meta: dict[str, Any] | None = None
    ) -> Path:
        """Write the run folder (same files as a class-label run).

        Returns
        -------
        Path of the published folder.
        """
        from ._result import write_aggregate_run

        return write_aggregate_run(
            out,
            labels=self.labels,
            sources=self.sources,
            summary=self.summary,
            report_html=self._render_report(),
            overwrite=overwrite,
            meta=meta,
        )


def krippendorff_alpha_interval(votes: NumericVotes) -> float:
    """Krippendorff's alpha with the interval (squared difference) metric.

    Items with fewer than two non-gold votes are not pairable and are ignored.

    Returns
    -------
    alpha : float
        1 = perfect agreement, 0 = as if votes were shuffled across items; NaN when no
        item has two votes or all pairable values are equal.
    """
    v = votes.without_gold()
    nv = np.bincount(v.item, minlength=votes.n_items).astype(np.float64)
    pair = nv[v.item] >= 2
    if not pair.any():
        return float("nan")
    i, y = v.item[pair], v.value[pair]
    mean = np.bincount(i, y, minlength=votes.n_items) / np.maximum(nv, 1)
    ss_item = np.bincount(i, (y - mean[i]) ** 2, minlength=votes.n_items)
    n = float(len(y))
    keep = nv >= 2
    d_obs = float(np.sum(2.0 * nv[keep] * ss_item[keep] / (nv[keep] - 1.0))) / n
    d_exp = 2.0 * float(np.sum((y - y.mean()) ** 2)) / (n - 1.0)
    if d_exp <= 0:
        return float("nan")
    return float(1.0 - d_obs / d_exp)


def aggregate_numeric_votes(
    votes: NumericVotes,
    *,
    method: str = "auto",
    gold: Any = None,
    level: float = 0.95,
    params: dict[str, Any] | None = None,
    label_type_reason: str = "numeric labels were requested",
    detected: bool = False,
) -> NumericAggregateResult:
    """Aggregate numeric votes into one estimate and interval per item.

    Parameters
    ----------
    votes : NumericVotes
        From :func:`truelabel.sources.numeric_votes_from_table`.
    method : str, default "auto"
        ``mean``, ``median`` or ``bias_variance`` (per-source bias, scale and noise by EM);
        ``auto`` = ``bias_variance``, chosen across the numeric benchmark sets.
    gold : array-like of shape (n_items,), float, optional
        Known values (NaN = unknown), clamped; combined with gold-source votes.
    level : float, default 0.95
        Nominal coverage of the per-item intervals.
    params : dict, optional
        Hyperparameters of the model (e.g. ``{"prior_strength": 50}``).
    label_type_reason : str
        Why the labels are numeric (kept in the summary and report).
    detected : bool
        The labels were found numeric by ``label_type="auto"`` (adds a note saying so).

    Returns
    -------
    NumericAggregateResult
    """
    votes = check_numeric_votes(votes)
    if not 0.0 < float(level) < 1.0:
        raise InputError(f"the interval level must be in (0, 1); got {level!r}.")
    t0 = time.perf_counter()
    plain = votes.without_gold()
    if plain.n_votes == 0:
        raise InputError(
            "there are no votes besides gold values; aggregation needs at least one source."
        )
    chosen = DEFAULT_NUMERIC_METHOD if method == "auto" else method
    if chosen not in NUMERIC_METHODS:
        raise InputError(
            f"method {method!r} is not a numeric method; for numeric labels choose auto, "
            + ", ".join(sorted(NUMERIC_METHODS))
            + " (or pass --label-type categorical to treat the numbers as classes)."
        )
    reason = (
        f"{chosen} is the default for numeric labels (per-source bias, scale and noise)"
        if method == "auto"
        else f"method {chosen!r} was requested"
    )
    model = make_numeric_model(chosen, **(params or {}))
    notes: list[str] = []
    if detected:
        notes.append(
            f"labels treated as numbers: {label_type_reason}; pass --label-type categorical "
            "(label_type='categorical') to treat them as classes."
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(votes, gold)
    for w in caught:
        notes.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    t_fit = time.perf_counter() - t0
    est = np.asarray(model.estimates_, dtype=np.float64)
    interval = model.predict_interval(level)
    g = model.gold_
    nv = np.bincount(plain.item, minlength=votes.n_items)
    no_votes = (nv == 0) & ~np.isfinite(g)
    if no_votes.any():
        notes.append(
            f"{int(no_votes.sum())} items have no votes; their value is empty (NaN, flagged in "
            "labels.no_votes)."
        )
    ns = np.bincount(plain.source, minlength=votes.n_sources)
    active = np.flatnonzero((ns > 0) & ~votes.is_gold_source)
    if len(active) == 1:
        notes.append(
            f"only one source ({votes.source_names[active[0]]!s}) voted; the estimates repeat "
            "its values and its bias cannot be told apart from the truth."
        )
    few = int(((ns > 0) & (ns < 3)).sum())
    if few and chosen == "bias_variance":
        notes.append(
            f"{few} sources gave fewer than 3 votes; their bias, scale and noise stay close "
            "to the average source (prior of "
            f"{getattr(model, 'prior_strength', 0):g} pseudo-votes)."
        )
    labels = pd.DataFrame(
        {
            "item_id": votes.item_ids,
            "label": est,
            "lower": interval[:, 0],
            "upper": interval[:, 1],
            "std": np.asarray(model.std_, dtype=np.float64),
            "n_votes": nv.astype(np.int64),
            "no_votes": no_votes,
            "is_gold": np.isfinite(g),
        }
    )
    signed = np.nan_to_num(plain.value - est[plain.item])
    mdev = np.bincount(plain.source, signed, minlength=votes.n_sources) / np.maximum(ns, 1)
    mad = np.bincount(plain.source, np.abs(signed), minlength=votes.n_sources) / np.maximum(ns, 1)
    has_gold = np.isfinite(g[plain.item])
    gerr = np.abs(plain.value - g[plain.item])
    gcnt = np.bincount(plain.source[has_gold], minlength=votes.n_sources)
    gmae = np.bincount(plain.source[has_gold], gerr[has_gold], minlength=votes.n_sources)
    sources = pd.DataFrame(
        {
            "source": [str(x) for x in votes.source_names],
            "n_votes": ns.astype(np.int64),
            "bias": np.asarray(model.bias_, dtype=np.float64),
            "scale": np.asarray(model.scale_, dtype=np.float64),
            "intercept": np.asarray(
                getattr(model, "intercept_", np.full(votes.n_sources, np.nan)), dtype=np.float64
            ),
            "noise_sd": np.asarray(model.noise_, dtype=np.float64),
            "mean_deviation": np.where(ns > 0, mdev, np.nan),
            "mean_abs_deviation": np.where(ns > 0, mad, np.nan),
            "gold_mae": np.where(gcnt > 0, gmae / np.maximum(gcnt, 1), np.nan),
            "is_gold": votes.is_gold_source.astype(bool),
        }
    )
    sources = sources.sort_values("noise_sd", ascending=False, kind="stable", na_position="last")
    sources = sources.reset_index(drop=True)
    width = interval[:, 1] - interval[:, 0]
    finite = np.isfinite(est)
    summary: dict[str, Any] = {
        "label_type": "numeric",
        "label_type_reason": label_type_reason,
        "method": chosen,
        "method_requested": method,
        "method_reason": reason,
        "n_items": votes.n_items,
        "n_sources": int(len(active)),
        "n_gold_sources": int(votes.is_gold_source.sum()),
        "n_votes": plain.n_votes,
        "n_gold_items": int(np.isfinite(g).sum()),
        "n_items_without_votes": int(no_votes.sum()),
        "mean_votes_per_item": float(plain.n_votes / max(votes.n_items, 1)),
        "value_range": [float(plain.value.min()), float(plain.value.max())],
        "estimate_range": [float(est[finite].min()), float(est[finite].max())]
        if finite.any()
        else [None, None],
        "krippendorff_alpha_interval": krippendorff_alpha_interval(votes),
        "interval_level": float(level),
        "mean_interval_width": float(np.nanmean(width)) if finite.any() else float("nan"),
        "converged": bool(model.converged_),
        "n_iter": int(model.n_iter_),
        "params": {k: v for k, v in model.get_params().items()},
        "notes": notes,
        "input": dict(votes.info),
        "seconds": {"fit": round(t_fit, 4)},
    }
    logger.info("numeric aggregation with %s: %s", chosen, reason)
    return NumericAggregateResult(
        estimates=est,
        interval=interval,
        item_ids=np.asarray(votes.item_ids),
        labels=labels,
        sources=sources,
        summary=summary,
        model=model,
        votes=votes,
    )
