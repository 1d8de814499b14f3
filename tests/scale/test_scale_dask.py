"""The Dask engine gives the single-machine results (LocalCluster with threads: fast)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from scale_helpers import noisy_probs

from truelabel import InputError
from truelabel.aggregate import DawidSkene
from truelabel.audit import find_label_issues
from truelabel.scale import (
    ChunkedDawidSkene,
    DaskEngine,
    audit_probabilities,
    make_engine,
    save_vote_store,
)
from truelabel.sources import votes_from_matrix


@pytest.fixture(scope="module")
def engine() -> Iterator[DaskEngine]:
    eng = DaskEngine(n_workers=2, processes=False)
    yield eng
    eng.close()


def crowd(n: int = 1500, m: int = 10, k: int = 3, seed: int = 0) -> tuple[object, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    acc = rng.uniform(0.35, 0.9, m)
    L = np.where(rng.random((n, m)) < acc, y[:, None], rng.integers(0, k, (n, m)))
    L[rng.random((n, m)) < 0.6] = -1
    return votes_from_matrix(L, n_classes=k), y


def test_dask_audit_flags_equal_single_machine(engine: DaskEngine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    labels, probs = noisy_probs(6000, 5, seed=11)
    expected = find_label_issues(labels, probs)
    local = audit_probabilities(labels, probs, chunk_rows=700)
    dist = audit_probabilities(labels, probs, chunk_rows=700, engine=engine)
    np.testing.assert_array_equal(dist.is_label_issue, expected)
    np.testing.assert_array_equal(dist.confident_joint, local.confident_joint)
    np.testing.assert_allclose(dist.label_quality, local.label_quality)  # type: ignore[arg-type]
    # .npy inputs: each task memory-maps its own rows
    np.save(tmp_path / "p.npy", probs)
    np.save(tmp_path / "y.npy", labels)
    on_disk = audit_probabilities(
        tmp_path / "y.npy", tmp_path / "p.npy", chunk_rows=900, engine=engine, filter_by="both"
    )
    np.testing.assert_array_equal(
        on_disk.is_label_issue, find_label_issues(labels, probs, filter_by="both")
    )


@pytest.mark.parametrize("model", ["dawid_skene", "one_coin"])
def test_dask_dawid_skene_equals_in_memory(engine: DaskEngine, model: str) -> None:
    votes, _ = crowd()
    from truelabel.aggregate import OneCoinDawidSkene

    ref = (DawidSkene() if model == "dawid_skene" else OneCoinDawidSkene()).fit(votes)  # type: ignore[arg-type]
    got = ChunkedDawidSkene(model=model, chunk_votes=500, engine=engine).fit(votes)  # type: ignore[arg-type]
    assert got.n_chunks_ > 3
    np.testing.assert_allclose(got.posterior_, ref.posterior_, atol=1e-4)
    np.testing.assert_allclose(got.confusion_, ref.confusion_, atol=1e-4)
    assert got.n_iter_ == ref.n_iter_


def test_chunked_dawid_skene_from_a_vote_store_with_gold(tmp_path) -> None:  # type: ignore[no-untyped-def]
    votes, y = crowd(seed=3)
    gold = np.full(len(y), -1)
    gold[:40] = y[:40]
    ref = DawidSkene().fit(votes, gold=gold)  # type: ignore[arg-type]
    store = save_vote_store(votes, tmp_path / "votes")  # type: ignore[arg-type]
    got = ChunkedDawidSkene(chunk_votes=333).fit(store, gold=gold)
    np.testing.assert_allclose(got.posterior_, ref.posterior_, atol=1e-4)
    np.testing.assert_array_equal(got.labels_[:40], y[:40])
    assert got.posterior_.dtype == np.float32


def test_chunked_dawid_skene_bad_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    votes, _ = crowd(n=50)
    with pytest.raises(InputError, match="'max_iter' parameter of ChunkedDawidSkene"):
        ChunkedDawidSkene(max_iter=0).fit(votes)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="not a vote store"):
        ChunkedDawidSkene().fit(tmp_path)
    with pytest.raises(InputError, match="gold holds class code 7"):
        ChunkedDawidSkene().fit(votes, gold=np.full(50, 7))  # type: ignore[arg-type]


def test_scheduler_address_is_checked() -> None:
    with pytest.raises(InputError, match="not a scheduler address"):
        make_engine("dask", scheduler="localhost:8786")
    with pytest.raises(InputError, match="only applies to --engine dask"):
        make_engine("local", scheduler="tcp://127.0.0.1:8786")


@pytest.mark.shared
def test_chunked_dawid_skene_on_real_crowd_data() -> None:
    from _shared import shared_path
    from truelabel.sources import votes_from_table

    answers = shared_path("crowd", "zheng2017", "dog", "answer.csv")
    votes = votes_from_table(
        answers, item_column="question", source_column="worker", label_column="answer"
    )
    ref = DawidSkene().fit(votes)
    got = ChunkedDawidSkene(chunk_votes=1000).fit(votes)
    assert got.n_chunks_ >= 8
    np.testing.assert_allclose(got.posterior_, ref.posterior_, atol=1e-4)
