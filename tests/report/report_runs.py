"""One run of every command that writes a report, through the CLI, on small real-shaped data.

Imported by name (tests/ has no packages): :func:`build_runs` is used by the fast check
that every run folder carries a report (``test_report_runs.py``) and by the Chromium
screenshot test (``test_report_browser.py``). The data are the bundled Banking77 sample
(real texts; 8.6% of its labels flipped on purpose, the true label kept) and votes,
numeric ratings and LLM answers derived from it with a fixed seed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer
from click.testing import CliRunner

from truelabel.cli import app
from truelabel.cli.demo import demo_data_path

COMMAND = typer.main.get_command(app)
#: classes kept from the 77 of the sample (fast, and still a confusion chart of pairs)
N_CLASSES = 20
N_ROWS = 900


def invoke(args: list[Any]) -> None:
    r = CliRunner().invoke(COMMAND, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == 0, r.output


def _inputs(base: Path) -> dict[str, Path]:
    df = pd.read_csv(demo_data_path())
    keep = sorted(df["true_label"].unique())[:N_CLASSES]
    df = df[df["true_label"].isin(keep) & df["label"].isin(keep)].head(N_ROWS)
    df = df.reset_index(drop=True)
    data = base / "data.csv"
    df.to_csv(data, index=False)
    rng = np.random.default_rng(0)
    rows = []
    for w, acc in enumerate([0.9, 0.85, 0.8, 0.7, 0.4]):
        right = rng.random(len(df)) < acc
        other = rng.choice(keep, len(df))
        lab = np.where(right, df["true_label"], other)
        rows += [
            {"item_id": i, "source": f"w{w}", "label": x}
            for i, x in zip(df["id"], lab, strict=True)
        ]
    votes = base / "votes.csv"
    pd.DataFrame(rows).to_csv(votes, index=False)
    ratings = pd.DataFrame(
        [
            {"item_id": i, "source": f"r{w}", "label": float(t + b + rng.normal(0, s))}
            for i, t in enumerate(rng.uniform(0, 10, 200))
            for w, (b, s) in enumerate([(0, 0.5), (1, 1.0), (-0.5, 2.0), (0, 4.0)])
        ]
    )
    numeric = base / "ratings.csv"
    ratings.to_csv(numeric, index=False)
    return {"data": data, "votes": votes, "numeric": numeric, **_task_inputs(base, df, rng)}


#: a toy entity type per word: the token audit, multi-label and span inputs tag these
_ENTITY_WORDS = {"card": "OBJ", "cards": "OBJ", "transfer": "ACT", "account": "OBJ"}


def _task_inputs(base: Path, df: pd.DataFrame, rng: np.random.Generator) -> dict[str, Path]:
    """Token (CoNLL), span-vote, multi-label and numeric-label inputs from the same texts."""
    texts = [str(t) for t in df["text"].head(300)]
    types = sorted(set(_ENTITY_WORDS.values())) + ["NUM"]
    lines = []
    for t in texts:
        for w in t.split():
            kind = _ENTITY_WORDS.get(w.lower().strip("?.,!")) or (
                "NUM" if any(c.isdigit() for c in w) else None
            )
            if kind is not None and rng.random() < 0.06:  # a wrong type, on purpose
                kind = str(rng.choice([x for x in types if x != kind]))
            lines.append(f"{w} {'B-' + kind if kind else 'O'}")
        lines.append("")
    conll = base / "tokens.conll"
    conll.write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs = pd.DataFrame({"item_id": np.arange(len(texts)), "text": texts})
    docs.to_csv(base / "docs.csv", index=False)
    spans = []
    for i, t in enumerate(texts):
        lo = t.lower()
        for word, kind in _ENTITY_WORDS.items():
            at = lo.find(word + " ")
            if at < 0:
                continue
            for w, recall in enumerate([0.95, 0.85, 0.5]):
                if rng.random() < recall:
                    spans.append((i, f"s{w}", at, at + len(word), kind))
    span_votes = base / "span_votes.csv"
    pd.DataFrame(spans, columns=["item_id", "source", "start", "end", "label"]).to_csv(
        span_votes, index=False
    )
    tags = [
        ",".join(
            [str(lab)]
            + (["question"] if t.strip().endswith("?") else [])
            + (["card"] if "card" in t.lower() else [])
        )
        for t, lab in zip(df["text"], df["true_label"], strict=True)
    ]
    flip = rng.random(len(tags)) < 0.05
    tags = [
        t + ",question" if f and "question" not in t else t for t, f in zip(tags, flip, strict=True)
    ]
    words = df["text"].astype(str).str.split().str.len().to_numpy(dtype=float)
    y = words + rng.normal(0, 1.0, len(words))
    y[rng.random(len(y)) < 0.04] += 15.0  # a few implausible values
    tasks = df[["id", "text"]].assign(tags=tags, y=y)
    multi = base / "tasks.csv"
    tasks.to_csv(multi, index=False)
    return {"conll": conll, "span_votes": span_votes, "docs": base / "docs.csv", "tasks": multi}


def build_runs(base: Path, *, llm_url: str | None = None) -> dict[str, Path]:
    """Run every report-writing command once; returns ``{name: run folder}``.

    ``llm_url``: an OpenAI-compatible endpoint for the ``label --llm`` run (skipped
    without one).
    """
    base.mkdir(parents=True, exist_ok=True)
    inp = _inputs(base)
    data, votes = inp["data"], inp["votes"]
    runs: dict[str, Path] = {}

    def out(name: str) -> Path:
        runs[name] = base / name
        return runs[name]

    common = ["--text-column", "text", "--id-column", "id"]
    invoke(["audit", data, "--label-column", "label", *common, "--featurizer", "tfidf"]
           + ["--out", out("audit")])  # fmt: skip
    invoke(["audit", data, "--label-column", "label", *common, "--featurizer", "tfidf"]
           + ["--engine", "local", "--out", out("audit_local")])  # fmt: skip
    invoke(["audit", inp["conll"], "--task", "token", "--out", out("audit_token")])
    invoke(["audit", inp["tasks"], "--task", "multilabel", "--label-column", "tags"]
           + ["--label-sep", ",", *common, "--featurizer", "tfidf"]
           + ["--out", out("audit_multilabel")])  # fmt: skip
    invoke(["audit", inp["tasks"], "--task", "regression", "--label-column", "y", *common]
           + ["--featurizer", "tfidf", "--out", out("audit_regression")])  # fmt: skip
    invoke(["aggregate", votes, "--out", out("aggregate")])
    invoke(["aggregate", inp["span_votes"], "--label-type", "spans", "--data", inp["docs"]]
           + ["--out", out("aggregate_spans")])  # fmt: skip
    invoke(["aggregate", inp["numeric"], "--out", out("aggregate_numeric")])
    invoke(["scale", "aggregate", votes, "--out", out("aggregate_local")])
    invoke(["train", data, "--label-column", "label", "--text-column", "text"]
           + ["--featurizer", "tfidf", "--out", out("train")])  # fmt: skip
    invoke(["scale", "predict", runs["train"], data, "--out", out("predict_local")])
    # estimate class shares from the aggregated labels plus 150 gold labels
    labels = pd.read_parquet(runs["aggregate"] / "labels.parquet")
    truth = pd.read_csv(data).set_index("id")["true_label"]
    gold = labels[["item_id"]].head(150).assign(label=lambda d: truth.loc[d["item_id"]].values)
    gold.to_csv(base / "gold.csv", index=False)
    invoke(["estimate", runs["aggregate"] / "labels.parquet", "--gold", base / "gold.csv"]
           + ["--out", out("estimate")])  # fmt: skip
    invoke(["plan", runs["aggregate"] / "labels.parquet", "--gold", base / "gold.csv"]
           + ["--target-width", "0.05", "--out", out("plan")])  # fmt: skip
    invoke(["plan", runs["aggregate"] / "labels.parquet", "--select", "100"]
           + ["--out", out("plan_select")])  # fmt: skip
    classes = ",".join(sorted(pd.read_csv(data)["true_label"].unique())[:6])
    invoke(["label", data, "--text-column", "text", "--id-column", "id", "--classes", classes]
           + ["--featurizer", "tfidf", "--out", out("label")])  # fmt: skip
    if llm_url is not None:
        invoke(["label", data, "--text-column", "text", "--id-column", "id"]
               + ["--classes", classes, "--llm-base-url", llm_url, "--llm-select", "40"]
               + ["--featurizer", "tfidf", "--llm-cache", base / "llm.sqlite"]
               + ["--out", out("label_llm")])  # fmt: skip
    (base / "runs.json").write_text(json.dumps({k: str(v) for k, v in runs.items()}))
    return runs
