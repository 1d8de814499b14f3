"""The audit says when its cross-fitted model is near chance (issue 14).

A model that has not learned the classes makes the noise estimate meaningless (a binary
task at chance reports ~50% noise); the audit then warns in ``summary["warnings"]``, on
the command line and at the top of ``report.html``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from truelabel.audit import audit, model_agreement
from truelabel.audit._health import NEAR_CHANCE_KAPPA, agreement_from_predictions
from truelabel.scale import audit_large


def test_model_agreement_by_hand() -> None:
    # given [0,0,0,1], predicted [0,0,1,1]: accuracy 3/4; P(given)=(.75,.25),
    # P(pred)=(.5,.5) -> chance .75*.5 + .25*.5 = .5; kappa (.75-.5)/(1-.5) = .5
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9]])
    a = model_agreement(np.array([0, 0, 0, 1]), probs)
    assert a == pytest.approx({"accuracy": 0.75, "chance": 0.5, "majority": 0.75, "kappa": 0.5})
    # always predicting the majority class: accuracy = chance = majority, kappa 0
    b = agreement_from_predictions(np.array([0, 0, 0, 1]), np.zeros(4, dtype=int), 2)
    assert b["accuracy"] == b["chance"] == 0.75 and b["kappa"] == 0.0


def _table(n: int = 160, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = {"neg": ["bad", "awful", "poor", "hate"], "pos": ["good", "great", "nice", "love"]}
    y = np.array(["neg", "pos"])[rng.integers(0, 2, n)]
    texts = [" ".join(rng.choice(words[c], 3)) + " film" for c in y]
    return pd.DataFrame({"text": texts, "label": y})


def test_audit_warns_only_when_the_labels_cannot_be_learned(tmp_path: Path) -> None:
    df = _table()
    ok = audit(df, text="text", label="label", featurizer="tfidf")
    assert ok.summary["model_agreement"]["kappa"] > 0.8
    assert ok.summary["warnings"] == []
    shuffled = df.assign(label=np.random.default_rng(1).permutation(df["label"].to_numpy()))
    with pytest.warns(UserWarning, match="near chance"):
        bad = audit(shuffled, text="text", label="label", featurizer="tfidf")
    assert bad.summary["model_agreement"]["kappa"] < NEAR_CHANCE_KAPPA
    assert "noise rate" in bad.summary["warnings"][0]
    bad.save(tmp_path / "run")
    assert "near chance" in (tmp_path / "run" / "report.html").read_text()


def test_scale_audit_warns_too(tmp_path: Path) -> None:
    df = _table()
    df["label"] = np.random.default_rng(1).permutation(df["label"].to_numpy())
    df.to_csv(tmp_path / "d.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = audit_large(
            tmp_path / "d.csv", out=tmp_path / "run", label="label", text="text", featurizer="tfidf"
        )
    assert res.summary["warnings"] and "near chance" in res.summary["warnings"][0]
