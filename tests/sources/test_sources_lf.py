"""Labeling functions: decorator, helpers, vectorised application, analysis table, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from _shared import shared_path
from truelabel import InputError
from truelabel.cli import app
from truelabel.sources import (
    LabelingFunction,
    apply_lfs,
    keyword_lf,
    labeling_function,
    lf_analysis,
    regex_lf,
    threshold_lf,
)

DF = pd.DataFrame(
    {
        "text": [
            "FREE money now",
            "see you at lunch",
            "win a free prize",
            "check my channel",
            None,
        ],
        "stars": [1, 5, 2, 4, 3],
        "gold": ["spam", "ham", "spam", "spam", "ham"],
    }
)


@labeling_function
def lf_lunch(df: pd.DataFrame) -> pd.Series:
    return pd.Series(np.where(df["text"].fillna("").str.contains("lunch"), "ham", None))


def test_decorator_and_helpers() -> None:
    assert isinstance(lf_lunch, LabelingFunction) and lf_lunch.name == "lf_lunch"
    named = labeling_function("custom")(lambda df: [None] * len(df))
    assert named.name == "custom"
    assert keyword_lf(["free"], "spam")(DF).tolist() == ["spam", None, "spam", None, None]
    assert keyword_lf(["FREE"], "spam", case=True)(DF).tolist() == ["spam", None, None, None, None]
    assert regex_lf(r"chan+el", "spam")(DF).tolist() == [None, None, None, "spam", None]
    assert threshold_lf("stars", "ham", above=3)(DF).tolist() == [None, "ham", None, "ham", None]
    assert threshold_lf("stars", "spam", below=2.5, above=1)(DF).tolist() == [
        None,
        None,
        "spam",
        None,
        None,
    ]


def test_helper_bad_input() -> None:
    with pytest.raises(InputError, match="at least one keyword"):
        keyword_lf([], "spam")
    with pytest.raises(InputError, match="not a valid regular expression"):
        regex_lf("(", "spam")
    with pytest.raises(InputError, match="above= or below="):
        threshold_lf("stars", "x")
    with pytest.raises(InputError, match="no column 'body'"):
        keyword_lf(["x"], "spam", column="body")(DF)
    bad = labeling_function(lambda df: [1, 2])
    with pytest.raises(InputError, match="returned 2 labels for 5 rows"):
        bad(DF)


def test_apply_and_analysis_by_hand() -> None:
    lfs = [
        keyword_lf(["free"], "spam", name="free"),
        lf_lunch,
        threshold_lf("stars", "ham", above=3, name="stars"),
    ]
    v = apply_lfs(DF, lfs, classes=["ham", "spam"])
    assert list(v.source_names) == ["free", "lf_lunch", "stars"]
    gold = np.array([1, 0, 1, 1, 0])
    t = lf_analysis(v, gold).set_index("lf")
    # free: items 0, 2 (spam); lf_lunch: item 1 (ham); stars: items 1, 3 (ham)
    assert t.loc["free", "coverage"] == pytest.approx(2 / 5)
    assert t.loc["stars", "polarity"] == ["ham"]
    # overlap: item 1 is labelled by lf_lunch and stars
    assert t.loc["lf_lunch", "overlaps"] == pytest.approx(1 / 5)
    assert t.loc["free", "overlaps"] == 0
    # no conflicts (lunch and stars agree)
    assert t["conflicts"].sum() == 0
    assert t.loc["stars", "correct"] == 1 and t.loc["stars", "incorrect"] == 1
    assert t.loc["stars", "emp_accuracy"] == pytest.approx(0.5)


def test_conflicts_counted() -> None:
    lfs = [keyword_lf(["free"], "spam", name="a"), keyword_lf(["money"], "ham", name="b")]
    t = lf_analysis(apply_lfs(DF, lfs, classes=["ham", "spam"])).set_index("lf")
    assert t.loc["a", "conflicts"] == pytest.approx(1 / 5)
    assert t.loc["b", "conflicts"] == pytest.approx(1 / 5)
    assert "emp_accuracy" not in t.columns


def test_apply_bad_labels_and_names() -> None:
    with pytest.raises(
        InputError, match=r"returned labels \['eggs'\] \(first on row 0\) that are not among"
    ):
        apply_lfs(DF, [keyword_lf(["free"], "eggs")], classes=["ham", "spam"])
    with pytest.raises(InputError, match="unique names"):
        apply_lfs(
            DF,
            [keyword_lf(["a"], "ham", name="x"), keyword_lf(["b"], "ham", name="x")],
            classes=["ham"],
        )


def test_cli_lf_analyze_with_lf_file(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    DF.to_csv(data, index=False)
    rules = tmp_path / "rules.py"
    rules.write_text(
        "from truelabel.sources import keyword_lf, threshold_lf\n"
        "CLASSES = ['ham', 'spam']\n"
        "free = keyword_lf(['free'], 'spam', name='free')\n"
        "happy = threshold_lf('stars', 'ham', above=3, name='happy')\n"
    )
    out = tmp_path / "table.csv"
    r = CliRunner().invoke(
        app,
        [
            "lf",
            "analyze",
            str(data),
            "--lfs",
            str(rules),
            "--gold-column",
            "gold",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "free" in r.output and "happy" in r.output
    t = pd.read_csv(out)
    assert t["lf"].tolist() == ["free", "happy"]


def test_cli_lf_analyze_columns_and_errors(tmp_path: Path) -> None:
    data = tmp_path / "wide.csv"
    pd.DataFrame({"lf1": [0, -1, 1], "lf2": [0, 0, -1], "y": [0, 0, 1]}).to_csv(data, index=False)
    r = CliRunner().invoke(
        app, ["lf", "analyze", str(data), "--columns", "lf1,lf2", "--gold-column", "y"]
    )
    assert r.exit_code == 0, r.output
    assert "lf1" in r.output
    r = CliRunner().invoke(app, ["lf", "analyze", str(data)])
    assert r.exit_code == 2 and "--lfs" in r.output
    bad = tmp_path / "bad.py"
    bad.write_text("raise RuntimeError('boom')\n")
    r = CliRunner().invoke(app, ["lf", "analyze", str(data), "--lfs", str(bad)])
    assert r.exit_code == 2 and "boom" in r.output


def test_cli_lf_analyze_real_wrench_split() -> None:
    p = shared_path("weak-supervision", "wrench", "youtube", "test.json")
    r = CliRunner().invoke(app, ["lf", "analyze", str(p)])
    assert r.exit_code == 0, r.output
    assert "10 labeling functions on 250 items" in r.output
