"""Review of multi-label, numeric and span labels: import, decisions (API and web form),
refusals of bad labels (422, one line), exports in the task's own format."""

from __future__ import annotations

import html as html_lib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_review_security import csrf_of, login, start_review

from review_helpers import PASSWORD, TAGS, make_task_run, token_for
from truelabel._errors import InputError
from truelabel.review import add_user, export_review, import_review
from truelabel.review._labels import canonical_label, spans_to_iob


@pytest.fixture
def task_env(tmp_path: Path) -> Any:
    """``make(task)`` → a TestClient on a fresh database with a project of that task."""
    from fastapi.testclient import TestClient

    from truelabel.review import ReviewSettings, create_app

    clients: list[Any] = []

    def make(task: str, n: int = 6) -> dict[str, Any]:
        url = f"sqlite:///{tmp_path / f'{task}.db'}"
        import_review(make_task_run(tmp_path / task, task, n=n), task, db=url)
        add_user("alice", PASSWORD, db=url, projects=[task])
        app = create_app(ReviewSettings(db_url=url, lease_seconds=600))
        client = TestClient(app, base_url="http://testserver").__enter__()
        clients.append((client, app))
        return {"client": client, "url": url, "h": token_for(client, "alice")}

    yield make
    for client, app in clients:
        client.__exit__(None, None, None)
        app.state.db.dispose()


def _decide(env: dict[str, Any], project: str, body: dict[str, Any]) -> Any:
    c, h = env["client"], env["h"]
    t = c.post(f"/api/projects/{project}/tasks/next", headers=h).json()
    return t, c.post(f"/api/projects/{project}/tasks/{t['task_id']}/reviews", json=body, headers=h)


def _one_line_422(r: Any, *words: str) -> None:
    assert r.status_code == 422, r.text
    msg = r.json()["detail"]
    assert isinstance(msg, str) and "\n" not in msg and all(w in msg for w in words), msg


def test_multilabel_decisions_and_export(task_env: Any, tmp_path: Path) -> None:
    env = task_env("multilabel")
    c, h = env["client"], env["h"]
    p = c.get("/api/projects/multilabel", headers=h).json()
    assert p["task"] == "multilabel" and p["classes"] == TAGS and p["label_sep"] == ","
    # tags as a list, in any order, repeated: stored in the project's tag order
    t, r = _decide(env, "multilabel", {"action": "other", "label": ["sadness", "anger", "anger"]})
    assert r.status_code == 201 and r.json()["label"] == "anger,sadness"
    assert t["item"]["given_label"] == "anger" and t["item"]["suggested_label"] == "anger,joy"
    _, r = _decide(env, "multilabel", {"action": "other", "label": "joy, fear"})
    _one_line_422(r, "'fear'", "not one of the project's tags")
    _, r = _decide(env, "multilabel", {"action": "other", "label": "joy,surprise"})
    assert r.json()["label"] == "joy,surprise"
    _, r = _decide(env, "multilabel", {"action": "other", "label": []})  # no tag applies
    assert r.status_code == 201 and r.json()["label"] == ""
    _, r = _decide(env, "multilabel", {"action": "suggested"})
    assert r.json()["label"] == "anger,surprise"
    out = tmp_path / "exp"
    export_review("multilabel", out, db=env["url"])
    lab = pd.read_parquet(out / "labels.parquet").set_index("item_id")
    assert lab.loc["it0", "label"] == "anger,sadness" and lab.loc["it0", "changed"]
    assert lab.loc["it2", "label"] == "" and lab.loc["it5", "label"] == "joy"  # given kept
    gold = pd.read_parquet(out / "gold.parquet")
    assert gold["label"].tolist() == ["anger,sadness", "joy,surprise", "", "anger,surprise"]
    assert json.loads((out / "summary.json").read_text())["task"] == "multilabel"


def test_regression_decisions_and_export(task_env: Any, tmp_path: Path) -> None:
    env = task_env("regression")
    t, r = _decide(env, "regression", {"action": "other", "label": "abc"})
    _one_line_422(r, "'abc' is not a number", "0.75")
    assert t["item"]["suggested_label"] == "0.5" and t["item"]["given_label"] == "0"
    for bad in ("nan", "inf", "", "1,5"):
        _, r = _decide(env, "regression", {"action": "other", "label": bad})
        _one_line_422(r, "is not a number")
    _, r = _decide(env, "regression", {"action": "other", "label": 0.25})
    assert r.status_code == 201 and r.json()["label"] == "0.25"
    _, r = _decide(env, "regression", {"action": "other", "label": " 7.50 "})
    assert r.json()["label"] == "7.5"
    _, r = _decide(env, "regression", {"action": "suggested"})
    _, r = _decide(env, "regression", {"action": "given"})
    out = tmp_path / "exp"
    export_review("regression", out, db=env["url"])
    lab = pd.read_parquet(out / "labels.parquet")
    assert lab["label"].dtype == "float64" and lab["given_label"].dtype == "float64"
    assert lab["label"].tolist() == [0.25, 7.5, 2.5, 3.0, 4.0, 5.0]
    gold = pd.read_parquet(out / "gold.parquet")
    assert gold["label"].tolist() == [0.25, 7.5, 2.5, 3.0]


