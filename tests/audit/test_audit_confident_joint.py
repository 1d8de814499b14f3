"""Confident joint: hand-checked counts, the loop oracle, calibration, cleanlab agreement."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truelabel import InputError
from truelabel.audit import (
    calibrate_confident_joint,
    compute_confident_joint,
    get_confident_thresholds,
)

# 6 items, 2 classes.
# thresholds: class 0 = mean(.9, .8, .1) = .6 ; class 1 = mean(.8, .9, .7) = .8
# item 0 [.9 .1] given 0: .9 >= .6 only          -> C[0, 0]
# item 1 [.8 .2] given 0: .8 >= .6 only          -> C[0, 0]
# item 2 [.1 .9] given 0: .9 >= .8 only          -> C[0, 1]  (the likely error)
# item 3 [.2 .8] given 1: .8 >= .8 - 1e-6 only   -> C[1, 1]
# item 4 [.1 .9] given 1:                        -> C[1, 1]
# item 5 [.3 .7] given 1: .3 < .6, .7 < .8       -> not counted
LABELS = np.array([0, 0, 0, 1, 1, 1])
PROBS = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8], [0.1, 0.9], [0.3, 0.7]])


def loop_confident_joint(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Slow oracle, one item at a time (cleanlab's documented definition)."""
    k = probs.shape[1]
    thresholds = np.array(
        [probs[labels == c, c].mean() if (labels == c).any() else 2.0 for c in range(k)]
    )
    cj = np.zeros((k, k), dtype=np.int64)
    for i, row in enumerate(probs):
        above = row >= thresholds - 1e-6
        if above.sum() == 1:
            cj[labels[i], np.argmax(above)] += 1
        elif above.sum() > 1:
            cj[labels[i], np.argmax(row)] += 1
    np.fill_diagonal(cj, np.maximum(cj.diagonal(), 1))
    return cj


def test_hand_checked_thresholds_and_joint() -> None:
    np.testing.assert_allclose(get_confident_thresholds(LABELS, PROBS), [0.6, 0.8])
    raw = compute_confident_joint(LABELS, PROBS, calibrate=False)
    assert raw.tolist() == [[2, 1], [0, 2]]
    # calibration: row 1 holds 2 counts but 3 items are given 1 -> [0, 3]
    assert compute_confident_joint(LABELS, PROBS).tolist() == [[2, 1], [0, 3]]


def test_calibrate_keeps_row_totals() -> None:
    # row 0: [1, 1] -> 4 items given 0 -> [2, 2]; row 1: [0, 3] -> 2 items -> [0, 2]
    labels = np.array([0, 0, 0, 0, 1, 1])
    out = calibrate_confident_joint(np.array([[1, 1], [0, 3]]), labels)
    assert out.tolist() == [[2, 2], [0, 2]]


probs_and_labels = st.integers(2, 5).flatmap(
    lambda k: st.tuples(
        st.just(k),
        st.integers(1, 60),
        st.integers(0, 2**32 - 1),
    )
)


def _random_case(
    k: int, n: int, seed: int, dtype: type = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(k, 0.5), size=n).astype(dtype)
    probs /= probs.sum(axis=1, keepdims=True)
    return rng.integers(0, k, n), probs


@settings(deadline=None, max_examples=60)
@given(case=probs_and_labels)
def test_vectorised_equals_loop_oracle(case: tuple[int, int, int]) -> None:
    labels, probs = _random_case(*case)
    assert np.array_equal(
        compute_confident_joint(labels, probs, calibrate=False), loop_confident_joint(labels, probs)
    )


@settings(deadline=None, max_examples=40)
@given(case=probs_and_labels)
def test_calibrated_rows_sum_to_class_counts(case: tuple[int, int, int]) -> None:
    labels, probs = _random_case(*case)
    cj = compute_confident_joint(labels, probs)
    np.testing.assert_array_equal(cj.sum(axis=1), np.bincount(labels, minlength=probs.shape[1]))
    assert cj.dtype == np.int64 and (cj >= 0).all()


@settings(deadline=None, max_examples=30)
@given(case=probs_and_labels)
def test_row_permutation_invariance(case: tuple[int, int, int]) -> None:
    labels, probs = _random_case(*case)
    perm = np.random.default_rng(case[2]).permutation(labels.shape[0])
    assert np.array_equal(
        compute_confident_joint(labels, probs), compute_confident_joint(labels[perm], probs[perm])
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("calibrate", [False, True])
def test_matches_cleanlab(dtype: type, calibrate: bool) -> None:
    count = pytest.importorskip("cleanlab.count")
    labels, probs = _random_case(7, 3000, 11, dtype)
    ours = compute_confident_joint(labels, probs, calibrate=calibrate)
    theirs = count.compute_confident_joint(labels, probs, calibrate=calibrate)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(
    ("labels", "probs", "match"),
    [
        (LABELS, np.where(np.arange(12).reshape(6, 2) == 3, np.nan, PROBS), "row 1 contains NaN"),
        (LABELS, -PROBS, "negative"),
        (LABELS, PROBS * 2, "sums to 2.0000, not 1"),
        (LABELS[:5], PROBS, "length 5 but pred_probs has 6 rows"),
        (LABELS + 1, PROBS, "code 2 but there are only 2 classes"),
        (LABELS - 1, PROBS, "negative code -1"),
        (LABELS.astype(float) + 0.5, PROBS, "integer class codes"),
        (LABELS, PROBS[:, :1] * 0 + 1, "at least 2 classes"),
        (LABELS, PROBS.ravel(), "2-D array"),
        (LABELS, np.zeros((0, 2)), "0 rows"),
    ],
)
def test_bad_inputs(labels: np.ndarray, probs: np.ndarray, match: str) -> None:
    with pytest.raises(InputError, match=match):
        compute_confident_joint(labels, probs)


def test_calibrate_bad_inputs() -> None:
    with pytest.raises(InputError, match="square"):
        calibrate_confident_joint(np.ones((2, 3)), LABELS)
    with pytest.raises(InputError, match="non-negative"):
        calibrate_confident_joint(-np.ones((2, 2)), LABELS)
