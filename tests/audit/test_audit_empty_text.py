"""Empty or missing texts are issues, not a refusal (on real review and news files)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from _shared import shared_path
from truelabel import audit
from truelabel.cli import app

runner = CliRunner()
BLANK_ROWS = [5, 77, 402]  # one missing, one empty string, one whitespace only


def _reviews(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """The 1k Amazon reviews with crowd 'negative?' answers, three texts blanked."""
    src = shared_path(
        "crowd", "amazon-sentiment-1k", "1k_amazon_reviews_crowdsourced_transformed.csv"
    )
    df = pd.read_csv(src)[["item_id", "text", "is_negative"]].rename(
        columns={"is_negative": "label"}
    )
    df["label"] = np.where(df["label"] == 1, "negative", "positive")
    df["text"] = df["text"].astype(object)
    df.loc[BLANK_ROWS[0], "text"] = None
    df.loc[BLANK_ROWS[1], "text"] = ""
    df.loc[BLANK_ROWS[2], "text"] = "   \n "
    path = tmp_path / "reviews.csv"
    df.to_csv(path, index=False)
    return path, df


def test_cli_flags_empty_texts_and_audits_the_rest(tmp_path: Path) -> None:
    path, df = _reviews(tmp_path)
    out = tmp_path / "run"
    r = runner.invoke(
        app,
        [
            "audit",
            str(path),
            "--text-column",
            "text",
            "--label-column",
            "label",
            "--id-column",
            "item_id",
            "--featurizer",
            "tfidf",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "3 empty texts" in r.output
    issues = pd.read_parquet(out / "issues.parquet").set_index("item_id")
    assert len(issues) == len(df)
    blank_ids = df.loc[BLANK_ROWS, "item_id"].to_numpy()
    blank = issues.loc[blank_ids]
    assert (blank["issue"] == "empty_text").all() and blank["is_empty_text"].all()
    assert blank["label_quality"].isna().all() and not blank["is_label_issue"].any()
    assert blank["reason"].str.contains("text is empty").all()
    rest = issues.drop(index=blank_ids)
    assert rest["label_quality"].notna().all() and not rest["is_empty_text"].any()
    # the empty rows sort last: the ranking is of the rows that could be judged
    ranked = pd.read_parquet(out / "issues.parquet")
    assert ranked["label_quality"].tail(3).isna().all()
    s = json.loads((out / "summary.json").read_text())
    assert s["counts"]["empty_text"] == 3 and s["n"] == len(df)
    html = (out / "report.html").read_text()
    assert "empty texts" in html and "Empty texts" in html
    probs = np.load(out / "pred_probs.npy")
    assert probs.shape == (len(df), 2) and np.isfinite(probs).all()


def test_given_probabilities_still_audit_rows_with_empty_text(tmp_path: Path) -> None:
    path, df = _reviews(tmp_path)
    rng = np.random.default_rng(0)
    probs = rng.dirichlet([1.0, 1.0], len(df)).astype(np.float32)
    res = audit(path, text="text", label="label", id="item_id", pred_probs=probs)
    issues = res.issues.set_index("item_id")
    blank = issues.loc[df.loc[BLANK_ROWS, "item_id"]]
    assert blank["is_empty_text"].all() and blank["label_quality"].notna().all()
    assert set(blank["issue"]) <= {"empty_text", "label_error"}
    assert res.summary["counts"]["empty_text"] == 3
    assert res.summary["settings"]["text_checks"] is False  # the fast path: no embedding


def test_an_entirely_empty_text_column_is_still_refused(tmp_path: Path) -> None:
    path, df = _reviews(tmp_path)
    df["text"] = ""
    df.to_csv(path, index=False)
    out = tmp_path / "run"
    base = ["audit", str(path), "--label-column", "label", "--out", str(out)]
    r = runner.invoke(app, [*base, "--text-column", "text"])
    assert r.exit_code != 0 and "empty on every row" in r.output
    assert not out.exists()
    r = runner.invoke(app, [*base, "--text-column", "body"])
    assert r.exit_code != 0 and "body" in r.output
    assert not out.exists()


def test_exact_duplicate_texts_are_found_without_a_model() -> None:
    from truelabel.audit import find_exact_duplicates

    keys = np.array([3, 1, 3, -1, -1, 1, 7])
    labels = np.array([0, 1, 1, 0, 0, 1, 0])
    d = find_exact_duplicates(keys, labels)
    # groups numbered by their lowest item: {0, 2} (labels differ), {1, 5}; -1 never groups
    assert d.group.tolist() == [0, 1, 0, -1, -1, 1, -1] and d.n_groups == 2
    assert d.conflicting.tolist() == [True, False, True, False, False, False, False]
    with pytest.raises(Exception, match="1-D integer"):
        find_exact_duplicates(np.array(["a"]), [0])
