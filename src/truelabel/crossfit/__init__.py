"""K-fold out-of-sample probabilities from any end model, and self-training on
cross-fitted pseudo-labels."""

from ._crossfit import check_foldable, cross_val_predict_proba, default_end_model
from ._linear import SoftmaxRegression
from ._selftrain import dynamic_thresholds, self_train_proba

__all__ = [
    "SoftmaxRegression",
    "check_foldable",
    "cross_val_predict_proba",
    "default_end_model",
    "dynamic_thresholds",
    "self_train_proba",
]
