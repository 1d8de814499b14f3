"""K-fold out-of-sample probabilities (and predictions) from any end model, the planner
that chooses it, and self-training on cross-fitted pseudo-labels."""

from ._crossfit import (
    check_foldable,
    cross_val_predict_multilabel,
    cross_val_predict_proba,
    cross_val_predict_regression,
    default_end_model,
    fold_ids,
    multilabel_folds,
    regression_folds,
)
from ._linear import HuberRegression, SigmoidRegression, SoftmaxRegression
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
from ._selftrain import dynamic_thresholds, self_train_proba

__all__ = [
    "AUTO_CANDIDATES",
    "DEFAULT_TIME_BUDGET",
    "Candidate",
    "CandidateResult",
    "Combination",
    "HuberRegression",
    "ModelPlan",
    "ModelSelection",
    "SigmoidRegression",
    "SoftmaxRegression",
    "check_foldable",
    "combine_probabilities",
    "cross_val_predict_multilabel",
    "cross_val_predict_proba",
    "cross_val_predict_regression",
    "default_end_model",
    "dynamic_thresholds",
    "fold_ids",
    "multilabel_folds",
    "plan_model",
    "regression_folds",
    "resolve_learner",
    "resolve_text_checks",
    "select_model",
    "self_train_proba",
    "stack_weights",
]