def test_token_decisions_and_export(task_env: Any, tmp_path: Path) -> None:
    env = task_env("token", n=4)
    t, r = _decide(env, "token", {"action": "other", "label": [[0, 7, "PER"], [16, 21, "LOC"]]})
    assert t["item"]["text"] == "Ann Lee visited Paris ."
    assert t["item"]["given_label"] == '[[0,7,"PER"],[16,21,"ORG"]]'
    assert t["item"]["suggested_label"] == '[[0,7,"PER"],[16,21,"LOC"]]'
    assert r.status_code == 201 and r.json()["label"] == '[[0,7,"PER"],[16,21,"LOC"]]'
    _, r = _decide(env, "token", {"action": "other", "label": [[16, 99, "LOC"]]})
    _one_line_422(r, "[16, 99, 'LOC']", "<= 23")
    _, r = _decide(env, "token", {"action": "other", "label": [[0, 7, "PER"], [4, 10, "ORG"]]})
    _one_line_422(r, "overlap")
    _, r = _decide(env, "token", {"action": "other", "label": [[0, 3, "DATE"]]})
    _one_line_422(r, "'DATE'", "types")
    _, r = _decide(env, "token", {"action": "other", "label": "[[0, 3]]"})
    _one_line_422(r, "[start, end")
    # a JSON text works too; sentence 2 gets Lee alone and Paris as ORG
    _, r = _decide(env, "token", {"action": "other", "label": '[[16,21,"ORG"],[4,7,"PER"]]'})
    assert r.json()["label"] == '[[4,7,"PER"],[16,21,"ORG"]]'
    _, r = _decide(env, "token", {"action": "other", "label": []})  # sentence 2: no entity
    assert r.status_code == 201 and r.json()["label"] == "[]"
    out = tmp_path / "exp"
    export_review("token", out, db=env["url"])
    spans = pd.read_parquet(out / "spans.parquet")
    assert list(spans.columns) == ["item_id", "start", "end", "label"]
    assert spans.values.tolist()[:4] == [
        ["0", 0, 7, "PER"],
        ["0", 16, 21, "LOC"],
        ["1", 4, 7, "PER"],
        ["1", 16, 21, "ORG"],
    ]
    assert len(spans) == 6  # the unreviewed sentence 3 keeps its two given spans
    conll = (out / "labels.conll").read_text().split("\n\n")
    assert conll[0].splitlines() == ["Ann B-PER", "Lee I-PER", "visited O", "Paris B-LOC", ". O"]
    assert conll[1].splitlines()[:2] == ["Ann O", "Lee B-PER"]
    gs = pd.read_parquet(out / "gold_spans.parquet")
    assert set(gs.columns) == {"item_id", "start", "end", "label", "source", "sampling_prob"}
    assert gs["start"].isna().tolist() == [False] * 4 + [True]  # sentence 2: seen, no span

    # the gold goes back into span aggregation: two sources mark Ann Lee PER, Paris LOC
    from truelabel.aggregate._spans import aggregate_spans

    votes = pd.DataFrame(
        [(str(i), s, a, b, t) for i in range(4) for s in "ab" for a, b, t in
         ((0, 7, "PER"), (16, 21, "LOC"))],
        columns=["item_id", "source", "start", "end", "label"],
    )  # fmt: skip
    res = aggregate_spans(votes, out / "texts.parquet", gold=out / "gold_spans.parquet")
    got = res.labels.groupby("item_id")[["start", "end", "label"]].apply(
        lambda d: d.values.tolist()
    )
    assert got["1"] == [[4, 7, "PER"], [16, 21, "ORG"]]  # clamped to the reviewer's spans
    assert "2" not in got.index  # the reviewer said: no entity
    assert got["3"] == [[0, 7, "PER"], [16, 21, "LOC"]]  # no gold: the crowd
    assert any("clamped" in n for n in res.summary["notes"])


