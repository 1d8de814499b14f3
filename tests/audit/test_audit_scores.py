"""Label-quality scores: hand-checked values, cleanlab agreement, properties, neighbours."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truelabel import InputError
from truelabel.audit import (
    LABEL_QUALITY_METHODS,
    SCORE_METHODS,
    get_label_quality,
    get_label_quality_scores,
    get_neighbor_agreement_scores,
)

LABELS = np.array([0, 1, 2])
PROBS = np.array([[0.7, 0.2, 0.1], [0.7, 0.2, 0.1], [0.0, 0.0, 1.0]])


def test_hand_checked_values() -> None:
    # self-confidence: p[label] = .7, .2, 1.0
    np.testing.assert_allclose(get_label_quality_scores(LABELS, PROBS), [0.7, 0.2, 1.0], atol=1e-7)
    # normalized margin: (p[label] - max other + 1) / 2 = (.7-.2+1)/2, (.2-.7+1)/2, (1-0+1)/2
    np.testing.assert_allclose(
        get_label_quality_scores(LABELS, PROBS, method="normalized_margin"),
        [0.75, 0.25, 1.0],
        atol=1e-7,
    )
    # confidence-weighted entropy, item 0: H = -(.7 ln .7 + .2 ln .2 + .1 ln .1) / ln 3 = .72985,
    # x = .72985 / .7 = 1.04264, score = ln(2.04264) / 1.04264 = .68503
    # item 2 is one-hot on its label: x ~ 0 -> score ~ 1 (cleanlab 2.9 returns 0 here)
    cwe = get_label_quality_scores(LABELS, PROBS, method="confidence_weighted_entropy")
    assert cwe[0] == pytest.approx(0.68503, abs=1e-4)
    assert cwe[2] > 0.999
    # a one-hot prediction of another class (K=2): p' = [1e-6, 1], H = 1.38e-5 / ln 2 = 2e-5,
    # x = 2e-5 / 1e-6 = 20 -> ln(21) / 20 = .152, below the uncertain item 1 (x = 3.649 -> .421)
    wrong = get_label_quality_scores([0], [[0.0, 1.0]], method="confidence_weighted_entropy")
    assert wrong[0] == pytest.approx(0.152, abs=0.01)
    assert cwe[1] == pytest.approx(0.421, abs=1e-3)


@pytest.mark.parametrize("method", SCORE_METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_cleanlab(method: str, dtype: type) -> None:
    rank = pytest.importorskip("cleanlab.rank")
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(5, 0.4), size=500).astype(dtype)
    probs /= probs.sum(axis=1, keepdims=True)
    labels = rng.integers(0, 5, 500)
    ours = get_label_quality_scores(labels, probs, method=method)
    theirs = rank.get_label_quality_scores(labels, probs, method=method)
    # the entropy score smooths probabilities by 1e-6 (see its docstring)
    np.testing.assert_allclose(
        ours, theirs, atol=5e-4 if method == "confidence_weighted_entropy" else 2e-6
    )


cases = st.tuples(st.integers(2, 6), st.integers(1, 50), st.integers(0, 2**32 - 1))


def _case(k: int, n: int, seed: int, dtype: type = np.float32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(k, 0.3), size=n).astype(dtype)
    probs /= probs.sum(axis=1, keepdims=True)
    return rng.integers(0, k, n), probs


@settings(deadline=None, max_examples=40)
@given(
    case=cases,
    method=st.sampled_from(LABEL_QUALITY_METHODS),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_scores_are_float32_in_unit_interval(
    case: tuple[int, int, int], method: str, dtype: type
) -> None:
    labels, probs = _case(*case, dtype=dtype)
    s = get_label_quality(labels, probs, method=method)
    assert s.dtype == np.float32 and s.shape == labels.shape
    assert np.all((s >= 0) & (s <= 1))
    if method in SCORE_METHODS:
        t = get_label_quality_scores(labels, probs, method=method)
        assert t.dtype == np.float32 and np.all((t >= 0) & (t <= 1))


@settings(deadline=None, max_examples=30)
@given(case=cases, method=st.sampled_from(LABEL_QUALITY_METHODS))
def test_row_permutation_permutes_scores(case: tuple[int, int, int], method: str) -> None:
    labels, probs = _case(*case)
    perm = np.random.default_rng(case[2]).permutation(labels.shape[0])
    a = get_label_quality(labels, probs, method=method)
    b = get_label_quality(labels[perm], probs[perm], method=method)
    np.testing.assert_allclose(a[perm], b, atol=1e-6)


def test_neighbor_agreement_hand_checked() -> None:
    labels = np.array([0, 0, 1, 1])
    knn = np.array([[1, 2], [0, 2], [3, 0], [2, 1]])
    # hard: item 0's neighbours carry labels 0, 1 -> 1/2; item 2's: 1, 0 -> 1/2; item 1: 0, 1 -> 1/2
    np.testing.assert_allclose(get_neighbor_agreement_scores(labels, knn), [0.5, 0.5, 0.5, 0.5])
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.1, 0.9]])
    # soft: item 0 = mean(p[1, 0], p[2, 0]) = (.8 + .4) / 2 = .6 ; item 1 = (.9 + .4) / 2 = .65
    # item 2 = mean(p[3, 1], p[0, 1]) = (.9 + .1) / 2 = .5 ; item 3 = mean(p[2, 1], p[1, 1]) = .4
    soft = get_neighbor_agreement_scores(labels, knn, pred_probs=probs)
    np.testing.assert_allclose(soft, [0.6, 0.65, 0.5, 0.4], atol=1e-6)
    assert soft.dtype == np.float32


def test_combined_uses_neighbours() -> None:
    labels = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.1, 0.9]])
    knn = np.array([[1, 2], [0, 2], [3, 0], [2, 1]])
    base = get_label_quality(labels, probs)
    both = get_label_quality(labels, probs, knn_indices=knn, neighbor_weight=0.5)
    agree = get_neighbor_agreement_scores(labels, knn, pred_probs=probs)
    np.testing.assert_allclose(both, 0.5 * base + 0.5 * agree, atol=1e-6)
    np.testing.assert_array_equal(
        get_label_quality(labels, probs, knn_indices=knn, neighbor_weight=0.0), base
    )


def test_bad_inputs() -> None:
    with pytest.raises(
        InputError, match="'method' parameter of get_label_quality_scores must be one of"
    ):
        get_label_quality_scores(LABELS, PROBS, method="margin")
    with pytest.raises(InputError, match="'method' parameter of get_label_quality must be one of"):
        get_label_quality(LABELS, PROBS, method="nope")
    with pytest.raises(InputError, match="neighbor_weight"):
        get_label_quality(LABELS, PROBS, neighbor_weight=2.0)
    with pytest.raises(InputError, match="knn_indices has 2 rows but there are 3 items"):
        get_label_quality(LABELS, PROBS, knn_indices=np.zeros((2, 1), dtype=int))
    with pytest.raises(InputError, match="outside"):
        get_neighbor_agreement_scores(LABELS, np.array([[1], [2], [3]]))
    with pytest.raises(InputError, match="integer row indices"):
        get_neighbor_agreement_scores(LABELS, np.zeros((3, 1)))
    with pytest.raises(InputError, match="2-D"):
        get_neighbor_agreement_scores(LABELS, np.zeros(3, dtype=int))
    with pytest.raises(InputError, match="NaN"):
        get_label_quality_scores(LABELS, np.full((3, 3), np.nan))


@pytest.mark.parametrize("method", LABEL_QUALITY_METHODS)
def test_input_is_never_modified(method: str) -> None:
    # a single row once hit a view-not-copy path that wrote into the caller's array
    for n in (1, 2, 5000):
        labels, probs = _case(3, n, 7)
        before = probs.copy()
        get_label_quality(labels, probs, method=method)
        np.testing.assert_array_equal(probs, before)
