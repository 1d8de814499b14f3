"""Outlier scores and flags from kNN distances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from truelabel import InputError
from truelabel.audit import find_outliers, get_outlier_scores


def test_hand_checked() -> None:
    # mean distances d = 1, 1, 1, 1, 10: median 1, MAD 0 -> fallback: > 99th pct and > median
    dist = np.array([[1.0, 1.0], [1.0, 1.0], [0.5, 1.5], [1.0, 1.0], [10.0, 10.0]])
    assert find_outliers(dist).tolist() == [False, False, False, False, True]
    # scores exp(-d / median) = exp(-1) for the typical rows, exp(-10) for the outlier
    s = get_outlier_scores(dist)
    np.testing.assert_allclose(s, np.exp([-1, -1, -1, -1, -10]), rtol=1e-6)
    assert s.dtype == np.float32


def test_robust_z() -> None:
    # d = 1..9 and 30: median 5.5, MAD 2.5 -> z(30) = 24.5 / (1.4826 * 2.5) = 6.6 > 3.5; z(9) = 0.94
    d = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 30], dtype=float)[:, None]
    assert np.flatnonzero(find_outliers(d)).tolist() == [9]
    assert find_outliers(d, threshold=10.0).sum() == 0


@settings(deadline=None, max_examples=50)
@given(
    arrays(
        np.float32,
        st.tuples(st.integers(1, 40), st.integers(1, 5)),
        elements=st.floats(0, 100, width=32),
    )
)
def test_scores_in_unit_interval(dist: np.ndarray) -> None:
    s = get_outlier_scores(dist)
    assert s.dtype == np.float32 and np.all((s >= 0) & (s <= 1))
    assert find_outliers(dist).shape == (dist.shape[0],)


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="negative distances"):
        get_outlier_scores(np.array([[-1.0]]))
    with pytest.raises(InputError, match="NaN"):
        find_outliers(np.array([[np.nan]]))
    with pytest.raises(InputError, match="2-D"):
        find_outliers(np.ones(3))
    with pytest.raises(InputError, match="'threshold' parameter of find_outliers"):
        find_outliers(np.ones((3, 1)), threshold=0)