def test_web_forms_for_each_task(task_env: Any) -> None:
    """The item page's editors post tags, a number and spans; a non-number gets one line."""
    for task, field, good, want in (
        ("multilabel", "tag", ["joy", "anger"], "anger,joy"),
        ("regression", "value", "1.5", "1.5"),
        ("token", "spans", '[[0,3,"PER"]]', '[[0,3,"PER"]]'),
    ):
        env = task_env(task, n=3)
        c = env["client"]
        assert login(c, "alice").status_code == 303
        assert c.get(f"/projects/{task}", params={"q": "1"}).status_code == 200  # the search
        html = start_review(c, task).text
        assert {"multilabel": 'id="tag-editor"', "regression": 'id="value-input"'}.get(
            task, 'id="span-editor"'
        ) in html
        token = csrf_of(html)
        tid = html.split('data-task="')[1].split('"')[0]
        url = f"/projects/{task}/tasks/{tid}/review"
        if task == "regression":
            assert 'value="0.5"' in html  # pre-filled with the suggestion
            bad = c.post(url, data={"csrf": token, "choice": "value", "value": "ten"})
            assert bad.status_code == 422 and "'ten' is not a number" in html_lib.unescape(bad.text)
        if task == "multilabel":
            # given and suggested tags first (most probable first), ticked as suggested
            assert 'value="joy" id="tag-0" data-key="1" checked' in html
            assert 'value="anger" id="tag-1" data-key="2" checked' in html
            assert 'value="sadness" id="tag-2" data-key="3">' in html
        r = c.post(url, data={"csrf": token, "choice": field.replace("tag", "tags"), field: good})
        assert r.status_code in (200, 303), r.text
        me = c.get(f"/api/projects/{task}/reviews", headers=env["h"]).json()
        assert [x["label"] for x in me] == [want]


def test_labels_are_checked_once_in_one_place() -> None:
    assert canonical_label("multilabel", ["b", "a"], ["a", "b", "c"]) == "a,b"
    assert canonical_label("multilabel", "c|a", ["a", "b", "c"], sep="|") == "a|c"
    assert canonical_label("regression", "1e3", []) == "1000"
    with pytest.raises(InputError, match="adjacent"):
        canonical_label("token", [[0, 2, "X"], [1, 3, "X"]], ["X"], text="abcd")
    with pytest.raises(InputError, match="integer offsets"):
        canonical_label("token", [[0.5, 2, "X"]], ["X"], text="abcd")
    assert spans_to_iob("New York is big", [(0, 8, "LOC"), (12, 15, "X")]) == [
        ("New", "B-LOC"),
        ("York", "I-LOC"),
        ("is", "O"),
        ("big", "B-X"),
    ]


