"""Calibration: temperature/vector scaling, reliability metrics, conformal prediction sets.

The numeric core works on NumPy arrays (SciPy for the optimisers); no torch needed.
"""

from ._conformal import (
    ConformalClassifier,
    MultiLabelConformal,
    clustering_parameters,
    conformal_quantile,
    set_sizes,
    true_label_weights,
    weighted_conformal_quantile,
)
from ._metrics import (
    ReliabilityDiagram,
    brier_score,
    expected_calibration_error,
    maximum_calibration_error,
    plot_reliability_diagram,
    reliability_diagram,
)
from ._scaling import TemperatureScaling, VectorScaling, calibrate_probs

__all__ = [
    "ConformalClassifier",
    "MultiLabelConformal",
    "ReliabilityDiagram",
    "TemperatureScaling",
    "VectorScaling",
    "brier_score",
    "calibrate_probs",
    "clustering_parameters",
    "conformal_quantile",
    "expected_calibration_error",
    "maximum_calibration_error",
    "plot_reliability_diagram",
    "reliability_diagram",
    "set_sizes",
    "true_label_weights",
    "weighted_conformal_quantile",
]
