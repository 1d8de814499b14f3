"""The CRF tagger: forward-backward and Viterbi against brute force, fit, save/load, CLI."""

from __future__ import annotations

import gzip
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from _shared import shared_path
from truelabel._sequence import forward_backward, viterbi
from truelabel.cli import app
from truelabel.learn import CRFTagger, entity_f1, load_tagger, train_tagger


def brute(em: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray):
    """All K**L paths of one sentence: marginals, best path, log Z (the test oracle)."""
    L, K = em.shape
    paths = np.array(list(itertools.product(range(K), repeat=L)))
    score = start[paths[:, 0]] + end[paths[:, -1]] + em[np.arange(L), paths].sum(axis=1)
    if L > 1:
        score = score + trans[paths[:, :-1], paths[:, 1:]].sum(axis=1)
    w = np.exp(score - score.max())
    w /= w.sum()
    marg = np.zeros((L, K))
    for t in range(L):
        np.add.at(marg[t], paths[:, t], w)
    log_z = np.log(np.exp(score - score.max()).sum()) + score.max()
    return marg, paths[score.argmax()], log_z


@settings(deadline=None, max_examples=60)
@given(
    lens=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    k=st.integers(2, 3),
    seed=st.integers(0, 10_000),
)
def test_forward_backward_and_viterbi_equal_brute_force(lens: list[int], k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    offsets = np.r_[0, np.cumsum(lens)]
    em = rng.normal(size=(offsets[-1], k)) * 2
    trans, start, end = rng.normal(size=(k, k)), rng.normal(size=k), rng.normal(size=k)
    fb = forward_backward(em, offsets, trans, start, end, pairwise=True)
    best = viterbi(em, offsets, trans, start, end)
    total = 0.0
    for s in range(len(lens)):
        a, b = offsets[s], offsets[s + 1]
        marg, path, log_z = brute(em[a:b], trans, start, end)
        np.testing.assert_allclose(fb.marginals[a:b], marg, atol=1e-5)
        assert best[a:b].tolist() == path.tolist()
        total += log_z
    assert fb.log_z == pytest.approx(total, rel=1e-9)
    # expected transitions: one per adjacent pair of tokens in a sentence
    assert fb.transition_counts.sum() == pytest.approx(sum(n - 1 for n in lens))


def slice_conll(tmp_path, split: str, n_lines: int):
    src = shared_path("token", "conll2003", "original", f"{split}.txt.gz")
    lines = gzip.open(src, "rt").read().splitlines()[:n_lines]
    path = tmp_path / f"{split}.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_tagger_learns_conll_and_round_trips(tmp_path) -> None:
    train = slice_conll(tmp_path, "train", 12_000)
    dev = slice_conll(tmp_path, "dev", 4_000)
    tt = train_tagger(train, holdout=0.0, random_state=0)
    from truelabel.io import load_conll

    ds = load_conll(dev, tag_names=tt.tag_names)
    pred = tt.predict(ds)
    f1 = entity_f1(ds.tags, pred, ds.offsets)["f1"]
    assert f1 > 0.74  # measured 0.777 (train: the first 12,000 lines, ~900 sentences)
    tt.save(tmp_path / "model")
    back = load_tagger(tmp_path / "model")
    np.testing.assert_array_equal(back.predict(ds), pred)
    np.testing.assert_allclose(back.predict_proba(ds), tt.predict_proba(ds), atol=1e-6)
    # same seed, same model
    again = train_tagger(train, holdout=0.0, random_state=0)
    np.testing.assert_array_equal(again.predict(ds), pred)


def test_tagger_l2_penalty_shrinks_the_hashed_weights(tmp_path) -> None:
    """The L2 penalty runs as Adam's coupled weight decay on the hashed table and the first
    dense layer (not on the transitions): a large ``l2`` must shrink exactly those."""
    from truelabel.io import load_conll

    ds = load_conll(slice_conll(tmp_path, "train", 3_000))
    feats = CRFTagger().features(ds.tokens, ds.offsets)
    fits = {
        l2: CRFTagger(epochs=1, l2=l2).fit(
            ds.tokens, ds.offsets, ds.tags, ds.tag_names, features=feats
        )
        for l2 in (0.0, 0.05)
    }
    plain, shrunk = fits[0.0], fits[0.05]
    # measured on these 3,000 lines: norms 12.0 -> 2.9 (table) and 11.2 -> 3.4 (dense layer)
    assert np.linalg.norm(shrunk.sparse_weights_) < 0.4 * np.linalg.norm(plain.sparse_weights_)
    assert np.linalg.norm(shrunk.dense_weights_[0]) < 0.5 * np.linalg.norm(plain.dense_weights_[0])
    assert np.abs(shrunk.transitions_).sum() > 0  # not decayed to nothing


def test_tagger_refuses_mismatched_inputs() -> None:
    from truelabel import InputError

    with pytest.raises(InputError, match="do not match"):
        CRFTagger().fit(np.array(["a", "b"], dtype=object), np.array([0, 2]), np.array([0]), ["O"])


def test_train_and_predict_cli(tmp_path) -> None:
    train = slice_conll(tmp_path, "train", 6_000)
    dev = slice_conll(tmp_path, "dev", 2_000)
    runner = CliRunner()
    r = runner.invoke(app, ["train", str(train), "--task", "token", "--out", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    assert "held-out entity P / R / F1" in r.output
    r = runner.invoke(
        app, ["predict", str(tmp_path / "m"), str(dev), "--out", str(tmp_path / "p.conll")]
    )
    assert r.exit_code == 0, r.output
    assert "against the file's own tags: entity P" in r.output
    lines = (tmp_path / "p.conll").read_text().splitlines()
    assert len(lines[0].split()) == 3  # token, given tag, predicted tag
    r = runner.invoke(
        app,
        ["train", str(train), "--task", "token", "--out", str(tmp_path / "m2"), "--loss", "gce"],
    )
    assert r.exit_code == 2 and "--loss does not apply to `train --task token`" in r.output
