"""Labeling functions: decorator, helpers, vectorised application, analysis table, CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def test_per_row_lf_and_numeric_labels_in_any_spelling() -> None:
    @labeling_function(per_row=True)
    def short(row: Any) -> object:
        text = row.text
        return 0 if isinstance(text, str) and len(text.split()) <= 3 else None

    # 1.0 and "1" are the class 1, as in a votes table
    floaty = labeling_function("floaty")(lambda df: df["stars"].gt(3).map({True: 1.0}))
    stringy = labeling_function("stringy")(lambda df: df["stars"].lt(2).map({True: "1"}))
    v = apply_lfs(DF, [short, floaty, stringy], classes=[0, 1])
    assert v.source_names.tolist() == ["short", "floaty", "stringy"]
    L = np.full((5, 3), -1)
    L[v.item, v.source] = v.label
    assert L.tolist() == [[0, -1, 1], [-1, 1, -1], [-1, -1, -1], [0, 1, -1], [-1, -1, -1]]
    assert v.info["abstain_informative"]


def test_a_failing_rule_is_one_line_naming_it_and_the_row() -> None:
    @labeling_function
    def tenth_char(df: pd.DataFrame) -> pd.Series:
        return df["text"].map(lambda t: 1 if t[9] == "m" else None)  # row 4 is None

    with pytest.raises(
        InputError, match=r"'tenth_char' raised TypeError: .* on row 4 \(item 'e'\)"
    ):
        apply_lfs(DF.assign(id=list("abcde")), [tenth_char], classes=[0, 1], item_column="id")

    @labeling_function(per_row=True)
    def ratio(row: Any) -> object:
        return 1 if 10 / (row.stars - 4) > 0 else None  # stars == 4 on row 3

    with pytest.raises(InputError, match=r"'ratio' raised ZeroDivisionError: .* on row 3;"):
        apply_lfs(DF, [ratio], classes=[0, 1], chunk_rows=2)  # row 3 is in the second chunk


def test_duplicate_item_ids_refused() -> None:
    with pytest.raises(InputError, match=r"column 'id' repeats item id 'a' \(row 1"):
        apply_lfs(DF.assign(id=list("aabcd")), [lf_lunch], classes=["ham"], item_column="id")


def test_dask_engine_gives_the_same_votes() -> None:
    from truelabel.scale import DaskEngine

    lfs = [keyword_lf(["free"], "spam", name="free"), lf_lunch]
    local = apply_lfs(DF, lfs, classes=["ham", "spam"], chunk_rows=2)
    engine = DaskEngine(n_workers=2, processes=False)
    try:
        dask = apply_lfs(DF, lfs, classes=["ham", "spam"], chunk_rows=2, engine=engine)
        bad = labeling_function("bad")(lambda df: df["nope"])
        with pytest.raises(InputError, match=r"'bad' raised KeyError: 'nope' on row 0"):
            apply_lfs(DF, [bad], classes=["ham"], chunk_rows=2, engine=engine)
    finally:
        engine.close()
    for name in ("item", "source", "label"):
        np.testing.assert_array_equal(getattr(local, name), getattr(dask, name))
