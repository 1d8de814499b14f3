"""class_prior (fixed class prior), SQUAREM acceleration and the direct CSR vote matrix."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

from truelabel import ConvergenceWarning, InputError
from truelabel.aggregate import (
    MACE,
    DawidSkene,
    FeatureDawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    PooledDawidSkene,
    WeightedVote,
    aggregate,
    aggregate_votes,
    select_label_model,
)
from truelabel.aggregate._base import _vote_matrix
from truelabel.cli import app
from truelabel.sources import VoteArrays, votes_from_matrix

EM = [DawidSkene, PooledDawidSkene, OneCoinDawidSkene, MACE]


def _crowd(n: int = 300, k: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = (rng.random(n) < 0.2).astype(int) if k == 2 else rng.integers(0, k, n)
    cols = [np.where(rng.random(n) < a, truth, rng.integers(0, k, n)) for a in (0.8, 0.7, 0.65)]
    return np.stack(cols, axis=1), truth


# ------------------------------------------------------------------ class_prior


@pytest.mark.parametrize("cls", EM)
def test_fixed_class_prior_is_kept_by_em(cls: type) -> None:
    L, _ = _crowd()
    v = votes_from_matrix(L, n_classes=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = cls(class_prior=[3, 1]).fit(v)  # normalised to (0.75, 0.25)
    np.testing.assert_allclose(m.prior_, [0.75, 0.25], atol=1e-6)


def test_class_prior_moves_a_tied_item_by_bayes_rule() -> None:
    # Item 0 gets one vote for each class from two workers; the other items fix the
    # workers' confusions. Its posterior must be prior x likelihood with the fixed prior.
    L = np.array([[0, 1]] + [[0, 0]] * 20 + [[1, 1]] * 20)
    v = votes_from_matrix(L, n_classes=2)
    sym = DawidSkene(class_prior=[0.5, 0.5], smoothing=1.0).fit(v)
    skew = DawidSkene(class_prior=[0.9, 0.1], smoothing=1.0).fit(v)
    assert sym.posterior_[0, 0] == pytest.approx(0.5, abs=1e-3)
    c = skew.confusion_.astype(np.float64)
    unnorm = np.array([0.9, 0.1]) * c[0, :, 0] * c[1, :, 1]
    np.testing.assert_allclose(skew.posterior_[0], unnorm / unnorm.sum(), atol=1e-5)
    assert skew.posterior_[0, 0] > 0.85


@pytest.mark.parametrize("cls", [MajorityVote, WeightedVote])
def test_vote_counting_models_give_the_prior_to_items_without_votes(cls: type) -> None:
    L = np.array([[0, 0], [0, 0], [1, 1], [-1, -1]])
    v = votes_from_matrix(L, n_classes=2)
    m = cls(class_prior=[0.2, 0.8]).fit(v)
    np.testing.assert_allclose(m.posterior_[3], [0.2, 0.8], atol=1e-6)
    np.testing.assert_allclose(m.posterior_[0], [1.0, 0.0], atol=1e-6)


def test_features_model_uses_the_class_prior_as_global_prior() -> None:
    L, truth = _crowd(120)
    X = np.random.default_rng(0).normal(size=(120, 4)) + truth[:, None]
    m = FeatureDawidSkene(class_prior=[0.5, 0.5], n_rounds=1).fit(
        votes_from_matrix(L, n_classes=2), features=X
    )
    np.testing.assert_allclose(m.prior_, [0.5, 0.5], atol=1e-6)


@pytest.mark.parametrize(
    ("prior", "match"),
    [
        ([0.5, 0.3, 0.2], "3 entries but there are 2 classes"),
        ([-1.0, 2.0], "non-negative"),
        ([0.0, 0.0], "positive sum"),
    ],
)
def test_bad_class_prior_is_refused(prior: list[float], match: str) -> None:
    v = votes_from_matrix(_crowd()[0], n_classes=2)
    with pytest.raises(InputError, match=match):
        DawidSkene(class_prior=prior).fit(v)


def test_class_prior_of_wrong_type_is_refused() -> None:
    v = votes_from_matrix(_crowd()[0], n_classes=2)
    with pytest.raises(InputError, match="class_prior"):
        DawidSkene(class_prior="abc").fit(v)


def test_aggregate_votes_and_select_pass_the_prior_to_every_model() -> None:
    v = votes_from_matrix(_crowd()[0], n_classes=2)
    for method in ("ds", "onecoin", "mace", "auto"):
        r = aggregate_votes(v, method=method, class_prior=[0.6, 0.4])
        if r.summary["method"] not in ("mv", "wawa"):
            np.testing.assert_allclose(r.model.prior_, [0.6, 0.4], atol=1e-6)
        assert r.summary["class_prior_fixed"] is True
    choice = select_label_model(v, class_prior=[0.6, 0.4])
    assert choice.method in choice.scores


def _votes_table() -> pd.DataFrame:
    L, _ = _crowd(60)
    names = np.array(["ham", "spam"])
    rows = [(f"i{i}", f"w{j}", names[L[i, j]]) for i in range(len(L)) for j in range(L.shape[1])]
    return pd.DataFrame(rows, columns=["item", "worker", "answer"])


def test_aggregate_reads_a_named_prior() -> None:
    df = _votes_table()
    kw = {"item_column": "item", "source_column": "worker", "label_column": "answer"}
    r = aggregate(df, method="ds", class_prior="spam=1,ham=3", **kw)
    np.testing.assert_allclose(r.model.prior_, [0.75, 0.25], atol=1e-6)
    r2 = aggregate(df, method="ds", class_prior={"ham": 0.75, "spam": 0.25}, **kw)
    np.testing.assert_allclose(r2.model.prior_, [0.75, 0.25], atol=1e-6)
    with pytest.raises(InputError, match="not in the votes"):
        aggregate(df, method="ds", class_prior="eggs=1", **kw)
    with pytest.raises(InputError, match="class=weight pairs"):
        aggregate(df, method="ds", class_prior="ham:0.5", **kw)


def test_cli_class_prior(tmp_path: Path) -> None:
    p = tmp_path / "votes.csv"
    _votes_table().to_csv(p, index=False)
    args = ["aggregate", str(p), "--item-column", "item", "--source-column", "worker"]
    args += ["--label-column", "answer", "--method", "ds", "--out", str(tmp_path / "out")]
    r = CliRunner().invoke(app, [*args, "--class-prior", "ham=0.9,spam=0.1"])
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["prior"]["ham"] == pytest.approx(0.9, abs=1e-6)
    r = CliRunner().invoke(app, [*args, "--class-prior", "nope", "--overwrite"])
    assert r.exit_code != 0
    assert "class=weight" in r.output


# ------------------------------------------------------------------ SQUAREM


def _hard_crowd(seed: int = 1) -> VoteArrays:
    rng = np.random.default_rng(seed)
    n, k = 400, 3
    truth = rng.integers(0, k, n)
    cols = []
    for a in rng.uniform(0.4, 0.9, 12):
        col = np.where(rng.random(n) < a, truth, rng.integers(0, k, n))
        col[rng.random(n) < 0.6] = -1  # sparse workers
        cols.append(col)
    return votes_from_matrix(np.stack(cols, axis=1), n_classes=k)


def test_squarem_reaches_the_em_fixed_point_monotonically() -> None:
    v = _hard_crowd()
    plain = DawidSkene(acceleration="none", tol=1e-10, max_iter=2000).fit(v)
    fast = DawidSkene(acceleration="squarem", tol=1e-10, max_iter=2000).fit(v)
    assert fast.converged_ and plain.converged_
    assert fast.log_likelihood_ == pytest.approx(plain.log_likelihood_, abs=1e-3)
    assert (fast.labels_ == plain.labels_).mean() >= 0.99
    hist = fast.log_likelihood_history_
    # accepted iterates never lose likelihood (up to the MAP smoothing: EM with
    # pseudo-counts is monotone in the penalised likelihood, not the plain one)
    assert np.all(np.diff(hist) >= -1e-4)
    assert fast.n_iter_ <= plain.n_iter_


def test_one_coin_ignores_squarem() -> None:
    v = _hard_crowd()
    a = OneCoinDawidSkene(acceleration="squarem").fit(v)
    b = OneCoinDawidSkene(acceleration="none").fit(v)
    np.testing.assert_array_equal(a.posterior_, b.posterior_)


def test_unknown_acceleration_is_refused() -> None:
    with pytest.raises(InputError, match="acceleration"):
        DawidSkene(acceleration="aitken").fit(_hard_crowd())


# ------------------------------------------------------------------ vote matrix


def test_vote_matrix_matches_coo_construction_with_unsorted_and_repeated_votes() -> None:
    rng = np.random.default_rng(0)
    n_votes, n_items, n_src, k = 500, 60, 7, 3
    item = rng.integers(0, n_items, n_votes).astype(np.int32)
    source = rng.integers(0, n_src, n_votes).astype(np.int32)
    label = rng.integers(0, k, n_votes).astype(np.int32)
    w = rng.random(n_votes).astype(np.float32)
    v = VoteArrays(
        item=item,
        source=source,
        label=label,
        n_items=n_items + 2,  # two items without votes
        n_sources=n_src,
        n_classes=k,
        item_ids=np.arange(n_items + 2),
        source_names=np.array([f"s{j}" for j in range(n_src)], dtype=object),
        classes=np.arange(k),
        is_gold_source=np.zeros(n_src, dtype=bool),
        weight=w,
    )
    A = _vote_matrix(v)
    ref = sp.coo_matrix(
        (w.astype(np.float64), (item, source.astype(np.int64) * k + label)),
        shape=(n_items + 2, n_src * k),
    ).toarray()
    np.testing.assert_allclose(A.toarray(), ref, rtol=1e-12)
    X = rng.random((n_src * k, 2))
    np.testing.assert_allclose(A @ X, ref @ X, rtol=1e-10)


# ------------------------------------------------------------------ best_source


def _one_expert_many_followers(seed: int = 0) -> tuple[VoteArrays, np.ndarray]:
    """One 95 % source and five sources that copy one shared 60 % answer (correlated)."""
    rng = np.random.default_rng(seed)
    n, k = 400, 3
    truth = rng.integers(0, k, n)
    expert = np.where(rng.random(n) < 0.95, truth, (truth + 1) % k)
    herd = np.where(rng.random(n) < 0.6, truth, (truth + 2) % k)
    cols = [expert] + [herd.copy() for _ in range(5)]
    return votes_from_matrix(np.stack(cols, axis=1), n_classes=k), truth


def test_best_source_follows_the_source_best_on_gold() -> None:
    from truelabel.aggregate import BestSource

    v, truth = _one_expert_many_followers()
    gold = np.full(v.n_items, -1)
    gold[:40] = truth[:40]
    m = BestSource().fit(v, gold)
    assert m.ranking_[0] == 0
    assert (m.labels_[40:] == truth[40:]).mean() >= 0.9
    # majority vote follows the correlated herd
    assert (MajorityVote().fit(v).labels_[40:] == truth[40:]).mean() < 0.7
    # the posterior of a followed vote is Bayes' rule with the gold-counted confusion
    np.testing.assert_allclose(m.posterior_.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(m.predict(v)[40:], m.classes_[m.labels_[40:]])


def test_best_source_falls_back_when_the_best_abstains() -> None:
    from truelabel.aggregate import BestSource

    L = np.array([[0, 1], [-1, 1], [1, 1], [0, 0]] * 10)
    gold = np.array([0, 1, 1, 0] * 10)
    v = votes_from_matrix(L, n_classes=2)
    m = BestSource().fit(v, np.where(np.arange(40) < 20, gold, -1))
    assert m.ranking_[0] == 0  # source 0 is always right where it answers
    assert m.labels_[21] == 1  # source 0 abstains on item 21: source 1's vote is used


def test_auto_with_gold_picks_best_source_when_sources_are_correlated() -> None:
    v, truth = _one_expert_many_followers()
    gold = np.full(v.n_items, -1)
    gold[:60] = truth[:60]
    choice = select_label_model(v, gold=gold)
    assert "best_source" in choice.scores
    assert choice.method == "best_source"
    r = aggregate_votes(v, method="auto", gold=gold)
    assert (np.argmax(r.posterior[60:], axis=1) == truth[60:]).mean() >= 0.9


def test_best_source_without_gold_ranks_by_one_coin_accuracy() -> None:
    from truelabel.aggregate import BestSource

    L, truth = _crowd(300, k=3)
    m = BestSource().fit(votes_from_matrix(L, n_classes=3))
    assert m.ranking_[0] == 0  # the 80 % worker
    assert m.posterior_.shape == (300, 3)


# ------------------------------------------------------------------ real data


def test_real_data_llm_emotion_best_source_with_50_gold() -> None:
    """13 models label llms_for_css/emotion; a fine-tuned RoBERTa beats 12 correlated LLMs."""
    from _shared import shared_path

    d = shared_path("llm-labels", "llms_for_css", "emotion")
    frames = []
    for f in sorted(d.glob("answer-*")):
        df = pd.read_csv(
            f, sep="\t", header=None, names=["row", "gold", "pred"], dtype=str, quoting=3
        )
        pred = df["pred"].fillna("").str.lstrip("&").str.strip().str[:1]
        frames.append(
            pd.DataFrame(
                {
                    "item": df["row"].astype(int),
                    "source": f.name.removeprefix("answer-"),
                    "label": pred.where(pred.isin(list("ABCDEF"))),
                    "gold": df["gold"].str.strip(),
                }
            )
        )
    long = pd.concat(frames, ignore_index=True)
    gold_by_item = long.groupby("item")["gold"].first()
    from truelabel.sources import votes_from_table

    v = votes_from_table(
        long.dropna(subset=["label"]),
        item_column="item",
        source_column="source",
        label_column="label",
        classes=list("ABCDEF"),
    )
    g = gold_by_item.loc[v.item_ids].map({c: i for i, c in enumerate("ABCDEF")}).to_numpy()
    sub = np.full(v.n_items, -1)
    pick = np.random.default_rng(0).choice(v.n_items, 50, replace=False)
    sub[pick] = g[pick]
    rest = np.setdiff1d(np.arange(v.n_items), pick)
    r = aggregate_votes(v, method="auto", gold=sub, random_state=0)
    assert r.summary["method"] == "best_source"
    assert str(v.source_names[r.model.ranking_[0]]) == "roberta"
    acc = (np.argmax(r.posterior[rest], axis=1) == g[rest]).mean()
    assert acc >= 0.9  # measured 0.915; Dawid-Skene without gold: 0.743


def test_cli_best_source(tmp_path: Path) -> None:
    p = tmp_path / "votes.csv"
    _votes_table().to_csv(p, index=False)
    args = ["aggregate", str(p), "--item-column", "item", "--source-column", "worker"]
    args += ["--label-column", "answer", "--method", "best_source", "--out", str(tmp_path / "o")]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["method"] == "best_source"
