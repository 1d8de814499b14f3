"""Valid estimates from imperfect labels: DSL and prediction-powered inference (PPI++).

Array API (NumPy in, :class:`EstimateResult` out): :func:`estimate_mean`,
:func:`estimate_proportions`, :func:`estimate_regression`. Planning:
:func:`plan_gold` (gold labels needed for a target width or power),
:func:`active_sampling_probs` / :func:`select_gold` (active gold design).
Table API (files or DataFrames, e.g. a run's ``labels.parquet``): :func:`estimate`,
:func:`plan`, :func:`select`, :func:`write_estimate_run`.
"""

from .._callable import make_module_callable as _make_module_callable
from ._api import EstimateRun, estimate, plan, render_report, select, write_estimate_run
from ._estimators import estimate_mean, estimate_proportions, estimate_regression
from ._formula import Formula, parse_formula
from ._plan import (
    GoldPlan,
    active_sampling_probs,
    auto_floor,
    plan_gold,
    prediction_uncertainty,
    select_gold,
)
from ._report import render_plan_report, render_select_report
from ._result import EstimateResult, Interval

__all__ = [
    "EstimateResult",
    "EstimateRun",
    "Formula",
    "GoldPlan",
    "Interval",
    "active_sampling_probs",
    "auto_floor",
    "estimate",
    "estimate_mean",
    "estimate_proportions",
    "estimate_regression",
    "parse_formula",
    "plan",
    "plan_gold",
    "prediction_uncertainty",
    "render_plan_report",
    "render_report",
    "render_select_report",
    "select",
    "select_gold",
    "write_estimate_run",
]

# `truelabel.estimate(...)` works whichever way the package was imported.
_make_module_callable(__name__, estimate)
