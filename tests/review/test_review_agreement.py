"""Cohen's kappa and Krippendorff's alpha against hand-worked cases and slow oracles."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from truelabel.review import cohen_kappa, krippendorff_alpha_nominal


def test_alpha_hand_checked() -> None:
    # units (a,a) (a,a) (b,b) (a,b): coincidences o_aa=4, o_bb=2, o_ab=o_ba=1; n_a=5, n_b=3, n=8
    # D_o = 2/8, D_e = (64 - 25 - 9) / (8 * 7) = 30/56, alpha = 1 - (2/8)/(30/56) = 8/15
    unit = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    value = np.array([0, 0, 0, 0, 1, 1, 0, 1])
    assert np.isclose(krippendorff_alpha_nominal(unit, value, 2), 8 / 15)


def test_alpha_ignores_single_ratings_and_perfect_agreement() -> None:
    unit = np.array([0, 0, 1, 1, 2])
    value = np.array([0, 0, 1, 1, 2])
    assert krippendorff_alpha_nominal(unit, value, 3) == 1.0
    assert np.isnan(krippendorff_alpha_nominal(np.array([0]), np.array([1]), 3))


def _alpha_oracle(unit: np.ndarray, value: np.ndarray, k: int) -> float:
    """Pair-counting definition, one unit and one ordered pair at a time."""
    o = np.zeros((k, k))
    for u in np.unique(unit):
        vals = value[unit == u]
        m = len(vals)
        if m < 2:
            continue
        for i, j in itertools.permutations(range(m), 2):
            o[vals[i], vals[j]] += 1.0 / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d_o = (o.sum() - np.trace(o)) / n
    d_e = sum(n_c[c] * n_c[d] for c in range(k) for d in range(k) if c != d) / (n * (n - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(1 - d_o / d_e)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 2)), min_size=4, max_size=40))
def test_alpha_matches_oracle(pairs: list[tuple[int, int]]) -> None:
    unit = np.array([p[0] for p in pairs])
    value = np.array([p[1] for p in pairs])
    got = krippendorff_alpha_nominal(unit, value, 3)
    want = _alpha_oracle(unit, value, 3) if np.bincount(unit).max() >= 2 else np.nan
    if np.isnan(want) or not np.isfinite(want):
        return
    assert np.isclose(got, want)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=2, max_size=40))
def test_kappa_matches_sklearn(pairs: list[tuple[int, int]]) -> None:
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    if len(set(a) | set(b)) < 2:
        return
    assert np.isclose(cohen_kappa(a, b, 3), cohen_kappa_score(a, b))


def test_kappa_empty_is_nan() -> None:
    assert np.isnan(cohen_kappa(np.array([], dtype=int), np.array([], dtype=int), 2))
