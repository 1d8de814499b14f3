"""``own_model=True``: blending truelabel's own cross-fitted text model into given
probabilities, with the weight chosen by cross-fitted log-loss (real texts and real LLM labels)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from _shared import shared_path
from truelabel import audit


def _emotion() -> pd.DataFrame:
    """llms_for_css emotion: the texts and flan-t5-xl's zero-shot labels (real model noise)."""
    root = shared_path("llm-labels", "llms_for_css", "emotion")
    ctx = list(json.loads((root / "test.json").read_text(encoding="utf-8"))["context"].values())
    rows, labels = [], []
    for line in (root / "answer-flan-t5-xl").read_text(encoding="utf-8").splitlines():
        row, _gold, pred = line.split("\t")
        if pred.strip()[:1] in "ABCDEF" and pred.strip():
            rows.append(int(row))
            labels.append("ABCDEF"[int("ABCDEF".index(pred.strip()[0]))])
    return pd.DataFrame({"text": [ctx[i] for i in rows], "label": labels})


def _one_hot_given(df: pd.DataFrame, on: float) -> np.ndarray:
    classes = sorted(df["label"].unique())
    k = len(classes)
    codes = df["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    p = np.full((len(df), k), (1 - on) / (k - 1), dtype=np.float32)
    p[np.arange(len(df)), codes] = on
    return p


def test_given_probabilities_that_already_explain_the_labels_stay_untouched() -> None:
    df = _emotion()
    given = _one_hot_given(df, 0.9)  # predicts every given label: nothing left to add
    res = audit(
        df, text="text", label="label", pred_probs=given, own_model=True, featurizer="tfidf"
    )
    own = res.summary["own_model"]
    assert own["weight"] == 0.0 and own["used"] is False
    assert own["log_loss_given"] < own["log_loss_own"]
    np.testing.assert_array_equal(res.pred_probs, given)  # reported as given


def test_uninformative_given_probabilities_take_the_own_model() -> None:
    df = _emotion()
    rng = np.random.default_rng(0)
    given = rng.dirichlet(np.ones(df["label"].nunique()), len(df)).astype(np.float32)
    res = audit(
        df, text="text", label="label", pred_probs=given, own_model=True, featurizer="tfidf"
    )
    own = res.summary["own_model"]
    # random probabilities say nothing about the labels; the cross-fitted text model does
    # (measured: weight 0.986; log-loss 1.590 own vs 1.792 given, i.e. log 6)
    assert own["used"] is True and own["weight"] > 0.95
    assert own["log_loss_blend"] <= min(own["log_loss_given"], own["log_loss_own"]) + 1e-6
    assert not np.allclose(res.pred_probs, given)
    assert res.summary["settings"]["neighbor_weight"] == 0.0  # no neighbours on a blend
