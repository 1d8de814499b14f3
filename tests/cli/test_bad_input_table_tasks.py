"""Bad inputs of `train --task multilabel|regression` and `predict` on such models (issue
17): one `error:` line naming the problem, non-zero exit, no file changed
(``cli_helpers.refused``), in a small folder of their own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import invoke, refused

WORDS = ["good", "bad", "fast", "slow", "red", "blue", "cat", "dog", "sun", "rain"]


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    w = rng.integers(0, len(WORDS), size=(n, 4))
    text = [" ".join(WORDS[j] for j in row) for row in w]
    tags = [",".join(t for t, k in (("pos", 0), ("cat", 6)) if k in row) for row in w]
    y = (w < 5).sum(axis=1) + rng.normal(0, 0.3, n)
    return pd.DataFrame({"text": text, "tags": tags, "y": y})


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A multi-label and a regression model trained once (tfidf, 200 rows)."""
    root = tmp_path_factory.mktemp("tt")
    _table(200).to_csv(root / "items.csv", index=False)
    for task, col in (("multilabel", "tags"), ("regression", "y")):
        r = invoke(
            [
                "train",
                str(root / "items.csv"),
                "--task",
                task,
                "--text-column",
                "text",
                "--label-column",
                col,
                "--featurizer",
                "tfidf",
                "--out",
                str(root / task),
            ]
        )
        assert r.exit_code == 0, r.output
    return root


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, models: Path) -> Path:
    df = _table(60)
    df.to_csv(tmp_path / "items.csv", index=False)
    bad = df.astype({"y": object})
    bad.loc[7, "y"] = "high"
    bad.to_csv(tmp_path / "words.csv", index=False)
    gap = df.copy()
    gap.loc[3, "y"] = np.nan
    gap.to_csv(tmp_path / "gap.csv", index=False)
    df.assign(tags="").to_csv(tmp_path / "notags.csv", index=False)
    df.assign(y=1.0).to_csv(tmp_path / "flat.csv", index=False)
    for task in ("multilabel", "regression"):
        (tmp_path / task).symlink_to(models / task)
    monkeypatch.chdir(tmp_path)
    return tmp_path


BASE = ["--text-column", "text", "--featurizer", "tfidf", "--out", "out"]


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["items.csv", "--task", "multilabel", *BASE], r"needs --label-column"),
        (
            ["items.csv", "--task", "regression", "--label-column", "nope", *BASE],
            r"no label column 'nope'",
        ),
        (
            ["words.csv", "--task", "regression", "--label-column", "y", *BASE],
            r"not a number .* row 7",
        ),
        (
            ["gap.csv", "--task", "regression", "--label-column", "y", *BASE],
            r"no value.*rows \[3\]\); fill them or pass --unlabeled drop",
        ),
        (["flat.csv", "--task", "regression", "--label-column", "y", *BASE], r"nothing to learn"),
        (
            ["notags.csv", "--task", "multilabel", "--label-column", "tags", *BASE],
            r"no tags at all",
        ),
        (
            [
                "items.csv",
                "--task",
                "regression",
                "--label-column",
                "y",
                "--conformal",
                "class",
                *BASE,
            ],
            r"--conformal does not apply to `train --task regression`",
        ),
        (
            ["items.csv", "--task", "regression", "--label-column", "y", "--label-sep", ";", *BASE],
            r"--label-sep does not apply",
        ),
        (
            ["items.csv", "--label-column", "tags", "--label-filter", "flagged", *BASE],
            r"--label-filter applies to --task multilabel and regression",
        ),
        (
            [
                "items.csv",
                "--task",
                "multilabel",
                "--label-column",
                "tags",
                "--text-column",
                "text",
                "--featurizer",
                "vectors",
                "--out",
                "out",
            ],
            r"--vectors-column",
        ),
    ],
)
def test_bad_training_input_is_refused(folder: Path, args: list[str], expect: str) -> None:
    refused(["train", *args], expect, code=2)


@pytest.mark.parametrize("task", ["multilabel", "regression"])
def test_predict_refuses_an_uncalibrated_level(folder: Path, task: str) -> None:
    refused(
        ["predict", task, "items.csv", "--alpha", "0.2", "--out", "p.parquet"],
        r"alpha 0.2 was not calibrated",
        code=2,
    )


def test_predict_refuses_a_missing_text_column(folder: Path) -> None:
    refused(
        ["predict", "multilabel", "items.csv", "--text-column", "body", "--out", "p.parquet"],
        r"body",
        code=2,
    )


def test_unlabeled_drop_leaves_out_rows_without_a_number(folder: Path) -> None:
    r = invoke(
        [
            "train",
            "gap.csv",
            "--task",
            "regression",
            "--label-column",
            "y",
            "--unlabeled",
            "drop",
            *BASE,
        ]
    )
    assert r.exit_code == 0, r.output
    import json

    meta = json.loads((folder / "out" / "model.json").read_text())
    assert meta["task"] == "regression" and meta["training_data"]["n_items"] == 59


def test_serve_model_refuses_a_multilabel_model(folder: Path) -> None:
    refused(["serve-model", "multilabel", "--port", "8765"], r"serves classifiers", code=2)
