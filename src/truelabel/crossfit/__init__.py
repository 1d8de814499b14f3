"""K-fold out-of-sample probabilities from any end model, and the planner that chooses it."""

from ._crossfit import check_foldable, cross_val_predict_proba, default_end_model, fold_ids
from ._linear import SoftmaxRegression
from ._plan import (
    AUTO_CANDIDATES,
    DEFAULT_TIME_BUDGET,
    Candidate,
    ModelPlan,
    plan_model,
    resolve_learner,
    resolve_text_checks,
)
from ._select import (
    CandidateResult,
    Combination,
    ModelSelection,
    combine_probabilities,
    select_model,
    stack_weights,
)

__all__ = [
    "AUTO_CANDIDATES",
    "DEFAULT_TIME_BUDGET",
    "Candidate",
    "CandidateResult",
    "Combination",
    "ModelPlan",
    "ModelSelection",
    "SoftmaxRegression",
    "check_foldable",
    "combine_probabilities",
    "cross_val_predict_proba",
    "default_end_model",
    "fold_ids",
    "plan_model",
    "resolve_learner",
    "resolve_text_checks",
    "select_model",
    "stack_weights",
]
