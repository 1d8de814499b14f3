"""``DawidSkene(engine=...)``: the in-memory EM loop run over vote chunks gives the same fit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truelabel.aggregate import DawidSkene, OneCoinDawidSkene, PooledDawidSkene
from truelabel.scale import ChunkedDawidSkene, LocalEngine
from truelabel.sources import votes_from_matrix


def crowd(n: int, m: int, k: int, seed: int, missing: float = 0.5) -> object:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    acc = rng.uniform(0.35, 0.9, m)
    L = np.where(rng.random((n, m)) < acc, y[:, None], rng.integers(0, k, (n, m)))
    L[rng.random((n, m)) < missing] = -1
    return votes_from_matrix(L, n_classes=k)


def assert_same_fit(a: DawidSkene, b: DawidSkene) -> None:
    np.testing.assert_allclose(b.posterior_, a.posterior_, atol=2e-5)
    np.testing.assert_allclose(b.confusion_, a.confusion_, atol=2e-5)
    np.testing.assert_allclose(b.prior_, a.prior_, atol=2e-6)
    assert b.n_iter_ == a.n_iter_
    assert b.converged_ == a.converged_
    np.testing.assert_allclose(b.log_likelihood_history_, a.log_likelihood_history_, rtol=1e-9)
    np.testing.assert_array_equal(b.labels_, a.labels_)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(20, 300),
    m=st.integers(2, 8),
    k=st.integers(2, 5),
    seed=st.integers(0, 10_000),
    chunk=st.integers(1, 400),
    model=st.sampled_from([DawidSkene, OneCoinDawidSkene, PooledDawidSkene]),
)
def test_engine_em_equals_in_memory(
    n: int, m: int, k: int, seed: int, chunk: int, model: type[DawidSkene]
) -> None:
    votes = crowd(n, m, k, seed)
    a = model(max_iter=30).fit(votes)  # type: ignore[arg-type]
    b = model(max_iter=30, engine="local", chunk_votes=chunk).fit(votes)  # type: ignore[arg-type]
    assert_same_fit(a, b)


@pytest.mark.parametrize(
    "params",
    [
        {"class_prior": [0.6, 0.3, 0.1]},
        {"acceleration": "squarem"},
        {"pooling": 3.0, "smoothing": 0.5},
    ],
)
def test_engine_em_honours_every_option(params: dict[str, object]) -> None:
    """class_prior and acceleration were ignored by the old ChunkedDawidSkene."""
    votes = crowd(800, 9, 3, seed=4)
    gold = np.full(800, -1)
    gold[:40] = 1
    a = DawidSkene(**params).fit(votes, gold=gold)  # type: ignore[arg-type]
    b = DawidSkene(**params, engine=LocalEngine(), chunk_votes=300).fit(votes, gold=gold)  # type: ignore[arg-type]
    assert_same_fit(a, b)
    c = ChunkedDawidSkene(model_params=params, chunk_votes=250).fit(votes, gold=gold)
    np.testing.assert_allclose(c.posterior_, a.posterior_, atol=2e-5)
    assert c.n_iter_ == a.n_iter_
    if "class_prior" in params:
        np.testing.assert_allclose(a.prior_, [0.6, 0.3, 0.1], atol=1e-5)
