"""The high-level aggregate API, the run directory, the report and the CLI."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import truelabel
from _shared import shared_path
from truelabel import InputError
from truelabel.aggregate import AggregateResult, aggregate, aggregate_votes, select_label_model
from truelabel.cli import app
from truelabel.sources import votes_from_matrix, votes_from_table


def _crowd(n: int = 120, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    names = np.array(["cat", "dog", "<b>bird</b>"])
    rows = []
    for w, acc in enumerate([0.9, 0.8, 0.75, 0.6, 0.34]):
        lab = np.where(rng.random(n) < acc, truth, rng.integers(0, 3, n))
        for i in range(n):
            rows.append((f"item{i}", f"w{w}", names[lab[i]]))
    return pd.DataFrame(rows, columns=["item", "worker", "answer"]), truth


def test_aggregate_table_end_to_end(tmp_path: Path) -> None:
    df, truth = _crowd()
    res = truelabel.aggregate(df, item_column="item", source_column="worker", label_column="answer")
    assert isinstance(res, AggregateResult)
    assert list(res.classes) == ["<b>bird</b>", "cat", "dog"]
    assert res.posterior.dtype == np.float32 and res.posterior.shape == (120, 3)
    cols = ["item_id", "label", "confidence", "n_votes", "no_votes", "is_gold"]
    assert list(res.labels.columns[:6]) == cols
    assert [c for c in res.labels.columns if c.startswith("p_")] == [
        "p_<b>bird</b>",
        "p_cat",
        "p_dog",
    ]
    assert res.summary["method_requested"] == "auto" and res.summary["method_reason"]
    assert set(res.sources["source"]) == {f"w{i}" for i in range(5)}
    # the near-random worker is the worst
    assert res.sources.iloc[0]["source"] == "w4"
    out = res.save(tmp_path / "run")
    for f in ("labels.parquet", "sources.parquet", "summary.json", "report.html", "run.json"):
        assert (out / f).is_file()
    html = (out / "report.html").read_text()
    assert "<b>bird</b>" not in html and "&lt;b&gt;bird&lt;/b&gt;" in html
    assert "<svg" in html and "Source quality" in html  # inline SVG charts, no PNG
    labels = pd.read_parquet(out / "labels.parquet")
    assert len(labels) == 120
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_items"] == 120


def test_module_is_callable_after_submodule_import() -> None:
    import truelabel.aggregate as mod

    df, _ = _crowd(30)
    res = mod(df, item_column="item", source_column="worker", label_column="answer", method="mv")
    assert res.summary["method"] == "mv"


def test_aggregate_votes_signature_and_row_order() -> None:
    L = np.array([[0, 0, 1], [1, 1, 1], [0, -1, 0]])
    v = votes_from_matrix(L, n_classes=2, item_ids=["z", "a", "m"])
    res = aggregate_votes(v, method="ds", random_state=0)
    assert list(res.item_ids) == ["z", "a", "m"]
    assert res.labels["label"].tolist() == [0, 1, 0]


def test_gold_file_is_clamped_and_auto_uses_it(tmp_path: Path) -> None:
    df, truth = _crowd(200, seed=2)
    names = np.array(["cat", "dog", "<b>bird</b>"])
    gold = pd.DataFrame({"q": [f"item{i}" for i in range(40)], "t": names[truth[:40]]})
    res = aggregate(
        df,
        item_column="item",
        source_column="worker",
        label_column="answer",
        gold=gold,
        gold_item_column="q",
        gold_label_column="t",
    )
    assert res.summary["method_criterion"] == "gold_accuracy"
    assert res.summary["n_gold_items"] == 40
    lab = res.labels.set_index("item_id")
    assert (lab.loc[[f"item{i}" for i in range(40)], "label"].to_numpy() == names[truth[:40]]).all()
    assert lab.loc["item0", "confidence"] == 1.0
    gsrc = res.sources[res.sources["is_gold"]]
    assert len(gsrc) == 1 and gsrc.iloc[0]["source"] == "gold"


def test_data_keeps_items_without_votes_and_flags_them() -> None:
    df = pd.DataFrame({"item_id": [1, 1, 2], "source": ["a", "b", "a"], "label": ["x", "x", "y"]})
    data = pd.DataFrame({"item_id": [1, 2, 3]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = aggregate(df, data=data, method="ds")
    assert res.labels["no_votes"].tolist() == [False, False, True]
    assert res.summary["n_items_without_votes"] == 1
    assert any("no votes" in n for n in res.summary["notes"])


def test_unknown_items_refused_or_ignored() -> None:
    df = pd.DataFrame({"item_id": [1, 9], "source": ["a", "a"], "label": ["x", "y"]})
    data = pd.DataFrame({"item_id": [1, 2]})
    with pytest.raises(InputError, match="1 votes are for 1 items that are not in the data"):
        aggregate(df, data=data)
    res = aggregate(df, data=data, ignore_unknown=True, method="mv")
    assert res.summary["input"]["n_unknown_item_votes"] == 1


def test_single_source_and_one_vote_notes() -> None:
    df = pd.DataFrame(
        {"item_id": [1, 2, 3, 3], "source": ["a", "a", "a", "b"], "label": ["x", "y", "x", "y"]}
    )
    res = aggregate(df)
    assert any("single vote" in n and "pseudo-votes" in n for n in res.summary["notes"])
    one = aggregate(df[df["source"] == "a"])
    assert one.summary["method_criterion"] == "single_source"
    assert any("only one source" in n for n in one.summary["notes"])


def test_single_vote_source_is_smoothed_toward_the_average() -> None:
    """A source with one vote that disagrees with a clear consensus used to get
    ``estimated_accuracy = 1e-15`` although the summary said it was smoothed."""
    df, _ = _crowd(60, seed=2)
    lone = pd.DataFrame({"item": ["item0"], "worker": ["lone"], "answer": ["never"]})
    first = df[(df["item"] == "item0")]["answer"].mode()[0]
    other = next(a for a in ("cat", "dog", "<b>bird</b>") if a != first)
    lone["answer"] = other
    res = aggregate(
        pd.concat([df, lone]), item_column="item", source_column="worker", label_column="answer"
    )
    src = res.sources.set_index("source")
    mean = float(
        (src["estimated_accuracy"] * src["n_votes"]).drop("lone").sum()
        / src["n_votes"].drop("lone").sum()
    )
    est = float(src.loc["lone", "estimated_accuracy"])
    assert 0.2 < est < mean  # 2 pseudo-votes at the average: between its vote and the mean
    assert any("pseudo-votes" in n for n in res.summary["notes"])


def test_bad_method_and_features_without_data() -> None:
    df, _ = _crowd(20)
    kw = {"item_column": "item", "source_column": "worker", "label_column": "answer"}
    with pytest.raises(InputError, match="unknown method 'bogus'"):
        aggregate(df, method="bogus", **kw)
    with pytest.raises(InputError, match="needs item features"):
        aggregate(df, method="features", **kw)
    with pytest.raises(InputError, match="--text-column needs --data"):
        aggregate(df, text_column="text", **kw)


def test_features_method_with_text(tmp_path: Path) -> None:
    df, truth = _crowd(90, seed=4)
    words = np.array(["meow purr whiskers", "woof bark fetch", "tweet wings feather"])
    data = pd.DataFrame({"item": [f"item{i}" for i in range(90)], "text": words[truth]})
    res = aggregate(
        df,
        item_column="item",
        source_column="worker",
        label_column="answer",
        data=data,
        text_column="text",
        featurizer="tfidf",
        method="features",
    )
    assert res.summary["method"] == "features"
    names = np.array(["cat", "dog", "<b>bird</b>"])
    assert (res.labels["label"].to_numpy() == names[truth]).mean() > 0.95


def test_auto_records_heldout_scores() -> None:
    df, _ = _crowd(150, seed=7)
    v = votes_from_table(df, item_column="item", source_column="worker", label_column="answer")
    ch = select_label_model(v, random_state=0)
    assert ch.criterion == "heldout_vote_loglik"
    assert set(ch.scores) >= {"mv", "ds", "onecoin", "mace"}
    assert ch.method in ch.scores and ch.method in ch.reason


def test_real_data_dog_accuracy() -> None:
    d = shared_path("crowd", "zheng2017", "dog")
    res = aggregate(
        d / "answer.csv",
        item_column="question",
        source_column="worker",
        label_column="answer",
        method="ds",
    )
    truth = pd.read_csv(d / "truth.csv").set_index("question")["truth"]
    lab = res.labels.set_index("item_id")["label"]
    common = truth.index.intersection(lab.index)
    acc = (lab.loc[common].astype(int) == truth.loc[common]).mean()
    assert acc >= 0.835  # measured 0.8426 (crowd-kit DawidSkene: 0.8426)


# ------------------------------------------------------------------ CLI


def _write_votes(tmp_path: Path) -> Path:
    df, _ = _crowd(60)
    p = tmp_path / "votes.csv"
    df.to_csv(p, index=False)
    return p


def test_cli_aggregate_writes_run(tmp_path: Path) -> None:
    p = _write_votes(tmp_path)
    r = CliRunner().invoke(
        app,
        [
            "aggregate",
            str(p),
            "--item-column",
            "item",
            "--source-column",
            "worker",
            "--label-column",
            "answer",
            "--method",
            "ds",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "Least reliable sources" in r.output
    assert (tmp_path / "out" / "labels.parquet").is_file()


def test_cli_aggregate_is_thin(tmp_path: Path) -> None:
    p = _write_votes(tmp_path)
    df, _ = _crowd(20)
    fake = aggregate(
        df, item_column="item", source_column="worker", label_column="answer", method="mv"
    )
    with mock.patch("truelabel.aggregate.aggregate", return_value=fake) as m:
        r = CliRunner().invoke(
            app,
            [
                "aggregate",
                str(p),
                "--item-column",
                "item",
                "--source-column",
                "worker",
                "--label-column",
                "answer",
                "--method",
                "mace",
                "--gold",
                "g.csv",
                "--ignore-unknown",
                "--seed",
                "3",
                "--classes",
                "a, b",
                "--no-calibrate",
                "--out",
                str(tmp_path / "o2"),
            ],
        )
    assert r.exit_code == 0, r.output
    kwargs = m.call_args.kwargs
    assert kwargs["calibrate"] is False
    assert kwargs["method"] == "mace" and kwargs["random_state"] == 3
    assert kwargs["ignore_unknown"] is True and kwargs["gold"] == Path("g.csv")
    assert kwargs["classes"] == ["a", "b"] and kwargs["item_column"] == "item"


def test_cli_aggregate_bad_input_exits_2(tmp_path: Path) -> None:
    p = _write_votes(tmp_path)
    r = CliRunner().invoke(
        app, ["aggregate", str(p), "--item-column", "nope", "--out", str(tmp_path / "o")]
    )
    assert r.exit_code == 2
    assert "no column 'nope'" in r.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("keep")
    r = CliRunner().invoke(
        app,
        [
            "aggregate",
            str(p),
            "--item-column",
            "item",
            "--source-column",
            "worker",
            "--label-column",
            "answer",
            "--out",
            str(tmp_path / "full"),
        ],
    )
    assert r.exit_code == 2 and "--overwrite" in r.output


def test_lf_votes_model_abstention_by_default() -> None:
    L = np.array([[1, -1, 0], [1, 1, -1], [-1, -1, 0], [1, -1, -1]] * 10)
    v = votes_from_matrix(L, classes=["ham", "spam"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 4 distinct rows: EM may oscillate on this toy input
        res = aggregate_votes(v, method="ds")
    assert res.summary["abstain_modelled"] is True
    assert list(res.classes) == ["ham", "spam"] and res.posterior.shape == (40, 2)
    assert "abstain_rate" in res.sources.columns
    assert res.confusion.shape == (3, 2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        off = aggregate_votes(v, method="ds", model_abstain=False)
    assert off.summary["abstain_modelled"] is False


def test_auto_skips_full_confusions_when_votes_are_too_few() -> None:
    # 12 classes, 8 sources, 2-3 votes per item: 8*12*11 = 1056 confusion parameters > votes
    rng = np.random.default_rng(3)
    n, k = 120, 12
    truth = rng.integers(0, k, n)
    rows = []
    for i in range(n):
        for s in rng.choice(8, size=3, replace=False):
            lab = truth[i] if rng.random() < 0.7 else rng.integers(0, k)
            rows.append((i, f"s{s}", int(lab)))
    v = votes_from_table(pd.DataFrame(rows, columns=["item_id", "source", "label"]))
    ch = select_label_model(v, random_state=0)
    assert ch.method not in ("ds", "ds_pooled")
    assert "full-confusion models skipped" in ch.reason
