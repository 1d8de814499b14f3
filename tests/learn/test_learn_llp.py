"""Label proportions: the bag-constrained E-step (hand-checked), DLLP+EM on real Spambase,
the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from _weak_data import spambase
from truelabel._errors import InputError
from truelabel.cli import app
from truelabel.featurize import featurize_table
from truelabel.learn import LabelProportionClassifier, bag_constrained_posterior


def test_bag_constrained_posterior_matches_counts() -> None:
    # bag 0: 2 rows, half class 1; the model is sure row 0 is class 0 -> row 1 gets class 1.
    p = np.array([[0.9, 0.1], [0.6, 0.4], [0.5, 0.5]])
    q = bag_constrained_posterior(p, np.array([0, 0, 1]), np.array([[0.5, 0.5], [0.0, 1.0]]))
    np.testing.assert_allclose(q.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(q[:2].sum(axis=0), [1.0, 1.0], atol=1e-3)
    assert q[0, 0] > 0.5 and q[1, 1] > 0.5
    np.testing.assert_allclose(q[2], [0.0, 1.0], atol=1e-5)  # a pure bag is certain


def test_proportions_must_sum_to_one() -> None:
    X = np.zeros((4, 2), dtype=np.float32)
    with pytest.raises(InputError, match="sum to 0.500"):
        LabelProportionClassifier().fit(X, np.array([0, 0, 1, 1]), [[0.2, 0.3], [0.5, 0.5]])


def _bags(y: np.ndarray, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(len(y))
    bag = np.empty(len(y), dtype=np.int64)
    bag[perm] = np.arange(len(y)) // size
    B = bag.max() + 1
    counts = np.stack([np.bincount(bag, y == k, minlength=B) for k in (0, 1)], axis=1)
    return bag, counts / counts.sum(axis=1, keepdims=True)


def test_llp_on_spambase_bags_of_16() -> None:
    frame, y = spambase()
    test = np.random.default_rng(0).random(len(y)) < 0.3  # the benchmark's split
    X, tab = featurize_table(frame[~test])
    bag, props = _bags(y[~test], 16)
    m = LabelProportionClassifier(random_state=0).fit(X, bag, props)
    acc = float((m.predict(tab.transform(frame[test])) == y[test]).mean())
    assert acc > 0.87  # measured 0.918 on a 70/30 split (bench_weak_llp.py); majority 0.61


def test_cli_bag_column_and_proportions(tmp_path: Path) -> None:
    frame, y = spambase(n=1600)
    bag, props = _bags(y, 16)
    data = frame.copy()
    data.insert(0, "bag", [f"b{b}" for b in bag])
    data.to_csv(tmp_path / "spam.csv", index=False)
    pd.DataFrame({"bag": [f"b{b}" for b in range(len(props))], "ham": props[:, 0],
                  "spam": props[:, 1]}).to_csv(tmp_path / "props.csv", index=False)  # fmt: skip
    r = CliRunner().invoke(
        app,
        [
            "train", str(tmp_path / "spam.csv"), "--bag-column", "bag", "--proportions",
            str(tmp_path / "props.csv"), "--feature-columns", "auto", "--out", str(tmp_path / "m"),
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["classes"] == ["ham", "spam"]
    assert "bag" not in meta["featurizer"]["columns"]
    assert meta["training_data"]["n_bags"] == len(props)
    # a bag without proportions is refused with its name
    pd.DataFrame({"bag": ["b0"], "ham": [0.5], "spam": [0.5]}).to_csv(
        tmp_path / "few.csv", index=False
    )
    r = CliRunner().invoke(
        app,
        [
            "train", str(tmp_path / "spam.csv"), "--bag-column", "bag", "--proportions",
            str(tmp_path / "few.csv"), "--feature-columns", "auto", "--out", str(tmp_path / "x"),
        ],
    )  # fmt: skip
    assert r.exit_code != 0 and "have no row in" in r.output
    assert not (tmp_path / "x").exists()
