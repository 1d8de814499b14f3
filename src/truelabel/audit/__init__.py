"""truelabel.audit: find, rank and explain label errors on NumPy arrays.

Confident learning (thresholds, confident joint, noise matrices, pruning),
label-quality scores, neighbour agreement, outliers, near-duplicates and a
per-class health table. Everything takes and returns arrays; the high-level
``audit()`` builds on these.
"""

from .._callable import make_module_callable
from ._api import audit, audit_dataset
from ._confident_joint import (
    calibrate_confident_joint,
    compute_confident_joint,
    get_confident_thresholds,
)
from ._duplicates import NearDuplicates, find_exact_duplicates, find_near_duplicates
from ._filter import FILTER_STRATEGIES, find_label_issues
from ._health import class_health, class_imbalance, model_agreement
from ._neighbors import nearest_neighbors
from ._noise import NoiseEstimate, estimate_noise_matrices
from ._outliers import find_outliers, get_outlier_scores
from ._result import AuditResult
from ._scores import (
    LABEL_QUALITY_METHODS,
    NEIGHBOR_WEIGHTS,
    SCORE_METHODS,
    choose_neighbor_weight,
    get_label_quality,
    get_label_quality_scores,
    get_neighbor_agreement_scores,
)

__all__ = [
    "AuditResult",
    "audit",
    "audit_dataset",
    "FILTER_STRATEGIES",
    "LABEL_QUALITY_METHODS",
    "NEIGHBOR_WEIGHTS",
    "NearDuplicates",
    "NoiseEstimate",
    "SCORE_METHODS",
    "calibrate_confident_joint",
    "choose_neighbor_weight",
    "class_health",
    "class_imbalance",
    "compute_confident_joint",
    "estimate_noise_matrices",
    "find_exact_duplicates",
    "find_label_issues",
    "find_near_duplicates",
    "find_outliers",
    "get_confident_thresholds",
    "get_label_quality",
    "get_label_quality_scores",
    "get_neighbor_agreement_scores",
    "get_outlier_scores",
    "model_agreement",
    "nearest_neighbors",
]

make_module_callable(__name__, audit)
