"""MatrixCompletionLabelModel (method "mc"): known answers, invariances, abstains, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from _shared import shared_path
from truelabel import InputError
from truelabel.aggregate import (
    MajorityVote,
    MatrixCompletionLabelModel,
    aggregate_votes,
    make_label_model,
)
from truelabel.cli import app
from truelabel.sources import votes_from_matrix


def _lfs(
    acc: list[float], n: int = 3000, k: int = 2, abstain: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Conditionally independent LFs: right with prob acc[j], else a uniform wrong class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    cols = []
    for a in acc:
        wrong = (y + rng.integers(1, k, n)) % k
        cols.append(np.where(rng.random(n) < a, y, wrong))
    L = np.stack(cols, axis=1)
    L[rng.random(L.shape) < abstain] = -1
    return L, y


def _votes(L: np.ndarray, k: int = 2):  # type: ignore[no-untyped-def]
    return votes_from_matrix(L, classes=list(range(k)))


def _accuracy(model: MatrixCompletionLabelModel) -> np.ndarray:
    k = len(model.classes_)
    conf = np.asarray(model.confusion_, dtype=np.float64)[:, :, :k]
    conf = conf / conf.sum(axis=2, keepdims=True)
    return np.einsum("skk->sk", conf).mean(axis=1)  # mean over classes of P(right | y)


@pytest.mark.parametrize("k", [2, 3])
def test_recovers_known_accuracies(k: int) -> None:
    acc = [0.9, 0.8, 0.7, 0.6, 0.55]
    L, _ = _lfs(acc, n=4000, k=k)
    m = MatrixCompletionLabelModel(solver="lbfgs", n_epochs=500).fit(_votes(L, k))
    np.testing.assert_allclose(_accuracy(m), acc, atol=0.05)
    gd = MatrixCompletionLabelModel().fit(_votes(L, k))  # early-stopped default
    np.testing.assert_allclose(_accuracy(gd), acc, atol=0.08)
    # ranks the sources as their true accuracies do
    assert list(np.argsort(-_accuracy(gd))) == list(range(len(acc)))


def test_beats_majority_vote_with_unequal_accuracies() -> None:
    L, y = _lfs([0.95, 0.9, 0.6, 0.55, 0.55, 0.55], n=3000, k=3)
    v = _votes(L, 3)
    mc = MatrixCompletionLabelModel().fit(v)
    mv = MajorityVote().fit(v)
    acc_mc = float((mc.labels_ == y).mean())
    acc_mv = float((mv.labels_ == y).mean())
    assert acc_mc >= acc_mv + 0.02, (acc_mc, acc_mv)


def test_class_prior_is_respected() -> None:
    L, _ = _lfs([0.8, 0.7, 0.7, 0.6], n=1000, k=3)
    L[:50] = -1  # items without votes get the prior
    m = MatrixCompletionLabelModel(class_prior=[2, 3, 5]).fit(_votes(L, 3))
    np.testing.assert_allclose(m.prior_, [0.2, 0.3, 0.5], atol=1e-6)
    np.testing.assert_allclose(m.posterior_[:50], np.tile([0.2, 0.3, 0.5], (50, 1)), atol=1e-5)
    # a strong prior moves the argmax of weakly supported items toward the big class
    flat = MatrixCompletionLabelModel(class_prior=[1, 1, 1]).fit(_votes(L, 3))
    big = MatrixCompletionLabelModel(class_prior=[0.05, 0.05, 0.9]).fit(_votes(L, 3))
    assert (big.labels_ == 2).sum() > (flat.labels_ == 2).sum()


def test_invariant_to_renaming_sources_and_classes() -> None:
    L, _ = _lfs([0.85, 0.75, 0.7, 0.6, 0.6], n=1500, k=3, seed=1)
    base = MatrixCompletionLabelModel().fit(_votes(L, 3))
    perm_s = np.array([3, 0, 4, 2, 1])
    by_src = MatrixCompletionLabelModel().fit(_votes(L[:, perm_s], 3))
    np.testing.assert_allclose(by_src.posterior_, base.posterior_, atol=1e-4)
    np.testing.assert_allclose(by_src.confusion_, base.confusion_[perm_s], atol=1e-4)
    perm_c = np.array([2, 0, 1])  # class c is renamed perm_c[c]
    L2 = np.where(L >= 0, perm_c[np.clip(L, 0, None)], -1)
    by_cls = MatrixCompletionLabelModel().fit(_votes(L2, 3))
    np.testing.assert_allclose(by_cls.posterior_[:, perm_c], base.posterior_, atol=1e-4)


def test_abstains_as_answers_and_new_votes() -> None:
    L, y = _lfs([0.85, 0.75, 0.7, 0.65], n=1200, k=2, abstain=0.6)
    v = _votes(L)
    res = aggregate_votes(v, method="mc")  # wide matrix: abstaining modelled as an answer
    conf = res.model.confusion_
    assert conf.shape == (4, 2, 3)
    np.testing.assert_allclose(conf.sum(axis=2), 1.0, atol=1e-5)
    assert res.summary["method"] == "mc" and res.summary["abstain_modelled"]
    assert float((res.posterior.argmax(1) == y).mean()) > 0.75
    assert set(res.sources.columns) >= {"estimated_accuracy", "abstain_rate"}
    # scoring the fitted votes again reproduces the posterior; without the abstain column too
    np.testing.assert_allclose(res.model.predict_proba(v), res.model.posterior_, atol=1e-5)
    with_term = MatrixCompletionLabelModel(abstain_term=True).fit(v)
    assert np.isfinite(with_term.posterior_).all()
    np.testing.assert_allclose(with_term.posterior_.sum(axis=1), 1.0, atol=1e-5)


def test_gold_is_clamped() -> None:
    L, y = _lfs([0.8, 0.7, 0.6], n=300)
    gold = np.full(300, -1)
    gold[:20] = 1 - y[:20]  # deliberately opposite: clamping must win
    m = MatrixCompletionLabelModel().fit(_votes(L), gold)
    assert (m.labels_[:20] == gold[:20]).all()


def test_make_label_model_and_params() -> None:
    m = make_label_model("mc", lr=0.001, class_prior=None)
    assert isinstance(m, MatrixCompletionLabelModel) and m.lr == 0.001


@pytest.mark.parametrize("n_lfs", [1, 2])
def test_fewer_than_three_sources_is_refused(n_lfs: int) -> None:
    L, _ = _lfs([0.8, 0.7][:n_lfs], n=100)
    with pytest.raises(InputError, match="at least 3 sources"):
        MatrixCompletionLabelModel().fit(_votes(L))


def test_a_silent_source_does_not_count() -> None:
    L, _ = _lfs([0.8, 0.7, 0.6], n=100)
    L[:, 2] = -1
    with pytest.raises(InputError, match="got 2"):
        MatrixCompletionLabelModel().fit(_votes(L))


def test_bad_params_and_too_large() -> None:
    L, _ = _lfs([0.8, 0.7, 0.6], n=100)
    with pytest.raises(InputError, match="'solver'"):
        MatrixCompletionLabelModel(solver="adam").fit(_votes(L))
    with pytest.raises(InputError, match="'lr'"):
        MatrixCompletionLabelModel(lr=0.0).fit(_votes(L))
    with pytest.raises(InputError, match="class_prior has 3 entries"):
        MatrixCompletionLabelModel(class_prior=[1, 1, 1]).fit(_votes(L))
    wide = np.zeros((10, 2001), dtype=int)
    with pytest.raises(InputError, match="dense"):
        MatrixCompletionLabelModel().fit(_votes(wide))


@settings(deadline=None, max_examples=25)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(2, 4),
    n_lfs=st.integers(3, 6),
    abstain=st.floats(0.0, 0.9),
)
def test_posterior_is_a_distribution(seed: int, k: int, n_lfs: int, abstain: float) -> None:
    rng = np.random.default_rng(seed)
    L = rng.integers(0, k, size=(40, n_lfs))
    L[rng.random(L.shape) < abstain] = -1
    L[0, :3] = 0  # at least three sources vote
    m = MatrixCompletionLabelModel().fit(_votes(L, k))
    p = m.posterior_
    assert p.shape == (40, k) and np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert ((m.mu_ >= 0) & (m.mu_ <= 1)).all()


def test_wrench_youtube_valid() -> None:
    from truelabel.sources._wrench import read_wrench

    d = shared_path("weak-supervision", "wrench", "youtube")
    tr, va = read_wrench(d / "train.json"), read_wrench(d / "valid.json")
    res = aggregate_votes(tr.votes(), method="mc")
    acc = float((res.model.predict_proba(va.votes()).argmax(axis=1) == va.gold).mean())
    assert acc > 0.78  # 0.833 measured (majority vote: 0.758)


def test_cli_method_mc(tmp_path: Path) -> None:
    L, _ = _lfs([0.85, 0.75, 0.7, 0.6], n=60)
    rows = [(f"i{i}", f"lf{j}", int(L[i, j])) for i in range(60) for j in range(4) if L[i, j] >= 0]
    p = tmp_path / "votes.csv"
    pd.DataFrame(rows, columns=["item", "rule", "label"]).to_csv(p, index=False)
    r = CliRunner().invoke(
        app,
        [
            "aggregate",
            str(p),
            "--item-column",
            "item",
            "--source-column",
            "rule",
            "--label-column",
            "label",
            "--method",
            "mc",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "labels.parquet").is_file()
