"""Taxonomy induction: clusters -> classes.yaml with keywords and typical texts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from llm_server import FlakyServer, completion
from typer.testing import CliRunner

from truelabel import InputError
from truelabel.cli import app
from truelabel.sources import LLMLabeler, ctfidf_keywords, induce_taxonomy, load_classes

TOPICS = {
    "sport": ["goal", "match", "striker", "league", "referee", "coach"],
    "food": ["recipe", "oven", "garlic", "butter", "simmer", "flour"],
    "money": ["stocks", "bonds", "interest", "dividend", "investor", "inflation"],
}


def _texts(n_per: int = 20, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    texts, y = [], []
    for t, words in enumerate(TOPICS.values()):
        for _ in range(n_per):
            texts.append(" ".join(rng.choice(words, size=6)) + " today")
            y.append(t)
    return texts, np.array(y)


def _embed(texts: list[str]) -> np.ndarray:
    vocab = [w for ws in TOPICS.values() for w in ws]
    return np.array([[t.split().count(w) for w in vocab] for t in texts], dtype=np.float32)


def test_ctfidf_keywords_hand_checked() -> None:
    texts = ["apple apple pie", "apple tart", "car engine", "car wheel engine"]
    kw = ctfidf_keywords(texts, np.array([0, 0, 1, 1]), 2, top=2)
    assert kw[0][0] == "apple" and kw[1][:2] == ["car", "engine"]


def test_induce_taxonomy_finds_the_topics() -> None:
    texts, y = _texts()
    tax = induce_taxonomy(texts, k="auto", k_range=range(2, 6), X=_embed(texts))
    assert tax.k == 3 and len(tax.classes) == 3
    assert sum(tax.sizes) == len(texts) and tax.sizes == sorted(tax.sizes, reverse=True)
    # each induced class is exactly one topic
    for c in range(3):
        assert len(np.unique(y[tax.assignments == c])) == 1
    for spec in tax.classes:
        topic = next(t for t, ws in TOPICS.items() if spec.keywords[0] in ws)
        assert set(spec.keywords[:3]) <= set(TOPICS[topic])
        assert len(spec.examples) == 3 and spec.description.startswith("Texts about")
    assert set(tax.silhouette) == {2, 3, 4, 5}


def test_llm_names_and_merges_clusters(tmp_path: Path) -> None:
    texts, _ = _texts()

    def behave(req: dict[str, Any], n: int) -> Any:
        prompt = req["messages"][-1]["content"]
        if any(w in prompt for w in TOPICS["sport"][:3]):
            name = "Sports"
        else:
            name = "Everyday life"  # the same name for food and money: they are merged
        return 200, completion(json.dumps({"name": name, "description": f"About {name}."})), {}

    with FlakyServer(behave) as srv:
        llm = LLMLabeler(srv.url, "m", cache_path=tmp_path / "c.sqlite", backoff=0.0)
        tax = induce_taxonomy(texts, k=3, X=_embed(texts), llm=llm)
        assert srv.calls == 3
    names = sorted(c.name for c in tax.classes)
    assert names == ["Everyday life", "Sports"]
    assert tax.sizes == [40, 20] and tax.named_by == "llm:m"
    assert tax.classes[1].description == "About Sports."


def test_llm_down_keeps_keyword_names(tmp_path: Path) -> None:
    texts, _ = _texts()
    with FlakyServer(lambda req, n: (500, {"e": 1}, {})) as srv:
        llm = LLMLabeler(srv.url, "m", cache_path=tmp_path / "c.sqlite", backoff=0.0, max_retries=0)
        tax = induce_taxonomy(texts, k=3, X=_embed(texts), llm=llm)
    assert len(tax.classes) == 3 and tax.llm_stats is not None
    assert tax.llm_stats["n_failed"] == 3
    assert all("_" in c.name for c in tax.classes)  # keyword names


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="at least 4 texts"):
        induce_taxonomy(["a", "b"], k=2)
    texts, _ = _texts(5)
    with pytest.raises(InputError, match="--k must be 'auto' or an int"):
        induce_taxonomy(texts, k=1, X=_embed(texts))


def test_cli_taxonomy_writes_yaml_that_label_reads(tmp_path: Path) -> None:
    texts, _ = _texts()
    data = tmp_path / "d.csv"
    pd.DataFrame({"text": texts}).to_csv(data, index=False)
    out = tmp_path / "classes.yaml"
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "taxonomy",
            str(data),
            "--text-column",
            "text",
            "--k",
            "3",
            "--featurizer",
            "tfidf",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    specs = load_classes(out)
    assert len(specs) == 3
    r = runner.invoke(
        app,
        [
            "label",
            str(data),
            "--text-column",
            "text",
            "--classes-file",
            str(out),
            "--featurizer",
            "tfidf",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app, ["taxonomy", str(data), "--text-column", "text", "--k", "many", "--out", str(out)]
    )
    assert r.exit_code == 2 and "--k must be 'auto' or an integer" in r.output
