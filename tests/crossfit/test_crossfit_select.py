"""Choosing and combining cross-fitted models by log-loss (featurizer="auto")."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _shared import shared_path
from truelabel._errors import InputError
from truelabel.crossfit import (
    Candidate,
    ModelPlan,
    SoftmaxRegression,
    combine_probabilities,
    cross_val_predict_proba,
    select_model,
    stack_weights,
)
from truelabel.featurize import featurize


def _nll(p: np.ndarray, y: np.ndarray) -> float:
    return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())


def test_stack_weights_puts_everything_on_a_dominant_model() -> None:
    y = np.array([0, 1, 0, 1, 1, 0])
    good = np.where(np.eye(2)[y] > 0, 0.9, 0.1)  # gives every label 0.9
    bad = np.where(np.eye(2)[y] > 0, 0.3, 0.7)  # gives every label 0.3
    np.testing.assert_allclose(stack_weights([bad, good], y), [0.0, 1.0], atol=1e-4)


def test_stack_weights_mixes_complementary_models() -> None:
    # A is right on the first half, B on the second: an equal mix beats either alone
    y = np.zeros(10, dtype=int)
    a = np.tile([0.95, 0.05], (10, 1))
    b = a.copy()
    a[5:] = [0.05, 0.95]
    b[:5] = [0.05, 0.95]
    w = stack_weights([a, b], y)
    np.testing.assert_allclose(w, [0.5, 0.5], atol=1e-3)
    mix = w[0] * a + w[1] * b
    assert _nll(mix, y) < min(_nll(a, y), _nll(b, y))


@settings(deadline=None, max_examples=40)
@given(seed=st.integers(0, 10_000), m=st.integers(2, 3))
def test_stack_weights_beat_every_point_of_a_simplex_grid(seed: int, m: int) -> None:
    """Loop oracle: the solver's objective is at most the best of a grid over the simplex."""
    rng = np.random.default_rng(seed)
    n, k = 40, 3
    y = rng.integers(0, k, n)
    probs = [rng.dirichlet(np.ones(k), n) for _ in range(m)]
    w = stack_weights(probs, y)
    assert w.shape == (m,) and (w >= 0).all() and abs(w.sum() - 1) < 1e-9
    best = np.inf
    steps = np.linspace(0, 1, 21)
    for a in steps:
        for b in steps if m == 3 else [1 - a]:
            c = 1 - a - b
            if c < -1e-9:
                continue
            ww = [a, b, max(c, 0.0)][:m]
            best = min(best, _nll(sum(wi * p for wi, p in zip(ww, probs, strict=True)), y))
    got = _nll(sum(wi * p for wi, p in zip(w, probs, strict=True)), y)
    assert got <= best + 1e-6


def test_stack_weights_checks_its_input() -> None:
    with pytest.raises(InputError, match="at least one"):
        stack_weights([], [0, 1])
    with pytest.raises(InputError):
        stack_weights([np.full((2, 2), 0.5), np.full((3, 2), 0.5)], [0, 1])


def _emotion() -> tuple[list[str], np.ndarray]:
    """llms_for_css emotion: the texts and flan-t5-xl's zero-shot labels (real model noise)."""
    root = shared_path("llm-labels", "llms_for_css", "emotion")
    ctx = list(json.loads((root / "test.json").read_text(encoding="utf-8"))["context"].values())
    rows, labels = [], []
    for line in (root / "answer-flan-t5-xl").read_text(encoding="utf-8").splitlines():
        row, _gold, pred = line.split("\t")
        if pred.strip()[:1] in "ABCDEF" and pred.strip():
            rows.append(int(row))
            labels.append("ABCDEF".index(pred.strip()[0]))
    return [ctx[i] for i in rows], np.asarray(labels)


def test_select_model_on_real_llm_labels_prefers_the_informative_model() -> None:
    texts, y = _emotion()
    noise = np.random.default_rng(0).normal(size=(len(y), 16)).astype(np.float32)
    plan = ModelPlan((Candidate("tfidf", "logistic"), Candidate("vectors", "logistic")), True)
    sel = select_model(plan, y, n_classes=6, texts=texts, vectors=noise, random_state=0)
    by = {c.name: c for c in sel.candidates}
    # random vectors carry no information: a worse log-loss and (almost) no weight
    assert by["tfidf+logistic"].log_loss < by["vectors+logistic"].log_loss
    assert by["tfidf+logistic"].weight > 0.9
    assert sel.chosen.startswith("tfidf+logistic") or sel.chosen.startswith("0.9")
    assert sel.features_name == "tfidf"
    assert sel.log_loss <= by["tfidf+logistic"].log_loss + 1e-9
    # the candidate's probabilities are exactly the ones cross_val_predict_proba gives
    p = cross_val_predict_proba(featurize(texts, "tfidf"), y, n_classes=6, random_state=0)
    assert abs(by["tfidf+logistic"].log_loss_raw - _nll(p, y)) < 1e-6
    d = sel.describe()
    assert json.loads(json.dumps(d))["candidates"][1]["candidate"] == "vectors+logistic"


def test_combine_probabilities_matches_select_model() -> None:
    texts, y = _emotion()
    X = featurize(texts, "tfidf")
    p1 = cross_val_predict_proba(X, y, n_classes=6, random_state=0)
    strong_l2 = SoftmaxRegression(C=0.1, max_iter=60, tol=1e-4)
    p2 = cross_val_predict_proba(X, y, n_classes=6, random_state=0, estimator=strong_l2)
    comb = combine_probabilities([p1, p2], y)
    assert comb.pred_probs.dtype == np.float32
    np.testing.assert_allclose(comb.pred_probs.sum(axis=1), 1.0, atol=1e-5)
    assert comb.log_loss <= comb.log_losses.min() + 1e-9


def test_time_budget_skips_later_candidates_and_says_why() -> None:
    texts, y = _emotion()
    plan = ModelPlan(
        (Candidate("tfidf", "logistic"), Candidate("minilm", "logistic")), True, time_budget=0.0
    )
    sel = select_model(plan, y, n_classes=6, texts=texts, random_state=0)
    first, second = sel.candidates
    assert first.status == "ok" and first.weight == 1.0  # the first always runs
    assert second.status == "skipped" and "budget" in second.note
    assert sel.chosen == "tfidf+logistic"


def test_minilm_is_abandoned_when_its_projection_overruns() -> None:
    import time

    from truelabel.crossfit._select import _featurize, _OverBudget

    texts, _ = _emotion()
    with pytest.raises(_OverBudget):
        _featurize([t + " (budget test)" for t in texts], "minilm", 1e-3, time.perf_counter())
