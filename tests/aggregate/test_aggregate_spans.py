"""Span aggregation: span votes coded per token, the sequence model, PICO, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from _shared import pico_spans, shared_path
from truelabel import InputError
from truelabel.aggregate import SequenceDawidSkene, aggregate_spans
from truelabel.cli import app
from truelabel.sources._spans import span_votes_from_table

DATA = pd.DataFrame(
    {"item_id": ["d1", "d2"], "text": ["adults with asthma were enrolled", "no one"]}
)
# w1 marks "adults with asthma", w2 only "adults", w3 saw d1 and marked nothing; w1 saw d2
VOTES = pd.DataFrame(
    {
        "item_id": ["d1", "d1", "d1", "d2"],
        "source": ["w1", "w2", "w3", "w1"],
        "start": [0, 0, None, None],
        "end": [18, 6, None, None],
        "label": ["P", "P", "P", "P"],
    }
)


def test_span_votes_are_one_tag_per_token_and_source() -> None:
    sv = span_votes_from_table(VOTES, DATA)
    v = sv.votes
    assert sv.tokens.tokens.tolist() == [
        "adults",
        "with",
        "asthma",
        "were",
        "enrolled",
        "no",
        "one",
    ]
    assert list(v.classes) == ["O", "B-P", "I-P"]
    got = {
        (str(v.source_names[s]), int(i)): str(v.classes[c])
        for i, s, c in zip(v.item, v.source, v.label, strict=True)
    }
    # every source that saw an item votes on each of its tokens; not marking = O
    assert [got[("w1", i)] for i in range(5)] == ["B-P", "I-P", "I-P", "O", "O"]
    assert [got[("w2", i)] for i in range(5)] == ["B-P", "O", "O", "O", "O"]
    assert [got[("w3", i)] for i in range(5)] == ["O"] * 5
    assert got[("w1", 5)] == got[("w1", 6)] == "O" and ("w2", 5) not in got
    assert v.n_votes == 5 * 3 + 2


def test_majority_of_three_and_the_tables() -> None:
    res = aggregate_spans(VOTES, DATA, method="mv")
    # adults: w1+w2 say entity (2/3); with, asthma: 1/3 -> O
    assert res.labels[["item_id", "start", "end", "label", "text"]].values.tolist() == [
        ["d1", 0, 6, "P", "adults"]
    ]
    assert res.tokens["label"].tolist()[:3] == ["B-P", "O", "O"]
    src = res.sources.set_index("source")
    assert src.loc["w2", "span_f1"] == 1.0 and src.loc["w1", "span_precision"] == 0.0


def test_bad_span_votes() -> None:
    bad = VOTES.assign(end=[99, 6, None, None])
    with pytest.raises(InputError, match=r"row 0: span \[0, 99\) does not fit item 'd1'"):
        aggregate_spans(bad, DATA)
    with pytest.raises(InputError, match="item 'zz' is not in data"):
        aggregate_spans(VOTES.assign(item_id=["zz", "d1", "d1", "d2"]), DATA)
    with pytest.raises(InputError, match="unknown --method 'glad' for spans"):
        aggregate_spans(VOTES, DATA, method="glad")


def test_sequence_model_on_a_synthetic_crowd() -> None:
    """Workers copy a true tag sequence with per-token errors; the HMM recovers it."""
    rng = np.random.default_rng(0)
    from truelabel.io._tokens import spans_to_tags
    from truelabel.sources._votes import VoteArrays

    n_sent, length, n_src = 60, 20, 5
    offsets = np.arange(n_sent + 1) * length
    truth = np.concatenate(
        [
            spans_to_tags(np.array([s]), np.array([s + 5]), np.array([0]), length)
            for s in rng.integers(0, 15, n_sent)
        ]
    )
    acc = np.array([0.95, 0.9, 0.9, 0.8, 0.6])
    item = np.tile(np.arange(len(truth)), n_src)
    source = np.repeat(np.arange(n_src), len(truth))
    flip = rng.random(len(item)) > acc[source]
    label = np.where(flip, rng.integers(0, 3, len(item)), truth[item])
    va = VoteArrays(
        item=item.astype(np.int32),
        source=source.astype(np.int32),
        label=label.astype(np.int32),
        n_items=len(truth),
        n_sources=n_src,
        n_classes=3,
        item_ids=np.arange(len(truth)),
        source_names=np.array([f"s{i}" for i in range(n_src)], dtype=object),
        classes=np.array(["O", "B-X", "I-X"], dtype=object),
        is_gold_source=np.zeros(n_src, dtype=bool),
    )
    m = SequenceDawidSkene().fit(va, offsets)
    assert (m.labels_ == truth).mean() > 0.99  # measured 1.0
    np.testing.assert_allclose(m.posterior_.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(m.transitions_.sum(axis=1), 1, atol=1e-5)
    # the worst worker gets the lowest estimated accuracy
    diag = np.einsum("skk->sk", m.confusion_).mean(axis=1)
    assert diag.argmin() == 4


def test_pico_acl17_ds_against_the_medical_student(tmp_path) -> None:
    import gzip

    votes, data = pico_spans("acl17-test")
    res = aggregate_spans(votes, data)
    pro = shared_path(
        "crowd", "pico-spans", "annotations", "acl17-test", "PICO-annos-professional.json.gz"
    )
    gold_rows = [
        (d["docid"], s, e, "Participants")
        for d in (json.loads(x) for x in gzip.open(pro, "rt"))
        for s, e in d["Participants"].get("MedicalStudent", [])
    ]
    gold = aggregate_spans(
        pd.DataFrame(gold_rows, columns=["item_id", "start", "end", "label"]).assign(source="MS"),
        data,
        method="mv",
    )
    g = gold.tokens["label"].ne("O").to_numpy()
    p = res.tokens["label"].ne("O").to_numpy()
    tp = (g & p).sum()
    f1 = 2 * tp / (g.sum() + p.sum())
    assert f1 > 0.73  # measured 0.741 (DS on acl17-test votes alone; BENCHMARKS.md)
    res.save(tmp_path / "run")
    assert {"labels.parquet", "tokens.parquet", "sources.parquet", "report.html"} <= {
        f.name for f in (tmp_path / "run").iterdir()
    }


def test_aggregate_spans_cli(tmp_path) -> None:
    VOTES.to_csv(tmp_path / "votes.csv", index=False)
    DATA.to_csv(tmp_path / "docs.csv", index=False)
    runner = CliRunner()
    args = [
        "aggregate",
        str(tmp_path / "votes.csv"),
        "--label-type",
        "spans",
        "--out",
        str(tmp_path / "o"),
    ]
    r = runner.invoke(app, args + ["--data", str(tmp_path / "docs.csv"), "--method", "mv"])
    assert r.exit_code == 0, r.output
    labels = pd.read_parquet(tmp_path / "o" / "labels.parquet")
    assert labels["text"].tolist() == ["adults"]
    r = runner.invoke(app, args + ["--overwrite"])
    assert r.exit_code == 2 and "--label-type spans needs --data" in r.output
    r = runner.invoke(
        app, args + ["--data", str(tmp_path / "docs.csv"), "--method", "mace", "--overwrite"]
    )
    assert r.exit_code == 2 and "--method mace does not aggregate spans" in r.output
