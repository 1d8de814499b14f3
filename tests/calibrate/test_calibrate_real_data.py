"""Calibration and conformal sets on real out-of-sample probabilities (CIFAR-10 test set)."""

from __future__ import annotations

import numpy as np
import pytest

from _shared import shared_path
from truelabel.calibrate import ConformalClassifier, TemperatureScaling, expected_calibration_error


@pytest.mark.shared
def test_cifar10_pyx_temperature_and_conformal() -> None:
    root = shared_path("label-errors", "cleanlab", "cifar10")
    p = np.load(root / "cifar10_test_set_pyx.npy")
    y = np.load(root / "cifar10_test_set_original_labels.npy")
    p = p / p.sum(axis=1, keepdims=True)
    ts = TemperatureScaling().fit(p[:5000], y[:5000])
    before = expected_calibration_error(p[5000:], y[5000:])
    after = expected_calibration_error(ts.predict_proba(p[5000:]), y[5000:])
    # measured: T = 1.52, ECE 0.029 -> 0.012 on the second half
    assert ts.temperature_ > 1.2
    assert after < before - 0.01
    cov = (
        ConformalClassifier(score="aps", alpha=0.1)
        .fit(p[:5000], y[:5000])
        .coverage(p[5000:], y[5000:])
    )
    assert 0.88 <= cov <= 0.93  # measured 0.913
