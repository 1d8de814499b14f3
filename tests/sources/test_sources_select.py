"""Budget selection: which items to send to the LLM or a person."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truelabel import InputError
from truelabel.sources import SELECTION_STRATEGIES, budget_curve, select_items


def _blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(5, 8)) * 3
    y = np.repeat(np.arange(5), [200, 100, 50, 30, 20])  # unbalanced
    return (centres[y] + rng.normal(size=(400, 8))).astype(np.float32), y


@pytest.mark.parametrize("strategy", sorted(SELECTION_STRATEGIES))
def test_every_strategy_returns_k_distinct_sorted_rows(strategy: str) -> None:
    X, y = _blobs()
    proba = np.full((len(X), 5), 0.2, dtype=np.float32)
    idx = select_items(X, 25, proba=proba, strategy=strategy)
    assert idx.dtype == np.int64 and len(idx) == 25
    assert len(np.unique(idx)) == 25 and np.all(np.diff(idx) > 0)
    again = select_items(X, 25, proba=proba, strategy=strategy)
    np.testing.assert_array_equal(idx, again)  # same seed, same choice


def test_representative_strategies_cover_small_clusters() -> None:
    X, y = _blobs()
    for strategy in ("kcenter", "typical", "hybrid"):
        idx = select_items(X, 10, strategy=strategy)
        assert len(np.unique(y[idx])) == 5, strategy  # all five clusters, even the 20-item one


def test_uncertainty_picks_the_most_uncertain() -> None:
    X = np.zeros((4, 2), dtype=np.float32)
    proba = np.array([[1, 0], [0.5, 0.5], [0.9, 0.1], [0.6, 0.4]], dtype=np.float32)
    assert select_items(X, 2, proba=proba, strategy="uncertainty").tolist() == [1, 3]


def test_exclude_and_bad_inputs() -> None:
    X, _ = _blobs()
    idx = select_items(X, 30, exclude=np.arange(100), strategy="kcenter")
    assert idx.min() >= 100
    with pytest.raises(InputError, match="unknown selection strategy 'smart'"):
        select_items(X, 3, strategy="smart")
    with pytest.raises(InputError, match="budget k=500"):
        select_items(X, 500)
    with pytest.raises(InputError, match="budget k=-1"):
        select_items(X, -1)
    with pytest.raises(InputError, match="needs proba"):
        select_items(X, 3, strategy="uncertainty")
    with pytest.raises(InputError, match="proba has 3 rows"):
        select_items(X, 3, proba=np.ones((3, 2)) / 2)
    assert len(select_items(X, 0)) == 0


@settings(deadline=None, max_examples=20)
@given(n=st.integers(5, 40), k=st.integers(1, 5), seed=st.integers(0, 1000))
def test_kcenter_property(n: int, k: int, seed: int) -> None:
    X = np.random.default_rng(seed).normal(size=(n, 3)).astype(np.float32)
    idx = select_items(X, k, strategy="kcenter")
    assert len(np.unique(idx)) == k


def test_budget_curve_beats_chance_and_reports_rows() -> None:
    X, y = _blobs(1)
    Xe, ye = _blobs(2)
    rows = budget_curve(
        X, y, [10, 40], X_eval=X, y_eval=y, strategies=("hybrid", "random"), n_classes=5
    )
    assert [(r["strategy"], r["k"]) for r in rows] == [
        ("hybrid", 10),
        ("hybrid", 40),
        ("random", 10),
        ("random", 40),
    ]
    hyb = {r["k"]: r for r in rows if r["strategy"] == "hybrid"}
    assert hyb[40]["accuracy"] > 0.9 and hyb[10]["n_classes_seen"] == 5
    del Xe, ye
