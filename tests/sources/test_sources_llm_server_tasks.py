"""`label --multi` and `label --task token` with a real LLM: llama.cpp serving SmolLM2-135M.

The 135M model's answers are poor (measured in BENCHMARKS.md); what is tested is the
protocol with a real server: the JSON schema for tag lists and spans is accepted and
honoured, every answer is read (or salvaged when cut off), every kept span is exactly its
text, the counts add up, and the outputs are written where the other commands read them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from llm_server import start_llama_server

from truelabel.sources import LLMLabeler
from truelabel.sources._llm import label_with_llm

pytestmark = pytest.mark.slow

SENTS = ["Angela Merkel visited Paris on Monday .", "Shares of Google rose in New York ."]


def test_real_server_spans_and_tags(tmp_path: Path) -> None:
    data = pd.DataFrame({"id": ["a", "b"], "text": SENTS})

    def llm(max_tokens: int) -> LLMLabeler:
        return LLMLabeler(
            url,
            "smollm2-135m",
            cache_path=tmp_path / "c.sqlite",
            max_tokens=max_tokens,
            concurrency=1,
            timeout=120.0,
            max_retries=1,
        )

    with start_llama_server() as url:
        res = label_with_llm(
            data,
            text_column="text",
            id_column="id",
            llm=llm(96),
            classes="PER,ORG,LOC,MISC",
            task="token",
            out=tmp_path / "ner",
        )
        multi = label_with_llm(
            data,
            text_column="text",
            id_column="id",
            llm=llm(48),
            classes="politics,business,travel",
            task="multilabel",
            out=tmp_path / "multi",
        )
    st = res.stats
    assert st["n_failed"] == 0 and st["n_calls"] == 2
    assert st["structured_output"] is True  # llama.cpp took the span schema
    # every proposed span is kept exactly, repaired, or rejected for a counted reason
    kept = st["n_spans_exact"] + st["n_spans_repaired"]
    assert kept == st["n_spans"] + st["n_spans_rejected_overlap"]
    assert st["n_spans_given"] == kept + st["n_spans_rejected"] - st["n_spans_rejected_overlap"]
    spans = pd.read_parquet(tmp_path / "ner" / "spans.parquet")
    text = dict(zip(data["id"], data["text"], strict=True))
    for r in spans.itertuples():
        assert text[r.item_id][r.start : r.end] == r.text
        assert r.label in {"PER", "ORG", "LOC", "MISC"}
    summary = json.loads((tmp_path / "ner" / "summary.json").read_text())
    assert summary["task"] == "token" and "n_spans_repaired" in summary

    assert multi.stats["structured_output"] is True and multi.stats["n_failed"] == 0
    lab = pd.read_parquet(tmp_path / "multi" / "labels.parquet")
    for v in lab["label"].dropna():
        assert set(filter(None, v.split(","))) <= {"politics", "business", "travel"}
    assert {"p_politics", "p_business", "p_travel"} <= set(lab.columns)
