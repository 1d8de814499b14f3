"""Choosing the neighbour weight on the data (same-fold neighbours, log-loss)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truelabel._errors import InputError
from truelabel.audit import NEIGHBOR_WEIGHTS, choose_neighbor_weight


def _oracle(labels, probs, knn, folds, weights):  # type: ignore[no-untyped-def]
    """Item by item: the mean over same-fold neighbours, then the log-loss per weight."""
    losses = {}
    for w in weights:
        total = 0.0
        for i in range(len(labels)):
            same = [j for j in knn[i] if j >= 0 and folds[j] == folds[i]]
            own = probs[i, labels[i]]
            nb = np.mean([probs[j, labels[i]] for j in same]) if same else own
            total += -np.log(max((1 - w) * own + w * nb, 1e-12))
        losses[w] = total / len(labels)
    return losses


@settings(deadline=None, max_examples=40)
@given(seed=st.integers(0, 10_000))
def test_vectorised_equals_the_loop_oracle(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k, kk = 30, 3, 6
    labels = rng.integers(0, k, n)
    probs = rng.dirichlet(np.ones(k), n).astype(np.float32)
    knn = np.stack([rng.choice(np.delete(np.arange(n), i), kk, replace=False) for i in range(n)])
    folds = rng.integers(0, 3, n)
    w, losses = choose_neighbor_weight(labels, probs, knn, folds)
    expected = _oracle(labels, probs, knn, folds, NEIGHBOR_WEIGHTS)
    for key in NEIGHBOR_WEIGHTS:
        assert losses[key] == pytest.approx(expected[key], rel=1e-6)
    assert w == min(expected, key=lambda x: (round(expected[x], 9), x))


def _clusters(informative: bool, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Items in pairs of neighbours; each item's own probabilities are noisy. When
    `informative`, a neighbour shares the item's label (its probabilities help)."""
    rng = np.random.default_rng(seed)
    n, k = 400, 2
    labels = rng.integers(0, k, n)
    partner = np.arange(n) ^ 1  # 0<->1, 2<->3, ...
    if informative:
        labels[1::2] = labels[0::2]  # pairs share a label
    sharp = np.eye(k)[labels] * 0.6 + 0.2  # 0.8 on the label ...
    flip = rng.random(n) < 0.2
    probs = np.where(flip[:, None], sharp[:, ::-1], sharp)  # ... and wrong 20%: calibrated
    knn = partner[:, None]
    folds = np.zeros(n, dtype=np.int64)  # one fold: every neighbour qualifies
    return labels, probs, knn, folds


def test_informative_neighbours_get_weight_uninformative_get_none() -> None:
    w, losses = choose_neighbor_weight(*_clusters(informative=True))
    assert w > 0 and losses[w] < losses[0.0]
    w, _ = choose_neighbor_weight(*_clusters(informative=False))
    assert w == 0.0


def test_neighbours_from_other_folds_are_ignored() -> None:
    labels, probs, knn, folds = _clusters(informative=True)
    folds = np.arange(len(labels)) % 2  # every item's partner sits in the other fold
    w, losses = choose_neighbor_weight(labels, probs, knn, folds)
    assert w == 0.0 and len(set(np.round(list(losses.values()), 12))) == 1


def test_bad_input() -> None:
    labels, probs, knn, folds = _clusters(informative=True)
    with pytest.raises(InputError, match="folds must be an int array"):
        choose_neighbor_weight(labels, probs, knn, folds[:-1])
    with pytest.raises(InputError, match="include 0"):
        choose_neighbor_weight(labels, probs, knn, folds, weights=(0.25, 0.5))
