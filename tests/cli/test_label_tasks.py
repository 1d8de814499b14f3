"""`truelabel label --multi` and `label --task token` (issue 17, part 4), end to end.

The LLM here is a scripted OpenAI-compatible server on 127.0.0.1 (``FlakyServer``): a
real model cannot be made to send wrong offsets, wrong case, unknown types or broken
JSON on demand, and those are what the validator must handle. The real llama.cpp model
runs the same commands in ``tests/sources/test_sources_llm_server.py``.

Outputs are checked by the commands that read them: ``aggregate --label-type spans``
(two LLM sources), ``audit --task token --spans`` and ``aggregate --label-type
multilabel``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from cli_helpers import invoke, refused

from sources.llm_server import FlakyServer, completion

GAZ = {"Angela Merkel": "PER", "Google": "ORG", "Berlin": "LOC", "Paris": "LOC"}
SENTS = [
    "Angela Merkel met Google in Berlin .",
    "Paris is big and Berlin too .",
    "this is garbage",
    "Nothing here .",
    "Google opened an office in Paris .",
    "Berlin and Paris signed a deal .",
    "Angela Merkel spoke .",
    "Nothing to see .",
    "Angela Merkel flew to Paris .",
    "Google bought a company .",
]


def _text_of(req: dict[str, Any]) -> str:
    m = re.search(r"Text: (.*)\n", req["messages"][-1]["content"])
    assert m is not None
    return m.group(1)


def ner(req: dict[str, Any], n: int) -> tuple[int, Any, dict[str, str]]:
    """Right entities with the faults LLMs make: offsets off, case changed, a made-up type."""
    text = _text_of(req)
    if "garbage" in text:
        return 200, completion("There are some entities, I think."), {}
    ents = []
    for w, lab in GAZ.items():
        i = text.find(w)
        if i >= 0:  # LOC offsets off by 3, ORG in lower case; PER exact
            shown = w.lower() if lab == "ORG" else w
            ents.append({"text": shown, "label": lab, "start": i + (3 if lab == "LOC" else 0)})
    if "Paris is big" in text:
        ents.append({"text": "Kyoto", "label": "LOC", "start": 0})  # not in the text
        ents.append({"text": "Paris", "label": "CITY", "start": 0})  # unknown type
    return 200, completion(json.dumps({"entities": ents})), {}


@pytest.fixture
def sents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"id": [f"s{i}" for i in range(len(SENTS))], "text": SENTS}).to_csv(
        "sents.csv", index=False
    )
    return tmp_path


def _label_token(url: str, out: str, *extra: str) -> list[str]:
    return [
        "label", "sents.csv", "--text-column", "text", "--id-column", "id", "--task", "token",
        "--entities", "PER,ORG,LOC,MISC", "--llm-base-url", url, "--llm-cache", "llm.sqlite",
        "--out", out, *extra,
    ]  # fmt: skip


def test_label_token_spans_repaired_and_aggregated(sents: Path) -> None:
    with FlakyServer(ner) as srv:
        r = invoke(_label_token(srv.url, "ner_a"))
        assert r.exit_code == 0, r.output
        r2 = invoke(_label_token(srv.url, "ner_b", "--llm-model", "other"))
        assert r2.exit_code == 0, r2.output
        calls = srv.calls
        again = invoke(_label_token(srv.url, "ner_a", "--overwrite"))  # all from the cache
        assert again.exit_code == 0 and srv.calls == calls
    assert "rejected spans: 1 unknown label, 1 not found" in r.output
    spans = pd.read_parquet("ner_a/spans.parquet")
    assert list(spans.columns) == ["item_id", "source", "start", "end", "label", "text"]
    text = dict(zip([f"s{i}" for i in range(len(SENTS))], SENTS, strict=True))
    for row in spans.itertuples():  # every kept span is exactly its text
        assert text[row.item_id][row.start : row.end] == row.text
    assert set(spans["text"]) == set(GAZ)  # "google" repaired to "Google"
    s = json.loads(Path("ner_a/summary.json").read_text())
    n_true = sum(t.count(w) for t in SENTS for w in GAZ)
    assert s["n_spans"] == n_true == len(spans)
    assert s["n_spans_exact"] == 3  # the PER spans
    assert s["n_spans_repaired"] == n_true - 3
    assert s["n_spans_rejected_unknown_label"] == 1 and s["n_spans_rejected_not_found"] == 1
    assert s["n_abstain"] == 1  # the item answered without JSON
    votes = pd.read_parquet("ner_a/votes.parquet")
    # items answered with no entity are in the votes without offsets (seen, nothing marked)
    assert set(votes.loc[votes["start"].isna(), "item_id"]) == {"s3", "s7"}
    assert "s2" not in set(votes["item_id"])
    html = Path("ner_a/report.html").read_text()
    assert "repaired" in html and "not found" in html

    # two LLM sources -> one consensus span table
    both = pd.concat([votes, pd.read_parquet("ner_b/votes.parquet")])
    assert both["source"].nunique() == 2
    both.to_parquet("votes2.parquet")
    r = invoke(
        [
            "aggregate", "votes2.parquet", "--label-type", "spans", "--data", "sents.csv",
            "--data-item-column", "id", "--text-column", "text", "--out", "agg",
        ]
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    agg = pd.read_parquet("agg/labels.parquet")
    assert sorted(
        zip(agg["item_id"], agg["start"], agg["end"], agg["label"], strict=True)
    ) == sorted(zip(spans["item_id"], spans["start"], spans["end"], spans["label"], strict=True))
    # the span table is what `audit --task token --spans` reads
    r = invoke(
        [
            "audit", "sents.csv", "--task", "token", "--spans", "ner_a/spans.parquet",
            "--text-column", "text", "--id-column", "id", "--folds", "2", "--out", "aud",
        ]
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    issues = pd.read_parquet("aud/issues.parquet")
    assert len(issues) == sum(len(t.split()) for t in SENTS)
    assert set(issues["given_label"]) == {"O", "B-PER", "I-PER", "B-ORG", "B-LOC"}


def tags(req: dict[str, Any], n: int) -> tuple[int, Any, dict[str, str]]:
    """Multi-label answers with a case slip, an unknown tag and one non-answer."""
    text = _text_of(req)
    answer = {
        "refund please, it is broken": '{"labels": ["Billing", "bug"]}',
        "urgent: the app crashes": '["urgent", "bug", "security"]',
        "hello there": "[]",
        "???": "I am not sure.",
    }[text]
    return 200, completion(answer), {}


def test_label_multi_llm_then_aggregate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    texts = ["refund please, it is broken", "urgent: the app crashes", "hello there", "???"]
    pd.DataFrame({"text": texts}).to_csv("t.csv", index=False)
    with FlakyServer(tags) as srv:
        r = invoke(
            [
                "label", "t.csv", "--text-column", "text", "--classes", "billing,bug,urgent",
                "--multi", "--llm-base-url", srv.url, "--llm-cache", "c.sqlite", "--out", "m",
            ]
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        sent = srv.requests[0]
    # the request asks for a JSON list constrained to the classes
    schema = sent["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["labels"]["items"]["enum"] == ["billing", "bug", "urgent"]
    lab = pd.read_parquet("m/labels.parquet").set_index("item_id")
    # "" = the model said no tag applies; missing = no usable answer
    assert lab["label"].tolist()[:3] == ["billing,bug", "bug,urgent", ""]
    assert pd.isna(lab["label"].iloc[3])
    assert lab["p_bug"].tolist()[:3] == [1.0, 1.0, 0.0] and pd.isna(lab["p_bug"].iloc[3])
    s = json.loads(Path("m/summary.json").read_text())
    assert (s["n_tags_repaired"], s["n_tags_rejected"], s["n_abstain"]) == (1, 1, 1)
    r = invoke(["aggregate", "m/votes.parquet", "--label-type", "multilabel", "--out", "agg"])
    assert r.exit_code == 0, r.output
    agg = pd.read_parquet("agg/labels.parquet").set_index("item_id")
    assert agg["label"].iloc[0] == "billing,bug"


def test_label_multi_zero_shot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    texts = ["a great football match", "the bank raised interest rates", "election results"] * 4
    pd.DataFrame({"text": texts}).to_csv("t.csv", index=False)
    r = invoke(
        [
            "label", "t.csv", "--text-column", "text", "--classes", "sports,business,politics",
            "--multi", "--label-sep", "|", "--featurizer", "tfidf", "--out", "z",
        ]
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "top class plus every class with p >= 0.500" in r.output  # 1.5 / 3 classes
    lab = pd.read_parquet("z/labels.parquet")
    P = lab[["p_sports", "p_business", "p_politics"]].to_numpy()
    for row, p in zip(lab["label"], P, strict=True):
        got = set(row.split("|"))
        want = {c for c, v in zip(["sports", "business", "politics"], p, strict=True) if v >= 0.5}
        top = ["sports", "business", "politics"][int(p.argmax())]
        assert got == want | {top}


@pytest.mark.parametrize(
    ("extra", "expect"),
    [
        (["--task", "token", "--entities", "PER"], r"--task token asks an LLM.*--llm-base-url"),
        (["--classes", "a,b", "--entities", "PER"], r"--entities lists entity types; add --task token"),
        (["--classes", "a,b", "--multi", "--task", "token"], r"--multi .* does not go with --task token"),
        (["--classes", "a,b", "--task", "regression"], r"label --task regression. is not available"),
        (["--classes", "a,b", "--task", "spans"], r"unknown --task 'spans'"),
        (["--classes", "a,b", "--multi", "--llm-base-url", "http://127.0.0.1:9/v1", "--llm-samples", "2"], r"--llm-samples 2: multilabel labels take one answer"),
        (["--classes", "a,b", "--multi", "--label-sep", "b"], r"class 'b' contains the tag separator"),
        (["--task", "token", "--llm-base-url", "http://127.0.0.1:9/v1"], r"needs the entity types"),
        (["--task", "token", "--entities", "PER", "--classes", "ORG", "--llm-base-url", "http://127.0.0.1:9/v1"], r"give the entity types once"),
    ],
)  # fmt: skip
def test_bad_options_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str], expect: str
) -> None:
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"text": ["x y", "z w"]}).to_csv("t.csv", index=False)
    refused(["label", "t.csv", "--text-column", "text", "--out", "o", *extra], expect, code=2)
    assert not Path("o").exists()
