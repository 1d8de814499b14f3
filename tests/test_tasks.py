"""The task read from the data when ``--task`` is not given (``truelabel._tasks.infer_task``),
on slices of the real files of each kind."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from _shared import goemotions, shared_path
from truelabel._tasks import infer_task
from truelabel.cli import app


def _conll_head(n_lines: int = 400) -> str:
    with gzip.open(shared_path("token", "conll2003", "original", "dev.txt.gz"), "rt") as f:
        lines = [next(f) for _ in range(n_lines)]
    return "".join(lines)


def test_token_files_are_read_as_token_tasks(tmp_path: Path) -> None:
    text = _conll_head()
    for name in ("dev.txt", "dev.conll", "dev.iob"):
        (tmp_path / name).write_text(text)
        assert infer_task(tmp_path / name)[0] == "token"
    # without the -DOCSTART- line, as a two-column tab file: still tokens and tags
    body = "\n".join(
        "\t".join([ln.split()[0], ln.split()[-1]]) if ln.strip() else ""
        for ln in text.splitlines()[2:]
    )
    (tmp_path / "two.txt").write_text(body)
    assert infer_task(tmp_path / "two.txt")[0] == "token"
    # a tab-separated table of texts and labels is a table, whatever its ending
    d = goemotions("dev", 50)
    d[["text", "labels"]].to_csv(tmp_path / "table.txt", sep="\t", index=False)
    assert infer_task(tmp_path / "table.txt", label_column="labels")[0] == "classification"
    assert infer_task(tmp_path / "x.csv", spans="spans.csv")[0] == "token"


def test_tag_lists_and_numbers_are_read_from_the_label_column(tmp_path: Path) -> None:
    d = goemotions("dev", 300)
    d["json"] = d["tags"].map(json.dumps)
    d["pyrepr"] = d["tags"].map(repr)
    d["joined"] = d["tags"].map(",".join)
    d[["text", "json", "pyrepr", "joined"]].to_csv(tmp_path / "ge.csv", index=False)
    d[["text", "tags"]].to_parquet(tmp_path / "ge.parquet")
    assert infer_task(tmp_path / "ge.parquet", label_column="tags")[0] == "multilabel"
    for col in ("json", "pyrepr"):
        assert infer_task(tmp_path / "ge.csv", label_column=col)[0] == "multilabel"
    # joined strings are ambiguous (a class name may hold a comma): --label-sep says so
    assert infer_task(tmp_path / "ge.csv", label_column="joined")[0] == "classification"
    assert infer_task(tmp_path / "ge.csv", label_column="joined", label_sep=",")[0] == (
        "multilabel"
    )
    gold = np.loadtxt(shared_path("regression", "moviereviews-crowd", "labels_train_amt.txt"))
    rng = np.random.default_rng(0)
    t = pd.DataFrame(
        {
            "rating": gold[:300],
            "code": rng.integers(0, 4, 300),  # class codes 0..3
            "stars": rng.integers(1, 6, 300),  # 1..5 stars: classes unless --task says
            "name": rng.choice(["pos", "neg"], 300),
        }
    )
    t.to_csv(tmp_path / "t.csv", index=False)
    task, why = infer_task(tmp_path / "t.csv", label_column="rating")
    assert task == "regression" and "fractional" in why
    for col in ("code", "stars", "name"):
        assert infer_task(tmp_path / "t.csv", label_column=col) == ("classification", "")
    # a column that is not there: the stage names it, inference does not guess
    assert infer_task(tmp_path / "t.csv", label_column="nope") == ("classification", "")


@pytest.mark.parametrize("command", ["audit", "train"])
def test_cli_reads_the_task_and_says_so(command: str, tmp_path: Path) -> None:
    gold = np.loadtxt(shared_path("regression", "moviereviews-crowd", "labels_train_amt.txt"))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)).astype(np.float32)
    y = gold[:300] + 0.05 * X[:, 0]
    pd.DataFrame({"y": y, "v": list(X)}).to_parquet(tmp_path / "r.parquet")
    args = [command, str(tmp_path / "r.parquet"), "--label-column", "y", "--vectors-column", "v"]
    if command == "train":
        args += ["--featurizer", "vectors"]
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "task: regression, read from the data" in r.output
    assert "Pass --task to choose another" in r.output
    # the explicit task wins, and is not announced
    r = CliRunner().invoke(app, [*args, "--task", "classification", "--out", str(tmp_path / "c")])
    assert "read from the data" not in r.output


def test_integer_class_codes_of_a_sample_stay_classification(tmp_path: Path) -> None:
    """Single-label data with integer class codes where a sample misses a few classes
    (200 Banking77 test rows: 70 of the 77 codes 0..76) is classification, as it was
    before the task was read from the data; ratings with negatives (emotion_numeric's
    -100..100 answers, 94 values) and sparse integers stay numbers."""
    bank = pd.read_csv(shared_path("text", "banking77", "test.csv"))
    codes = {c: i for i, c in enumerate(sorted(bank["category"].unique()))}
    s = bank.sample(200, random_state=0)
    s = s.assign(label=s["category"].map(codes))
    assert s["label"].nunique() == 70 and s["label"].max() == 76  # codes with gaps
    s[["text", "label"]].to_csv(tmp_path / "b.csv", index=False)
    assert infer_task(tmp_path / "b.csv", label_column="label") == ("classification", "")
    emo = pd.read_csv(shared_path("crowd", "zheng2017", "emotion_numeric", "answer.csv"))
    emo.to_csv(tmp_path / "e.csv", index=False)
    assert infer_task(tmp_path / "e.csv", label_column="answer")[0] == "regression"
    sparse = pd.DataFrame({"y": np.arange(0, 300, 3)})  # 100 integers filling a third
    sparse.to_csv(tmp_path / "s.csv", index=False)
    assert infer_task(tmp_path / "s.csv", label_column="y")[0] == "regression"
