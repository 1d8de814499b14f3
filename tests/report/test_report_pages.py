"""Every stage's report page: one look, strict CSP, and the notebook surface of each result.

Fast checks on small inputs; ``test_report_browser.py`` opens one run of every command in
Chromium.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import truelabel
from truelabel.report import REPORT_ASSETS


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_strict_page(page: str) -> None:
    """The report runs under its own CSP: no inline script, style or handler anywhere."""
    p = _Tags()
    p.feed(page)
    metas = [
        a for t, a in p.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert metas and "script-src 'self'" in str(metas[0]["content"])
    assert "style-src 'self'" in str(metas[0]["content"])
    for tag, attrs in p.tags:
        assert tag != "style", "inline <style>"
        if tag == "script":
            assert attrs.get("src") == "report.js", attrs
        assert "style" not in attrs, (tag, attrs)
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
    assert ('href="report.css"') in page
    assert p.tags.count(("svg", {})) == 0  # every chart is an <svg class="chart" ...>


def _votes(n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, n)
    rows = []
    for w, acc in enumerate([0.9, 0.8, 0.7, 0.35]):
        lab = np.where(rng.random(n) < acc, truth, rng.integers(0, 3, n))
        rows += [
            {"item_id": i, "source": f"w{w}", "label": ["<b>a</b>", "b", "c"][x]}
            for i, x in enumerate(lab)
        ]
    return pd.DataFrame(rows)


PAGES = ["audit", "aggregate", "numeric", "estimate", "plan", "token", "multilabel", "regression"]


def _results(tmp_path: Path) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    agg = truelabel.aggregate(_votes())
    ratings = pd.DataFrame(
        [
            {"item_id": i, "source": f"r{w}", "label": float(t + rng.normal(0, w + 0.5))}
            for i, t in enumerate(rng.uniform(0, 10, 40))
            for w in range(3)
        ]
    )
    num = truelabel.aggregate(ratings, label_type="numeric")
    y = np.repeat([0, 1], 40)
    X = np.eye(2, 4)[y] * 3 + rng.normal(0, 1, (80, 4))
    y[:3] = 1 - y[:3]
    aud = truelabel.audit(
        pd.DataFrame({"text": [f"item {i}" for i in range(80)], "v": list(X), "label": y}),
        text="text",
        label="label",
        vectors="v",
    )
    table = agg.labels.copy()
    truth = table["label"].where(rng.random(len(table)) < 0.9, "b")
    table["gold"] = np.where(np.arange(len(table)) < 50, truth, None)
    est = truelabel.estimate.estimate(table, gold_column="gold")
    plan = truelabel.estimate.plan(table, gold_column="gold", target_width=0.1)
    return {
        "audit": aud,
        "aggregate": agg,
        "numeric": num,
        "estimate": est,
        "plan": plan,
        **_task_results(tmp_path, rng, X, y),
    }


def _task_results(
    tmp_path: Path, rng: np.random.Generator, X: np.ndarray, y: np.ndarray
) -> dict[str, Any]:
    """The token, multi-label and regression audits on tiny inputs (given probabilities or
    vectors, so no tagger or text model is trained)."""
    from truelabel.audit import audit_task
    from truelabel.io import parse_conll

    text = "EU B-ORG\nrejects O\nGerman B-MISC\n\nPeter B-PER\nBlackburn I-PER\n"
    path = tmp_path / "tiny.conll"
    path.write_text(text)
    ds = parse_conll(text)
    assert ds.tags is not None
    probs = np.full((ds.n_tokens, len(ds.tag_names)), 0.01)
    probs[np.arange(ds.n_tokens), ds.tags] = 0.9
    probs[2] = 0.01
    probs[2, ds.tag_names.index("B-PER")] = 0.9  # the model says German is a person
    token = audit_task("token", path, pred_probs=probs / probs.sum(axis=1, keepdims=True))
    tags = np.where(y == 1, "<b>a</b>,b", "b")
    frame = pd.DataFrame({"text": [f"item {i}" for i in range(80)], "v": list(X), "tags": tags})
    multi = audit_task("multilabel", frame, label_column="tags", vectors_column="v")
    reg = audit_task(
        "regression",
        frame.assign(score=X[:, 0] * 2 + rng.normal(0, 0.3, 80)),
        label_column="score",
        vectors_column="v",
    )
    return {"token": token, "multilabel": multi, "regression": reg}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _results(tmp_path_factory.mktemp("results"))


@pytest.mark.parametrize("name", PAGES)
def test_every_result_renders_one_strict_page(name: str, results: dict[str, Any]) -> None:
    page = results[name].report()
    assert_strict_page(page)
    assert '<header class="top"><span class="brand">truelabel</span>' in page  # one look
    assert "<b>a</b>" not in page  # labels are escaped


@pytest.mark.parametrize("name", PAGES)
def test_notebook_repr_is_compact_and_report_can_be_saved(
    name: str, results: dict[str, Any], tmp_path: Path
) -> None:
    res = results[name]
    html = res._repr_html_()
    assert html.startswith("<div class='truelabel-repr'>") and len(html) < 20_000
    assert html.count("<tr>") <= 25  # a few facts and the top rows, not the whole table
    text = repr(res)
    assert "\n" not in text and len(text) < 300, text
    page = res.report(tmp_path / "nb")
    assert (tmp_path / "nb" / "report.html").read_text(encoding="utf-8") == page
    for asset in REPORT_ASSETS:
        assert (tmp_path / "nb" / asset).is_file()
    res.report(tmp_path / "one.html")
    assert (tmp_path / "one.html").is_file() and (tmp_path / "report.js").is_file()


def test_report_opens_a_browser_when_asked(
    results: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    page = results["aggregate"].report(open_browser=True)
    assert len(opened) == 1 and opened[0].startswith("file://")
    assert Path(opened[0].removeprefix("file://")).read_text(encoding="utf-8") == page


def test_saved_runs_carry_the_report_files(results: dict[str, Any], tmp_path: Path) -> None:
    for name in ("audit", "aggregate", "numeric", "token", "multilabel", "regression"):
        out = results[name].save(tmp_path / name)
        for f in ("report.html", *REPORT_ASSETS):
            assert (Path(out) / f).is_file(), (name, f)
        assert_strict_page((Path(out) / "report.html").read_text(encoding="utf-8"))


def test_the_many_class_noise_matrix_is_shown_as_pairs_with_counts() -> None:
    """77 classes: the audit lists the largest confusions, not a 77 x 77 heatmap."""
    from truelabel.cli.demo import demo_data_path

    df = pd.read_csv(demo_data_path())
    classes = sorted(df["label"].unique())
    rng = np.random.default_rng(0)
    codes = pd.Index(classes).get_indexer(df["label"])
    probs = rng.dirichlet(np.ones(len(classes)) * 0.3, len(df)).astype(np.float32)
    other = (codes + 1 + rng.integers(0, 3, len(df))) % len(classes)
    top = np.where(rng.random(len(df)) < 0.15, other, codes)  # 15% look mislabelled
    probs[np.arange(len(df)), top] += 2.0
    probs /= probs.sum(axis=1, keepdims=True)
    res = truelabel.audit(
        df, text="text", label="label", id="id", pred_probs=probs, featurizer="tfidf"
    )
    page = res.report()
    assert re.search(r"the 15 largest off-diagonal cells of 77 x 77", page), "no pair chart"
    assert "items)</text>" in page  # each pair says how many items it stands for
    assert (
        "model&#39;s cross-validated accuracy" in page or "model's cross-validated accuracy" in page
    )
