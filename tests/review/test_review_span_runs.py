"""Review of the spans of an aggregate or label run (issue 17, part 5): crowd or LLM spans
-> ``review import`` (one item per text, the run's spans suggested, least certain first)
-> decisions through the API -> ``review export`` -> ``aggregate --label-type spans --gold``
clamps the reviewed items.

Real parts: PICO crowd spans (``../shared/datasets/crowd/pico-spans``), the ``truelabel``
CLI, SQLite, the FastAPI app through its TestClient, and for the label run the scripted
OpenAI-compatible server on 127.0.0.1 (``FlakyServer``: a real model cannot be made to
send wrong offsets or an unknown type on demand).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from _shared import pico_spans
from review_helpers import PASSWORD, token_for
from sources.llm_server import FlakyServer, completion
from truelabel._errors import InputError
from truelabel.cli import app
from truelabel.review import add_user, export_review, import_review
from truelabel.review._labels import spans_json
from truelabel.review._runs import load_run


def _cli(*args: str | Path) -> None:
    r = CliRunner().invoke(app, [str(a) for a in args])
    assert r.exit_code == 0, r.output


def _spans_by_item(table: Path) -> dict[str, list[list[Any]]]:
    """``{item_id: [[start, end, label], …]}`` of a span table (rows with offsets)."""
    df = pd.read_parquet(table).dropna(subset=["start"])
    out: dict[str, list[list[Any]]] = {}
    for k, a, b, t in zip(df["item_id"].astype(str), df["start"], df["end"], df["label"], strict=True):  # fmt: skip
        out.setdefault(k, []).append([int(a), int(b), str(t)])
    return {k: sorted(v) for k, v in out.items()}


@pytest.fixture
def client_on(tmp_path: Path) -> Iterator[Any]:
    """``open(db_url, project)`` -> (TestClient, auth headers of reviewer alice)."""
    from fastapi.testclient import TestClient

    from truelabel.review import ReviewSettings, create_app

    opened: list[Any] = []

    def open_(url: str, project: str) -> tuple[Any, dict[str, str]]:
        add_user("alice", PASSWORD, db=url, projects=[project])
        a = create_app(ReviewSettings(db_url=url, lease_seconds=600))
        c = TestClient(a, base_url="http://testserver").__enter__()
        opened.append((c, a))
        return c, token_for(c, "alice")

    yield open_
    for c, a in opened:
        c.__exit__(None, None, None)
        a.state.db.dispose()


def _next(c: Any, h: dict[str, str], project: str) -> dict[str, Any]:
    r = c.post(f"/api/projects/{project}/tasks/next", headers=h)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _review(c: Any, h: dict[str, str], project: str, task: dict[str, Any], body: Any) -> None:
    r = c.post(f"/api/projects/{project}/tasks/{task['task_id']}/reviews", json=body, headers=h)
    assert r.status_code == 201, r.text


def _pico_slice(dest: Path, n: int = 30) -> tuple[Path, Path]:
    """The crowd span votes and texts of the first ``n`` PICO acl17-test abstracts, as CSV."""
    votes, texts = pico_spans("acl17-test", n)
    votes.to_csv(dest / "votes.csv", index=False)
    texts.to_csv(dest / "texts.csv", index=False)
    return dest / "votes.csv", dest / "texts.csv"


@pytest.mark.shared
def test_pico_aggregate_review_export_regold(tmp_path: Path, client_on: Any) -> None:
    """30 PICO abstracts: crowd spans aggregated, the least certain abstracts reviewed
    first (one edited, one accepted, one emptied), the export's gold spans clamp a second
    aggregation of the same votes."""
    votes, texts = _pico_slice(tmp_path)
    _cli("aggregate", votes, "--label-type", "spans", "--data", texts, "--out", tmp_path / "agg")
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with pytest.raises(InputError, match=r"does not keep the item texts; pass --texts"):
        import_review(tmp_path / "agg", "pico", db=url)
    res = import_review(tmp_path / "agg", "pico", db=url, texts=texts)
    assert (res.n_items_new, res.n_tasks, res.n_sources) == (30, 30, 59)
    assert res.design["priority"].startswith("1 - the lowest token confidence")

    tok = pd.read_parquet(tmp_path / "agg" / "tokens.parquet")
    low = tok.groupby("item_id")["confidence"].min()
    suggested = _spans_by_item(tmp_path / "agg" / "labels.parquet")
    text_of = dict(pd.read_csv(texts, dtype={"item_id": str})[["item_id", "text"]].values)

    c, h = client_on(url, "pico")
    first = _next(c, h, "pico")
    keys = [first["item"]["item_id"]]
    it = first["item"]
    assert it["text"] == text_of[keys[0]] and it["given_label"] is None
    assert it["suggested_label"] == spans_json(map(tuple, suggested.get(keys[0], [])))
    assert it["reason"].startswith("least certain token")
    # 1: the reviewer drops the first suggested span and marks the title's first 3 tokens
    t0 = tok[tok["item_id"] == keys[0]].iloc[:3]
    title = [int(t0["char_start"].iloc[0]), int(t0["char_end"].iloc[-1]), "Participants"]
    edited = sorted([title, *suggested[keys[0]][1:]])
    assert len(edited) == 1 or title[1] <= edited[1][0]  # no overlap
    assert edited != suggested[keys[0]]
    _review(c, h, "pico", first, {"action": "other", "label": edited})
    second = _next(c, h, "pico")
    _review(c, h, "pico", second, {"action": "suggested"})  # 2: accepted as it is
    third = _next(c, h, "pico")
    _review(c, h, "pico", third, {"action": "other", "label": []})  # 3: no participants
    keys += [second["item"]["item_id"], third["item"]["item_id"]]
    assert suggested.get(keys[2])  # the crowd marked participants the reviewer removes
    # least certain first: the three abstracts with the lowest token confidence
    assert keys == low.sort_values(kind="stable").index[:3].tolist()

    out = tmp_path / "exp"
    export_review("pico", out, db=url)
    assert {"spans.parquet", "gold_spans.parquet", "texts.parquet", "labels.conll"} <= {
        f.name for f in out.iterdir()
    }
    lab = pd.read_parquet(out / "labels.parquet")
    assert (lab["decision_source"] == "review").sum() == 3
    assert (lab["decision_source"] == "suggested").sum() == 27
    exported = _spans_by_item(out / "spans.parquet")
    assert exported.get(keys[0]) == edited and keys[2] not in exported
    assert {k: v for k, v in exported.items() if k not in keys[:3:2]} == {
        k: v for k, v in suggested.items() if k not in keys[:3:2]
    }  # unreviewed items keep the aggregate's spans
    conll = (out / "labels.conll").read_text().split("\n\n")
    assert len(conll) == 30
    gold = pd.read_parquet(out / "gold_spans.parquet")
    assert set(gold["item_id"]) == set(keys) and (gold["sampling_prob"] == 1.0).all()

    # the gold goes back into span aggregation of the same crowd votes
    _cli(
        "aggregate", votes, "--label-type", "spans", "--data", out / "texts.parquet",
        "--gold", out / "gold_spans.parquet", "--out", tmp_path / "agg2",
    )  # fmt: skip
    again = _spans_by_item(tmp_path / "agg2" / "labels.parquet")
    assert again[keys[0]] == edited  # clamped to the reviewer's spans
    assert again.get(keys[1], []) == suggested.get(keys[1], [])  # the accepted suggestion
    assert keys[2] not in again  # the reviewer said: no participants
    summary = json.loads((tmp_path / "agg2" / "summary.json").read_text())
    assert any("3 gold items are clamped" in n for n in summary["notes"]), summary["notes"]


SENTS = {
    "s0": "Angela Merkel met Google in Berlin .",
    "s1": "Paris is big and Berlin too .",
    "s2": "this is garbage",
    "s3": "Nothing here .",
    "s4": "Angela Merkel flew to Paris .",
}
GAZ = {"Angela Merkel": "PER", "Google": "ORG", "Berlin": "LOC", "Paris": "LOC"}


def _ner(req: dict[str, Any], n: int) -> tuple[int, Any, dict[str, str]]:
    """Right entities; LOC offsets off by 3 (repaired), a made-up type in s1 (rejected),
    no JSON for s2."""
    m = re.search(r"Text: (.*)\n", req["messages"][-1]["content"])
    assert m is not None
    text = m.group(1)
    if "garbage" in text:
        return 200, completion("There are some entities, I think."), {}
    ents = [
        {"text": w, "label": lab, "start": text.find(w) + (3 if lab == "LOC" else 0)}
        for w, lab in GAZ.items()
        if w in text
    ]
    if "Paris is big" in text:
        ents.append({"text": "Paris", "label": "CITY", "start": 0})
    return 200, completion(json.dumps({"entities": ents})), {}


def test_llm_label_run_review_export_regold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client_on: Any
) -> None:
    """A real `label --task token` run (scripted LLM server): items without a usable
    answer come first with no suggestion, then answers with repaired or rejected spans;
    reviewed spans clamp `aggregate --label-type spans` of the LLM's own votes."""
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"id": list(SENTS), "text": list(SENTS.values())}).to_csv("s.csv", index=False)
    with FlakyServer(_ner) as srv:
        _cli(
            "label", "s.csv", "--text-column", "text", "--id-column", "id", "--task", "token",
            "--entities", "PER,ORG,LOC,MISC", "--llm-base-url", srv.url, "--llm-cache",
            "llm.sqlite", "--out", "ner",
        )  # fmt: skip
    texts = pd.DataFrame({"item_id": list(SENTS), "text": list(SENTS.values())})
    texts.to_csv("texts.csv", index=False)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with pytest.raises(InputError, match=r"span label run does not keep .* --id-column"):
        import_review("ner", "ner", db=url)
    texts.assign(text=texts["text"].str.lower()).to_csv("lower.csv", index=False)
    with pytest.raises(InputError, match=r"item 's0' reads 'angela merkel' at \[0, 13\)"):
        import_review("ner", "ner", db=url, texts="lower.csv")
    res = import_review("ner", "ner", db=url, texts="texts.csv")
    assert (res.n_items_new, res.n_tasks) == (5, 5)
    assert res.design["priority"].startswith("share of the LLM's spans repaired or rejected")

    c, h = client_on(url, "ner")
    decisions: dict[str, dict[str, Any]] = {
        "s1": {"action": "suggested"},
        "s2": {"action": "other", "label": []},
        "s4": {"action": "other", "label": [[0, 13, "PER"], [22, 27, "MISC"]]},
        "s0": {"action": "suggested"},
        "s3": {"action": "suggested"},
    }
    seen = []
    for _ in range(5):
        seen.append(_next(c, h, "ner"))
        _review(c, h, "ner", seen[-1], decisions[seen[-1]["item"]["item_id"]])
    order = [t["item"]["item_id"] for t in seen]
    # s1 (3 of 3 spans off: 2 repaired, 1 rejected) and s2 (no usable answer) first, in run
    # order; then s4 (1 of 2 repaired), s0 (1 of 3), s3 (a clean answer: no entity)
    run = load_run("ner", texts="texts.csv")
    pr = dict(zip(run.items["item_key"], run.priority, strict=True))
    assert pr == pytest.approx({"s0": 1 / 3, "s1": 1.0, "s2": 1.0, "s3": 0.0, "s4": 0.5})
    assert order == ["s1", "s2", "s4", "s0", "s3"]
    by = {t["item"]["item_id"]: t["item"] for t in seen}
    assert by["s2"]["suggested_label"] is None and by["s2"]["given_label"] is None
    assert by["s2"]["reason"] == "no spans from the LLM: the answer held no list of spans"
    assert by["s1"]["reason"] == "2 repaired, 1 rejected of the 3 spans the LLM gave"
    assert by["s3"]["suggested_label"] == "[]"
    assert by["s0"]["suggested_label"] == '[[0,13,"PER"],[18,24,"ORG"],[28,34,"LOC"]]'

    export_review("ner", tmp_path / "exp", db=url)
    _cli(
        "aggregate", "ner/votes.parquet", "--label-type", "spans", "--data",
        "exp/texts.parquet", "--gold", "exp/gold_spans.parquet", "--out", "agg",
    )  # fmt: skip
    got = _spans_by_item(tmp_path / "agg" / "labels.parquet")
    assert got["s4"] == [[0, 13, "PER"], [22, 27, "MISC"]]  # clamped: Paris is MISC here
    assert got["s1"] == [[0, 5, "LOC"], [17, 23, "LOC"]]
    assert "s2" not in got and got["s0"] == [[0, 13, "PER"], [18, 24, "ORG"], [28, 34, "LOC"]]
    assert np.isclose(pd.read_parquet("exp/gold_spans.parquet")["sampling_prob"], 1.0).all()
