"""Calibration metrics: hand-checked values, properties, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truelabel import InputError
from truelabel.calibrate import (
    brier_score,
    expected_calibration_error,
    maximum_calibration_error,
    plot_reliability_diagram,
    reliability_diagram,
)

# Two bins are used: confidence 0.95 (items 0, 1; one correct -> acc 0.5, gap 0.45) and
# confidence 0.65 (items 2, 3; both correct -> acc 1.0, gap 0.35). ECE = .5*.45 + .5*.35 = 0.4,
# MCE = 0.45. Brier: item0 2 * .05^2 = .005, item1 2 * .95^2 = 1.805, items 2, 3:
# 2 * .35^2 = .245 each -> mean (0.005 + 1.805 + 0.49) / 4 = 0.575.
P = np.array([[0.95, 0.05], [0.95, 0.05], [0.65, 0.35], [0.65, 0.35]], dtype=np.float32)
Y = np.array([0, 1, 0, 0])


def test_hand_checked_values() -> None:
    assert expected_calibration_error(P, Y, n_bins=10) == pytest.approx(0.4, abs=1e-6)
    assert maximum_calibration_error(P, Y, n_bins=10) == pytest.approx(0.45, abs=1e-6)
    assert brier_score(P, Y) == pytest.approx(0.575, abs=1e-6)


def test_reliability_diagram_data() -> None:
    d = reliability_diagram(P, Y, n_bins=10)
    assert d.count.sum() == 4
    assert d.count[9] == 2 and d.count[6] == 2  # 0.95 in (0.9, 1], 0.65 in (0.6, 0.7]
    assert d.accuracy[9] == pytest.approx(0.5)
    assert np.isnan(d.accuracy[0])
    dd = d.to_dict()
    assert dd["accuracy"][0] is None and len(dd["bin_edges"]) == 11


def test_perfectly_calibrated_is_near_zero() -> None:
    rng = np.random.default_rng(0)
    p1 = rng.uniform(0.5, 1.0, 20000)
    y = (rng.random(20000) >= p1).astype(int)  # class 0 with probability p1
    probs = np.stack([p1, 1 - p1], axis=1)
    assert expected_calibration_error(probs, y) < 0.02


def test_plot_returns_figure(tmp_path: object) -> None:
    fig = plot_reliability_diagram(P, Y, n_bins=5)
    assert fig.axes and "ECE" in fig.axes[0].get_title()
    fig2 = plot_reliability_diagram(reliability_diagram(P, Y), title="x")
    assert fig2.axes[0].get_title() == "x"


@pytest.mark.parametrize(
    ("probs", "labels", "match"),
    [
        (np.array([[0.5, 0.6]]), [0], "sums to"),
        (np.array([[np.nan, 1.0]]), [0], "NaN"),
        (P, [0, 1, 2, 0], "code 2"),
        (P, [0, 1], "length 2"),
        (np.zeros((0, 2)), [], "empty"),
    ],
)
def test_bad_input(probs: np.ndarray, labels: list[int], match: str) -> None:
    with pytest.raises(InputError, match=match):
        expected_calibration_error(probs, np.asarray(labels, dtype=int))


def test_plot_needs_labels() -> None:
    with pytest.raises(InputError, match="needs labels"):
        plot_reliability_diagram(P)


@settings(deadline=None, max_examples=40)
@given(n=st.integers(1, 40), k=st.integers(2, 5), seed=st.integers(0, 1000))
def test_ranges(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(k), size=n)
    y = rng.integers(0, k, n)
    assert 0.0 <= expected_calibration_error(p, y) <= 1.0
    assert expected_calibration_error(p, y) <= maximum_calibration_error(p, y) + 1e-12
    assert 0.0 <= brier_score(p, y) <= 2.0
