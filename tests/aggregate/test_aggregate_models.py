"""Label models on cases with known answers, properties, the E-step loop oracle."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from truelabel import ConvergenceWarning, InputError, NotFittedError
from truelabel.aggregate import (
    GLAD,
    MACE,
    DawidSkene,
    FeatureDawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    WeightedVote,
    krippendorff_alpha,
    spammer_score,
)
from truelabel.aggregate._base import _log_lik, _vote_matrix
from truelabel.sources import VoteArrays, votes_from_matrix

MODELS = [MajorityVote, WeightedVote, DawidSkene, OneCoinDawidSkene, MACE, GLAD]
EM_MODELS = [DawidSkene, OneCoinDawidSkene, MACE, GLAD]


def _workers(n_items: int = 200, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Truth plus 3 good workers (85%), a perfect one, a random one and an adversarial one.

    The adversarial worker always answers (true + 1) mod k: wrong every time but fully
    informative, so Dawid-Skene should learn to invert it.
    """
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n_items)
    cols = []
    for _ in range(3):
        noisy = np.where(rng.random(n_items) < 0.85, truth, rng.integers(0, k, n_items))
        cols.append(noisy)
    cols.append(truth.copy())  # perfect
    cols.append(rng.integers(0, k, n_items))  # random
    cols.append((truth + 1) % k)  # adversarial
    return np.stack(cols, axis=1), truth


@pytest.mark.parametrize("model_cls", MODELS)
def test_models_recover_truth_with_good_workers(model_cls: type) -> None:
    L, truth = _workers()
    v = votes_from_matrix(L[:, :4], n_classes=3)  # 3 good + perfect
    m = model_cls().fit(v)
    assert (m.labels_ == truth).mean() >= 0.97
    assert m.posterior_.dtype == np.float32
    np.testing.assert_allclose(m.posterior_.sum(axis=1), 1.0, atol=1e-5)
    assert m.confusion_.shape == (4, 3, 3)


def test_dawid_skene_finds_perfect_random_and_adversarial_workers() -> None:
    L, truth = _workers()
    v = votes_from_matrix(L, n_classes=3)
    m = DawidSkene().fit(v)
    assert (m.labels_ == truth).mean() >= 0.99
    diag = np.trace(m.confusion_, axis1=1, axis2=2) / 3
    assert diag[3] > 0.95  # perfect
    assert abs(diag[4] - 1 / 3) < 0.12  # random
    assert diag[5] < 0.05  # adversarial: never right...
    assert np.all(m.confusion_[5, np.arange(3), (np.arange(3) + 1) % 3] > 0.9)  # ...but predictable
    score = spammer_score(m.confusion_)
    assert score[4] > 0.8 and score[3] < 0.1 and score[5] < 0.1


def test_mace_flags_the_random_worker_as_spammer() -> None:
    L, _ = _workers()
    m = MACE().fit(votes_from_matrix(L[:, :5], n_classes=3))
    assert m.spammer_score_[4] > 0.7
    assert m.spammer_score_[3] < 0.1


def test_majority_vote_ties_go_to_lowest_class() -> None:
    v = votes_from_matrix(np.array([[2, 1], [0, 2], [1, 1]]), n_classes=3)
    assert MajorityVote().fit(v).labels_.tolist() == [1, 0, 1]


def test_weighted_vote_downweights_disagreeing_source() -> None:
    # sources 0,1 agree; source 2 always differs; on item 3 only 0 and 2 vote and disagree
    L = np.array([[0, 0, 1], [1, 1, 0], [0, 0, 1], [1, -1, 0]])
    m = WeightedVote().fit(votes_from_matrix(L, n_classes=2))
    assert m.weights_[2] < m.weights_[0]
    assert m.labels_[3] == 1


