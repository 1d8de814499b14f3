"""K-fold out-of-sample probabilities from any end model."""

from ._crossfit import check_foldable, cross_val_predict_proba, default_end_model
from ._linear import SoftmaxRegression

__all__ = ["SoftmaxRegression", "check_foldable", "cross_val_predict_proba", "default_end_model"]
