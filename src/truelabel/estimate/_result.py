"""The result of an estimate: the valid one, plus the classical and naive ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._types import FloatArray
from ..report import ReportMixin

__all__ = ["EstimateResult", "Interval"]


@dataclass
class Interval:
    """Point estimates, standard errors and confidence intervals, one per term.

    Attributes
    ----------
    estimate, se, ci_low, ci_high : ndarray of shape (n_terms,), float64
    """

    estimate: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray

    @property
    def width(self) -> FloatArray:
        """Interval widths, shape (n_terms,)."""
        return np.asarray(self.ci_high - self.ci_low)

    def as_dict(self, terms: list[str]) -> dict[str, dict[str, float]]:
        return {
            key: dict(zip(terms, np.asarray(getattr(self, key), dtype=float).tolist(), strict=True))
            for key in ("estimate", "se", "ci_low", "ci_high")
        }


@dataclass(repr=False)
class EstimateResult(ReportMixin):
    """A valid estimate with the classical (gold-only) and naive (predictions-only) ones.

    Attributes
    ----------
    terms : list of str
        One name per estimated quantity: ``"mean"``, a class name, or a coefficient.
    estimate, se, ci_low, ci_high : ndarray of shape (n_terms,)
        The valid estimate (``method``) and its interval at ``level``.
    classical : Interval
        From the gold rows alone (inverse-probability weighted when the design is unequal).
    naive : Interval
        From the predictions alone, as if they were true; its interval ignores the bias.
    method : str
        ``"dsl"`` or ``"ppi++"``.
    lam : ndarray of shape (n_terms,)
        Power-tuning weight used per term (0 = classical, 1 = untuned).
    n_gold, n_total : int
    level : float
    outcome : str
        ``"mean"``, ``"proportions"``, ``"ols"`` or ``"logit"``.
    warnings : list of str
        E.g. the naive estimate falls outside the valid interval.
    se_unlabeled : ndarray of shape (n_terms,)
        The part of ``se`` due to averaging the surrogate over the ``n_total``
        rows (it does not shrink with more gold); used by :func:`plan_gold`.
    """

    terms: list[str]
    estimate: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    classical: Interval
    naive: Interval
    method: str
    lam: FloatArray
    n_gold: int
    n_total: int
    level: float
    outcome: str
    warnings: list[str] = field(default_factory=list)
    se_unlabeled: FloatArray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        terms = ", ".join(
            f"{t}={e:.4g} [{a:.4g}, {b:.4g}]"
            for t, e, a, b in list(
                zip(self.terms, self.estimate, self.ci_low, self.ci_high, strict=True)
            )[:4]
        )
        more = ", …" if len(self.terms) > 4 else ""
        return f"EstimateResult({self.outcome}, {self.method}, n_gold={self.n_gold}: {terms}{more})"

    def _render_report(self) -> str:
        from ._report import render_estimate_report

        return render_estimate_report(self)

    def _repr_facts(self) -> list[tuple[str, Any]]:
        return [
            ("outcome", self.outcome),
            ("valid estimator", self.method),
            ("gold rows", f"{self.n_gold:,} of {self.n_total:,}"),
            ("confidence level", f"{self.level:.0%}"),
        ] + [("warning", w) for w in self.warnings]

    def _repr_frame(self) -> tuple[str, Any]:
        import pandas as pd

        return f"{self.level:.0%} intervals", pd.DataFrame(
            {
                "term": self.terms,
                "estimate": self.estimate,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "classical_low": self.classical.ci_low,
                "classical_high": self.classical.ci_high,
                "naive": self.naive.estimate,
            }
        )

    @property
    def valid(self) -> Interval:
        """The valid estimate as an :class:`Interval`."""
        return Interval(self.estimate, self.se, self.ci_low, self.ci_high)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``estimate``/``se``/``ci_low``/``ci_high`` map term -> value."""
        out: dict[str, Any] = {
            "outcome": self.outcome,
            "method": self.method,
            "level": self.level,
            "n_gold": int(self.n_gold),
            "n_total": int(self.n_total),
            "terms": list(self.terms),
            **self.valid.as_dict(self.terms),
            "lambda": dict(
                zip(self.terms, np.asarray(self.lam, dtype=float).tolist(), strict=True)
            ),
            "classical": self.classical.as_dict(self.terms),
            "naive": self.naive.as_dict(self.terms),
            "warnings": list(self.warnings),
        }
        out.update(self.extra)
        return out