def test_hand_checked_dawid_skene_one_iteration() -> None:
    # 2 items, 2 sources, 2 classes; item 0 votes (0, 0), item 1 votes (1, 0).
    # MV init: item0 = [1, 0], item1 = [.5, .5]. With smoothing 0 the M-step gives
    # source 0: P(.|0) = [1/1.5, .5/1.5], P(.|1) = [0, 1]; source 1: P(0|k) = 1.
    # prior = [.75, .25]. E-step: item 1 (says 1, 0): class 0 -> .75 * 1/3 * 1, class 1 -> .25 * 1 * 1
    # -> posterior [.5, .5].
    v = votes_from_matrix(np.array([[0, 0], [1, 0]]), n_classes=2)
    m = DawidSkene(max_iter=1, smoothing=0.0)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        m.fit(v)
    np.testing.assert_allclose(m.posterior_[1], [0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(m.posterior_[0], [1.0, 0.0], atol=1e-6)


def test_gold_is_clamped_and_drives_sources() -> None:
    L, truth = _workers(n_items=60, k=2, seed=1)
    L = L[:, [4, 5]]  # random + adversarial only: no way to know without gold
    gold = np.full(60, -1)
    gold[:30] = truth[:30]
    m = DawidSkene().fit(votes_from_matrix(L, n_classes=2), gold=gold)
    np.testing.assert_array_equal(m.labels_[:30], truth[:30])
    assert np.all(m.posterior_[np.arange(30), truth[:30]] == 1.0)
    # the adversarial source's inversion is learnt from gold and applied to the rest
    assert (m.labels_[30:] == truth[30:]).mean() >= 0.95
    # gold passed as a gold source does the same
    vg = votes_from_matrix(L, n_classes=2, gold=gold)
    m2 = DawidSkene().fit(vg)
    np.testing.assert_allclose(m2.posterior_, m.posterior_, atol=1e-5)
    np.testing.assert_allclose(m2.confusion_[2], np.eye(2))


def test_gold_class_out_of_range() -> None:
    v = votes_from_matrix(np.array([[0, 1]]), n_classes=2)
    with pytest.raises(InputError, match="only 2 classes"):
        DawidSkene().fit(v, gold=np.array([3]))


def test_items_without_votes_get_the_prior() -> None:
    L = np.array([[0, 0], [0, 0], [1, 1], [-1, -1]])
    for cls in MODELS:
        m = cls().fit(votes_from_matrix(L, n_classes=2))
        np.testing.assert_allclose(m.posterior_[3], m.prior_, atol=1e-4)


def test_single_source_and_source_with_one_vote() -> None:
    v = votes_from_matrix(np.array([[0], [1], [1]]), n_classes=2)
    for cls in MODELS:
        assert cls().fit(v).labels_.tolist() == [0, 1, 1]
    L = np.array([[0, 0, -1], [1, 1, -1], [0, 0, 1]])
    for cls in MODELS:
        m = cls().fit(votes_from_matrix(L, n_classes=2))
        assert np.isfinite(m.posterior_).all()
        assert m.labels_[:2].tolist() == [0, 1]


def test_non_convergence_warns_and_keeps_best_iterate() -> None:
    L, _ = _workers(seed=3)
    v = votes_from_matrix(L, n_classes=3)
    with pytest.warns(ConvergenceWarning, match="Raise max_iter"):
        m = DawidSkene(max_iter=2, tol=0.0).fit(v)
    assert not m.converged_ and m.n_iter_ == 2
    assert m.log_likelihood_ == pytest.approx(m.log_likelihood_history_.max())


def test_bad_parameter_message() -> None:
    v = votes_from_matrix(np.array([[0, 1]]), n_classes=2)
    with pytest.raises(InputError, match=r"The 'tol' parameter of DawidSkene must be a float"):
        DawidSkene(tol=-1.0).fit(v)


@pytest.mark.parametrize("model_cls", MODELS)
def test_contract_clone_refit_not_fitted_and_seed(model_cls: type) -> None:
    L, _ = _workers(n_items=50)
    v = votes_from_matrix(L, n_classes=3)
    m = model_cls()
    with pytest.raises(NotFittedError):
        m.predict_proba()
    a = m.fit(v).predict_proba().copy()
    b = clone(m).fit(v).predict_proba()
    np.testing.assert_array_equal(a, b)
    # a second fit forgets the first
    v2 = votes_from_matrix(L[:10], n_classes=3)
    assert m.fit(v2).posterior_.shape == (10, 3)


@pytest.mark.parametrize("model_cls", [DawidSkene, OneCoinDawidSkene, MajorityVote])
def test_predict_new_votes_uses_fitted_sources(model_cls: type) -> None:
    L, truth = _workers()
    m = model_cls().fit(votes_from_matrix(L[:150], n_classes=3))
    p = m.predict_proba(votes_from_matrix(L[150:], n_classes=3))
    assert p.shape == (50, 3) and p.dtype == np.float32
    assert (p.argmax(1) == truth[150:]).mean() >= 0.9
    with pytest.raises(InputError, match="same source and class lists"):
        m.predict_proba(votes_from_matrix(L[150:, :2], n_classes=3))


def test_renaming_sources_and_classes_permutes_output() -> None:
    L, _ = _workers(n_items=80, seed=5)
    v = votes_from_matrix(L, n_classes=3)
    src_perm = np.array([5, 3, 0, 1, 4, 2])
    cls_perm = np.array([2, 0, 1])  # new code of old class c
    L2 = np.where(L >= 0, cls_perm[np.clip(L, 0, None)], -1)[:, src_perm]
    v2 = votes_from_matrix(L2, n_classes=3)
    for cls in (DawidSkene, OneCoinDawidSkene, MACE):
        p1 = cls().fit(v).posterior_
        p2 = cls().fit(v2).posterior_
        np.testing.assert_allclose(p2[:, cls_perm], p1, atol=1e-4)


def test_feature_model_uses_features_to_break_ties() -> None:
    rng = np.random.default_rng(0)
    n = 300
    truth = rng.integers(0, 2, n)
    X = truth[:, None] * 2.0 - 1.0 + rng.normal(0, 0.6, (n, 2))
    # two 70%-accurate workers: when they disagree, only features can tell
    L = np.stack([np.where(rng.random(n) < 0.7, truth, 1 - truth) for _ in range(2)], axis=1)
    v = votes_from_matrix(L, n_classes=2)
    base = (DawidSkene().fit(v).labels_ == truth).mean()
    fm = FeatureDawidSkene(random_state=0).fit(v, features=X)
    acc = (fm.labels_ == truth).mean()
    assert acc > base + 0.1
    assert fm.feature_prior_.shape == (n, 2)
    with pytest.raises(InputError, match="needs item features"):
        FeatureDawidSkene().fit(v)
    with pytest.raises(InputError, match="features has 3 rows"):
        FeatureDawidSkene().fit(v, features=X[:3])


def test_krippendorff_alpha_known_values() -> None:
    perfect = votes_from_matrix(np.array([[0, 0], [1, 1], [2, 2]]), n_classes=3)
    assert krippendorff_alpha(perfect) == pytest.approx(1.0)
    # Krippendorff (2011) style check: 2 coders, 4 units, nominal
    # units: (a,a), (a,b), (b,b), (b,b) -> o_aa=2, o_ab=o_ba=1, o_bb=4, n=8
    # alpha = 1 - (n-1) * (o_ab+o_ba) / (n_a n_b * 2) = 1 - 7 * 2 / (3*5*2) = 0.5333
    v = votes_from_matrix(np.array([[0, 0], [0, 1], [1, 1], [1, 1]]), n_classes=2)
    assert krippendorff_alpha(v) == pytest.approx(1 - 7 * 2 / 30)
    assert np.isnan(krippendorff_alpha(votes_from_matrix(np.array([[0, -1]]), n_classes=2)))


# ------------------------------------------------------------------ loop oracle


def _e_step_loop(v: VoteArrays, log_conf: np.ndarray) -> np.ndarray:
    ll = np.zeros((v.n_items, v.n_classes))
    for i, s, lab in zip(v.item, v.source, v.label, strict=True):
        for k in range(v.n_classes):
            ll[i, k] += log_conf[s, k, lab]
    return ll


@st.composite
def vote_arrays(
    draw: st.DrawFn, max_items: int = 25, max_sources: int = 5, max_classes: int = 4
) -> VoteArrays:
    n = draw(st.integers(1, max_items))
    m = draw(st.integers(1, max_sources))
    k = draw(st.integers(2, max_classes))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    L = rng.integers(-1, k, size=(n, m))
    return votes_from_matrix(L, n_classes=k)


@settings(deadline=None, max_examples=40)
@given(v=vote_arrays())
def test_vectorised_e_step_equals_loop(v: VoteArrays) -> None:
    rng = np.random.default_rng(0)
    conf = rng.dirichlet(np.ones(v.n_classes), size=(v.n_sources, v.n_classes))
    log_conf = np.log(conf)
    np.testing.assert_allclose(
        _log_lik(_vote_matrix(v), log_conf), _e_step_loop(v, log_conf), atol=1e-9
    )


@settings(deadline=None, max_examples=30)
@given(v=vote_arrays(), model=st.sampled_from(MODELS))
def test_posterior_is_a_float32_distribution(v: VoteArrays, model: type) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        post = (
            model(max_iter=20).fit(v).posterior_
            if model in EM_MODELS
            else model().fit(v).posterior_
        )
    assert post.dtype == np.float32 and post.shape == (v.n_items, v.n_classes)
    assert np.isfinite(post).all()
    np.testing.assert_allclose(post.sum(axis=1), 1.0, atol=1e-5)


@settings(deadline=None, max_examples=25)
@given(v=vote_arrays(), seed=st.integers(0, 1000), model=st.sampled_from(MODELS))
def test_permuting_items_permutes_posterior(v: VoteArrays, seed: int, model: type) -> None:
    perm = np.random.default_rng(seed).permutation(v.n_items)
    inv = np.argsort(perm)
    from truelabel.sources._votes import _replace

    v2 = _replace(v, item=inv[v.item].astype(np.int32), item_ids=v.item_ids[perm])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        p1 = model().fit(v).posterior_
        p2 = model().fit(v2).posterior_
    np.testing.assert_allclose(p2, p1[perm], atol=1e-4)


@settings(deadline=None, max_examples=25)
@given(v=vote_arrays())
def test_duplicating_votes_leaves_majority_vote_unchanged(v: VoteArrays) -> None:
    from truelabel.sources._votes import _replace

    doubled = _replace(
        v,
        item=np.concatenate([v.item, v.item]),
        source=np.concatenate([v.source, v.source]),
        label=np.concatenate([v.label, v.label]),
    )
    np.testing.assert_allclose(
        MajorityVote().fit(doubled).posterior_, MajorityVote().fit(v).posterior_, atol=1e-6
    )


def test_abstention_as_answer_helps_unipolar_rules() -> None:
    """Unipolar rules: 'spam' rules fire on 60% of spam and 5% of ham, one 'ham' rule fires
    on 50% of ham. Without modelling abstention a rule that only ever says 'spam' carries no
    information to Dawid-Skene; with it, not firing is evidence."""
    from truelabel.sources._votes import with_abstain_votes

    rng = np.random.default_rng(0)
    n = 600
    truth = rng.integers(0, 2, n)
    cols = []
    for _ in range(4):
        fire = np.where(truth == 1, rng.random(n) < 0.6, rng.random(n) < 0.05)
        cols.append(np.where(fire, 1, -1))
    cols.append(np.where((truth == 0) & (rng.random(n) < 0.5), 0, -1))
    v = votes_from_matrix(np.stack(cols, axis=1), classes=["ham", "spam"])
    assert v.info["abstain_informative"]
    va = with_abstain_votes(v)
    assert va.n_classes == 3 and va.info["n_true_classes"] == 2 and va.n_votes == n * 5
    assert with_abstain_votes(va) is va
    m = DawidSkene().fit(va)
    assert m.posterior_.shape == (n, 2) and list(m.classes_) == ["ham", "spam"]
    assert m.confusion_.shape == (5, 2, 3)
    acc = (m.labels_ == truth).mean()
    plain = (DawidSkene().fit(v).labels_ == truth).mean()
    assert acc > 0.85 and acc > plain
    # new votes are augmented automatically
    p = m.predict_proba(votes_from_matrix(np.stack(cols, axis=1)[:10], classes=["ham", "spam"]))
    assert p.shape == (10, 2)
    for cls in (MajorityVote, WeightedVote, OneCoinDawidSkene, MACE):
        post = cls().fit(va).posterior_
        assert post.shape == (n, 2) and np.isfinite(post).all()


def test_predict_returns_class_labels_like_scikit_learn() -> None:
    """``predict`` gives values of ``classes_`` (not codes); ``predict_proba`` columns follow
    ``classes_``; ``labels_`` keeps the codes."""
    import pandas as pd

    from truelabel.aggregate import DawidSkene, MajorityVote
    from truelabel.sources import votes_from_table

    df = pd.DataFrame(
        {
            "item_id": [0, 0, 0, 1, 1, 1, 2, 2, 2],
            "source": ["a", "b", "c"] * 3,
            "label": ["cat", "cat", "dog", "dog", "dog", "dog", "cat", "cat", "cat"],
        }
    )
    votes = votes_from_table(df)
    for model in (MajorityVote(), DawidSkene()):
        m = model.fit(votes)
        assert list(m.classes_) == ["cat", "dog"]
        assert list(m.predict()) == ["cat", "dog", "cat"]
        assert list(m.labels_) == [0, 1, 0]
        proba = m.predict_proba()
        assert list(np.asarray(m.classes_)[proba.argmax(axis=1)]) == list(m.predict())


# ------------------------------------------------------------------ the DataFrame API


def _frame(item: str = "item_id", source: str = "source") -> pd.DataFrame:
    # item 1: 2 x vs 1 y; item 2: all y; item 3: 2 x vs 1 y
    return pd.DataFrame(
        {
            item: [1, 1, 1, 2, 2, 2, 3, 3, 3],
            source: ["a", "b", "c"] * 3,
            "label": ["x", "x", "y", "y", "y", "y", "x", "y", "x"],
        }
    )


@pytest.mark.parametrize("model_cls", MODELS)
@pytest.mark.parametrize("columns", [("item_id", "source"), ("task", "worker")])
def test_fit_predict_on_a_long_dataframe_returns_class_names(
    model_cls: type, columns: tuple[str, str]
) -> None:
    """crowd-kit's ``fit_predict(df)`` on ``(task, worker, label)`` works as it is."""
    df = _frame(*columns)
    out = model_cls().fit_predict(df)
    assert out.to_dict() == {1: "x", 2: "y", 3: "x"}
    assert out.index.name == "item_id"
    m = model_cls().fit(df)
    assert m.predict().tolist() == ["x", "y", "x"]
    assert m.labels_.dtype == np.int64  # the codes stay available
    proba = model_cls().fit_predict_proba(df)
    assert list(proba.columns) == ["x", "y"] and proba.shape == (3, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_predict_on_new_dataframe_votes_and_unknown_sources() -> None:
    m = DawidSkene().fit(_frame())
    new = pd.DataFrame({"item_id": [9, 9, 8], "source": ["a", "b", "c"], "label": ["y", "y", "x"]})
    assert m.predict(new).tolist() == ["x", "y"]  # items 8, 9 in sorted order
    bad = pd.DataFrame({"item_id": [9], "source": ["zed"], "label": ["y"]})
    with pytest.raises(InputError, match=r"sources the model was not fitted on: \['zed'\]"):
        m.predict(bad)


def test_dataframe_without_the_needed_columns_is_refused() -> None:
    df = pd.DataFrame({"q": [1], "who": ["a"], "answer": ["x"]})
    with pytest.raises(InputError, match=r"item column \(item_id, item or task\)"):
        DawidSkene().fit(df)


def test_predict_returns_names_for_vote_arrays_too() -> None:
    v = votes_from_matrix(np.array([[0, 0], [1, 1]]), classes=["ham", "spam"])
    m = MajorityVote().fit(v)
    assert m.predict().tolist() == ["ham", "spam"]
    assert MajorityVote().fit_predict(v).tolist() == ["ham", "spam"]


def test_tied_em_iterates_do_not_depend_on_item_order() -> None:
    """Found by the hypothesis test above: one source, so every EM iterate has the same
    log-likelihood; the best-iterate choice then followed summation-order rounding and
    permuting the items changed the posterior by 0.012. A tie now keeps the later iterate."""
    from truelabel.sources._votes import VoteArrays, _replace

    v = VoteArrays(
        item=np.array([2, 3, 4, 6, 7, 9, 11, 14], dtype=np.int32),
        source=np.zeros(8, dtype=np.int32),
        label=np.array([1, 0, 0, 0, 0, 1, 1, 1], dtype=np.int32),
        n_items=16,
        n_sources=1,
        n_classes=2,
        item_ids=np.arange(16).astype(object),
        source_names=np.array(["lf_0"], dtype=object),
        classes=np.array([0, 1], dtype=object),
        is_gold_source=np.array([False]),
        weight=None,
        info={"abstain_informative": True, "n_duplicate_votes": 0},
    )
    perm = np.random.default_rng(0).permutation(v.n_items)
    v2 = _replace(v, item=np.argsort(perm)[v.item].astype(np.int32), item_ids=v.item_ids[perm])
    for model in MODELS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            p1 = model().fit(v).posterior_
            p2 = model().fit(v2).posterior_
        np.testing.assert_allclose(p2, p1[perm], atol=1e-4, err_msg=model.__name__)
