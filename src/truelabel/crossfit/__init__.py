"""K-fold out-of-sample probabilities (and predictions) from any end model, and
self-training on cross-fitted pseudo-labels."""

from ._crossfit import (
    check_foldable,
    cross_val_predict_multilabel,
    cross_val_predict_proba,
    cross_val_predict_regression,
    default_end_model,
    multilabel_folds,
    regression_folds,
)
from ._linear import SigmoidRegression, SoftmaxRegression
from ._selftrain import dynamic_thresholds, self_train_proba

__all__ = [
    "SigmoidRegression",
    "SoftmaxRegression",
    "check_foldable",
    "cross_val_predict_multilabel",
    "cross_val_predict_proba",
    "cross_val_predict_regression",
    "default_end_model",
    "dynamic_thresholds",
    "multilabel_folds",
    "regression_folds",
    "self_train_proba",
]
