"""The audit package exports what it documents, each with a numpydoc docstring."""

from __future__ import annotations

import inspect

import numpy as np

import truelabel.audit as audit_pkg
from truelabel.audit import compute_confident_joint, get_confident_thresholds

NUMERIC_CORE = [
    "calibrate_confident_joint",
    "class_health",
    "class_imbalance",
    "compute_confident_joint",
    "estimate_noise_matrices",
    "find_label_issues",
    "find_near_duplicates",
    "find_outliers",
    "get_confident_thresholds",
    "get_label_quality",
    "get_label_quality_scores",
    "get_neighbor_agreement_scores",
    "get_outlier_scores",
    "nearest_neighbors",
]


def test_all_is_importable_and_documented() -> None:
    for name in audit_pkg.__all__:
        assert hasattr(audit_pkg, name), name
    for name in NUMERIC_CORE:
        fn = getattr(audit_pkg, name)
        doc = inspect.getdoc(fn) or ""
        assert "Parameters" in doc and "Returns" in doc, name
        # options after the data arguments are keyword-only
        params = inspect.signature(fn).parameters.values()
        defaults = [p for p in params if p.default is not inspect.Parameter.empty]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in defaults), name


def test_missing_class_gets_an_unreachable_threshold() -> None:
    # class 2 is never given: threshold 2.0, so nothing is counted as truly 2 either
    labels = np.array([0, 0, 1, 1])
    probs = np.array([[0.1, 0.1, 0.8], [0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1]])
    np.testing.assert_allclose(get_confident_thresholds(labels, probs), [0.45, 0.75, 2.0])
    raw = compute_confident_joint(labels, probs, calibrate=False)
    assert raw[:, 2].tolist() == [0, 0, 1]  # only the forced diagonal 1
