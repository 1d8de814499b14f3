"""The one implementation of Cohen's kappa and Krippendorff's alpha, and its degenerate cases.

Every caller (review, aggregate, audit's near-chance check, zero-shot drift) uses
``truelabel._agreement``; these tests pin the shared answers against scikit-learn and the
``krippendorff`` package, and the decision on input without variation or without pairs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from truelabel.aggregate import krippendorff_alpha
from truelabel.audit._health import agreement_from_predictions
from truelabel.review import cohen_kappa, krippendorff_alpha_nominal
from truelabel.sources import votes_from_matrix


def test_kappa_degenerate_cases() -> None:
    empty = np.array([], dtype=int)
    assert np.isnan(cohen_kappa(empty, empty, 3))  # no items: undefined
    same = np.array([2, 2, 2, 2])
    assert cohen_kappa(same, same, 3) == 1.0  # one class throughout: perfect agreement
    # audit's agreement and zero-shot's drift guard give the same number
    assert agreement_from_predictions(same, same, 3)["kappa"] == 1.0


def test_alpha_degenerate_cases_agree_between_callers() -> None:
    # one unit with one rating: nothing pairable
    assert np.isnan(krippendorff_alpha_nominal(np.array([0]), np.array([1]), 3))
    # every pairable rating the same class: 1.0 (was NaN in aggregate, 1.0 in review)
    unit, value = np.array([0, 0, 1, 1, 1]), np.array([1, 1, 1, 1, 1])
    assert krippendorff_alpha_nominal(unit, value, 3) == 1.0
    votes = votes_from_matrix(np.array([[1, 1, -1], [1, 1, 1]]))
    assert krippendorff_alpha(votes) == 1.0
    lone = votes_from_matrix(np.array([[0, -1], [1, -1]]))
    assert np.isnan(krippendorff_alpha(lone))


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=2, max_size=60))
def test_kappa_matches_sklearn(pairs: list[tuple[int, int]]) -> None:
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    if len(set(a) | set(b)) < 2:  # scikit-learn: NaN with a warning; ours: 1.0 (decided above)
        return
    assert np.isclose(cohen_kappa(a, b, 4), cohen_kappa_score(a, b))


@settings(deadline=None, max_examples=60)
@given(st.lists(st.lists(st.integers(-1, 2), min_size=3, max_size=3), min_size=2, max_size=30))
def test_alpha_matches_krippendorff_package(rows: list[list[int]]) -> None:
    kr = pytest.importorskip("krippendorff")
    L = np.array(rows)  # (items, sources), -1 = no vote
    if (L >= 0).sum() == 0:
        return
    votes = votes_from_matrix(L)
    ours = krippendorff_alpha(votes)
    data = np.where(L >= 0, L, np.nan).T.astype(float)  # (raters, units)
    pairable = ((L >= 0).sum(axis=1) >= 2).any()
    values = set(L[(L >= 0).sum(axis=1) >= 2].ravel()) - {-1}
    if not pairable:
        assert np.isnan(ours)
    elif len(values) < 2:
        assert ours == 1.0
    else:
        theirs = kr.alpha(reliability_data=data, level_of_measurement="nominal")
        assert np.isclose(ours, theirs)