def test_import_task_mismatch_and_old_projects(tmp_path: Path, audit_run: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    import_review(audit_run, "demo", db=url)
    with pytest.raises(InputError, match="cannot go into project 'demo'"):
        import_review(make_task_run(tmp_path / "ml", "multilabel"), "demo", db=url)
    with pytest.raises(InputError, match="does not match the run's task"):
        import_review(make_task_run(tmp_path / "rg", "regression"), "x", db=url, task="token")


def test_exports_feed_aggregate_and_estimate(task_env: Any, tmp_path: Path) -> None:
    """Gold flows back: a multi-label export clamps ``aggregate_multilabel``; a numeric
    export (text item ids) joins the numeric ids of a predictions table in ``estimate``."""
    from truelabel.aggregate._multilabel import aggregate_multilabel
    from truelabel.estimate import estimate

    env = task_env("multilabel", n=4)
    for want in (["surprise"], ["anger", "joy"]):
        _decide(env, "multilabel", {"action": "other", "label": want})
    export_review("multilabel", tmp_path / "ml", db=env["url"])
    votes = pd.DataFrame(
        {
            "item_id": [f"it{i}" for i in range(4) for _ in range(3)],
            "source": ["a", "b", "c"] * 4,
            "label": ["anger", "anger", "joy", "joy", "joy", "sadness"]
            + ["anger", "joy", "joy", "surprise", "surprise", "anger"],
        }
    )
    plain = aggregate_multilabel(votes)
    clamped = aggregate_multilabel(votes, gold=tmp_path / "ml" / "gold.parquet")
    got = dict(zip(clamped.labels["item_id"], clamped.labels["label"], strict=True))
    assert plain.labels["label"].iloc[0] == "anger"
    assert (got["it0"], got["it1"]) == ("surprise", "anger,joy")
    assert clamped.summary["n_gold_items"] == 2
    bad = pd.DataFrame({"item_id": ["it0"], "label": ["fear"]})
    with pytest.raises(InputError, match="options no vote knows"):
        aggregate_multilabel(votes, gold=bad)

    env = task_env("regression", n=4)
    for y in (1.0, 2.0):
        _decide(env, "regression", {"action": "other", "label": y})
    export_review("regression", tmp_path / "rg", db=env["url"])
    preds = pd.DataFrame({"item_id": np.arange(4), "label": [0.5, 1.5, 2.5, 3.5]})
    res = estimate(preds, gold=tmp_path / "rg" / "gold.parquet")
    assert (res.n_gold, res.n_total) == (2, 4)  # the text ids "0", "1" matched 0, 1


def test_span_table_audit_keeps_item_ids_and_offsets(tmp_path: Path) -> None:
    """A token audit of a span table (issues.parquet with item_id, char_start, char_end):
    review items keep the ids, and the spans the offsets of the original text."""
    from truelabel.io import RunDir
    from truelabel.review._runs import load_run

    text = "Ann  Lee visited\nParis."  # two spaces, a newline, no space before "."
    words = ["Ann", "Lee", "visited", "Paris", "."]
    starts = [0, 5, 9, 17, 22]
    issues = pd.DataFrame(
        {
            "sentence_id": 0,
            "token_index": range(5),
            "token": words,
            "given_label": ["B-PER", "I-PER", "O", "B-LOC", "O"],
            "suggested_label": ["B-PER", "O", "O", "B-LOC", "O"],
            "label_quality": [0.9, 0.1, 0.9, 0.9, 0.9],
            "is_label_issue": [False, True, False, False, False],
            "item_id": "doc-7",
            "char_start": starts,
            "char_end": [s + len(w) for s, w in zip(starts, words, strict=True)],
        }
    )
    with RunDir(tmp_path / "run", kind="audit", meta={"task": "token"}) as run:
        run.write_parquet("issues.parquet", issues)
        run.write_json("summary.json", {"task": "token", "entity_types": ["LOC", "PER"]})
    item = load_run(tmp_path / "run").items.iloc[0]
    assert item["item_key"] == "doc-7" and item["text"] == text.replace("\n", " ")
    assert item["given_label"] == '[[0,8,"PER"],[17,22,"LOC"]]'
    assert text[0:8] == "Ann  Lee" and text[17:22] == "Paris"
    assert item["suggested_label"] == '[[0,3,"PER"],[17,22,"LOC"]]'


def test_multilabel_counts_and_filter_per_tag(task_env: Any) -> None:
    """An item with several tags counts (and is found) under each of them; whole-string
    matching would give anger 2, joy 2, sadness 1, surprise 1 open."""
    env = task_env("multilabel")
    c, h = env["client"], env["h"]
    # item i: given TAGS[i % 4], suggested that tag plus TAGS[(i + 1) % 4]
    want = {"anger": {0, 3, 4}, "joy": {0, 1, 4, 5}, "sadness": {1, 2, 5}, "surprise": {2, 3}}
    for tag, items in want.items():
        r = c.get("/api/projects/multilabel/items", params={"label": tag}, headers=h).json()
        assert r["total"] == len(items)
        assert {int(i["item_id"][2:]) for i in r["items"]} == items
    assert login(c, "alice").status_code == 303
    html = c.get("/projects/multilabel").text
    for tag, items in want.items():
        assert f'<option value="{tag}">{tag} ({len(items)} open)</option>' in html
    # the queue's class filter leases only items carrying the tag
    t = c.post("/api/projects/multilabel/tasks/next", params={"label": "surprise"}, headers=h)
    assert int(t.json()["item"]["item_id"][2:]) in want["surprise"]
    # a decided task leaves the open counts; a tag list is not a class filter
    c.post(
        f"/api/projects/multilabel/tasks/{t.json()['task_id']}/reviews",
        json={"action": "suggested"},
        headers=h,
    )
    html = c.get("/projects/multilabel").text
    assert '<option value="surprise">surprise (1 open)</option>' in html
    r = c.get("/api/projects/multilabel/items", params={"label": "joy,anger"}, headers=h)
    assert r.status_code == 422


def test_classification_counts_unchanged(tmp_path: Path, audit_run: Path) -> None:
    from truelabel.review.crud import get_project, open_counts
    from truelabel.review.db import Database

    url = f"sqlite:///{tmp_path / 'c.db'}"
    import_review(audit_run, "demo", db=url)
    items = pd.read_parquet(audit_run / "issues.parquet")
    db = Database(url)
    with db.reader() as s:
        got = open_counts(s, get_project(s, "demo"))
    db.dispose()
    given, sugg = items["given_label"].astype(str), items["suggested_label"].astype(str)
    assert got == {c: int(((given == c) | (sugg == c)).sum()) for c in got}
    assert sum(got.values()) >= len(items)
