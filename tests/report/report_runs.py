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
    return {"data": data, "votes": votes, "numeric": numeric}


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
    invoke(["aggregate", votes, "--out", out("aggregate")])
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
