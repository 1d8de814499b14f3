"""`truelabel label` abstains on empty texts instead of refusing the table (real AG News rows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from llm_server import FlakyServer, completion
from typer.testing import CliRunner

from _shared import shared_path
from truelabel.cli import app
from truelabel.sources import LLMLabeler, label_with_llm

CLASSES = "World,Sports,Business,Sci/Tech"
BLANK = [3, 17, 41, 42]  # missing, empty, whitespace, newline only


def _news(tmp_path: Path, n: int = 60) -> tuple[Path, pd.DataFrame]:
    src = shared_path("text", "ag_news", "test.csv")
    df = pd.read_csv(src).head(n)
    df = pd.DataFrame(
        {"id": [f"n{i}" for i in range(n)], "text": (df["title"] + ". " + df["description"])}
    ).astype({"text": object})
    for row, blank in zip(BLANK, [None, "", "  ", "\n"], strict=True):
        if row < n:
            df.loc[row, "text"] = blank
    path = tmp_path / "news.csv"
    df.to_csv(path, index=False)
    return path, df


def test_zero_shot_label_abstains_on_empty_texts(tmp_path: Path) -> None:
    path, df = _news(tmp_path)
    out = tmp_path / "run"
    r = CliRunner().invoke(
        app,
        [
            "label",
            str(path),
            "--text-column",
            "text",
            "--id-column",
            "id",
            "--classes",
            CLASSES,
            "--featurizer",
            "tfidf",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    labels = pd.read_parquet(out / "labels.parquet").set_index("item_id")
    blank_ids = df.loc[BLANK, "id"]
    assert labels.loc[blank_ids, "label"].isna().all()
    assert labels.loc[blank_ids, "confidence"].isna().all()
    rest = labels.drop(index=blank_ids)
    assert rest["label"].notna().all() and len(labels) == len(df)
    votes = pd.read_parquet(out / "votes.parquet")
    assert not votes["item_id"].isin(blank_ids).any()  # an abstention is no vote
    assert len(votes) == len(df) - len(BLANK)
    import json

    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_abstain_empty_text"] == len(BLANK)
    assert sum(summary["per_class"].values()) == len(df) - len(BLANK)


def test_llm_label_does_not_send_empty_texts(tmp_path: Path) -> None:
    path, df = _news(tmp_path, n=12)

    def ok(req: Any, n: int) -> Any:
        return (200, completion("World"), {})

    with FlakyServer(ok) as srv:
        llm = LLMLabeler(
            srv.url, "test-model", cache_path=tmp_path / "llm.sqlite", backoff=0.0, timeout=5.0
        )
        res = label_with_llm(
            path,
            text_column="text",
            classes=CLASSES,
            llm=llm,
            id_column="id",
            out=tmp_path / "run",
        )
        blank = [i for i in BLANK if i < 12]
        assert srv.calls == 12 - len(blank)
    labels = pd.read_parquet(tmp_path / "run" / "labels.parquet").set_index("item_id")
    assert len(labels) == 12
    assert labels.loc[df.loc[blank, "id"], "label"].isna().all()
    assert res.stats["n_empty_text"] == len(blank)
    assert not res.votes["item_id"].isin(df.loc[blank, "id"]).any()
    assert np.all(labels.drop(index=df.loc[blank, "id"])["label"] == "World")
