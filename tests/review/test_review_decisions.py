"""Changing and undoing decisions, bulk decisions, the item page, the decision buttons,
admin pages, and model probabilities imported from an audit's pred_probs.npy (issue 16)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_review_security import csrf_of, login, start_review

from review_helpers import PASSWORD, make_audit_run, token_for
from truelabel.io import RunDir
from truelabel.review import Database, crud, export_review, import_review, load_run
from truelabel.review.errors import ConflictError
from truelabel.review.models import Lease, Task
from truelabel.review.schemas import ItemPublic
from truelabel.review.web import decision_choices


@pytest.fixture
def db(seeded_url: str) -> Any:
    d = Database(seeded_url)
    yield d
    d.dispose()


def user(db: Database, name: str) -> crud.User:
    with db.reader() as s:
        return crud.user_by_name(s, name)


# --------------------------------------------------------------------------- change


def test_change_keeps_counts_and_exports_latest(db: Database, seeded_url: str, tmp_path: Path):
    a, b = user(db, "alice"), user(db, "bob")
    db.run(crud.set_overlap, "demo", 2)
    t = db.run(crud.lease_next, "demo", a)[0]
    db.run(crud.lease_next, "demo", b)
    db.run(crud.submit_review, "demo", t.id, a, action="other", label="pos")
    db.run(crud.submit_review, "demo", t.id, b, action="other", label="neg")
    with db.reader() as s:
        before = crud.project_stats(s, "demo")
    assert before["agreement"]["pairs"][0]["cohen_kappa"] is not None
    # alice changes pos -> neg: still one decision of hers, now agreeing with bob
    db.run(crud.submit_review, "demo", t.id, a, action="other", label="neg")
    # and skip -> label on an item she skipped re-checks capacity (overlap 2: room left)
    t2 = db.run(crud.lease_next, "demo", a)[0]
    db.run(crud.submit_review, "demo", t2.id, a, action="skip")
    db.run(crud.submit_review, "demo", t2.id, a, action="other", label="neu")
    with db.reader() as s:
        task, task2 = s.get(Task, t.id), s.get(Task, t2.id)
        stats = crud.project_stats(s, "demo")
    assert (task.n_done, task.status) == (2, "done")
    assert (task2.n_done, task2.status) == (1, "open")
    assert stats["decisions"]["changed"] == 2 and stats["decisions"]["undone"] == 0
    assert "latest decision" in stats["decisions"]["description"]
    alice = next(r for r in stats["reviewers"] if r["reviewer"] == "alice")
    assert alice["n_decisions"] == 2 and alice["n_skips"] == 0
    assert stats["progress"]["reviews"] == 3 and stats["progress"]["skips"] == 0
    # a label turned into a skip frees the slot again
    db.run(crud.submit_review, "demo", t.id, a, action="skip")
    with db.reader() as s:
        assert (s.get(Task, t.id).n_done, s.get(Task, t.id).status) == (1, "open")
    db.run(crud.submit_review, "demo", t.id, a, action="other", label="neg")
    res = export_review("demo", tmp_path / "exp", db=seeded_url)
    gold = pd.read_parquet(tmp_path / "exp" / "gold.parquet")
    it0 = gold[gold["item_id"] == "it0"].sort_values("source")
    assert list(it0["label"]) == ["neg", "neg"]  # alice's latest, bob's
    labels = pd.read_parquet(tmp_path / "exp" / "labels.parquet").set_index("item_id")
    assert labels.loc["it0", "decision_source"] == "review"  # unanimous after the change
    summary = json.loads((tmp_path / "exp" / "summary.json").read_text())
    assert summary["decisions"]["changed"] == 4 and res.n_gold == 3


def test_skip_then_label_refused_when_others_filled_the_item(db: Database) -> None:
    a, b = user(db, "alice"), user(db, "bob")
    t = db.run(crud.lease_next, "demo", a)[0]
    db.run(crud.submit_review, "demo", t.id, a, action="skip")
    assert db.run(crud.lease_next, "demo", b)[0].id == t.id
    db.run(crud.submit_review, "demo", t.id, b, action="given")
    with pytest.raises(ConflictError, match="already has all its reviews"):
        db.run(crud.submit_review, "demo", t.id, a, action="other", label="pos")


# --------------------------------------------------------------------------- undo


def test_undo_retracts_and_leases_the_item_again(db: Database) -> None:
    a = user(db, "alice")
    t0 = db.run(crud.lease_next, "demo", a)[0]
    r0, _ = db.run(crud.submit_review, "demo", t0.id, a, action="suggested")
    t1 = db.run(crud.lease_next, "demo", a)[0]
    r1, _ = db.run(crud.submit_review, "demo", t1.id, a, action="other", label="pos")
    t2 = db.run(crud.lease_next, "demo", a)[0]  # the next item, held
    undone, task, item = db.run(crud.undo_last, "demo", a)
    assert undone.id == r1.id and task.id == t1.id and item.item_key == "it1"
    with db.reader() as s:
        held = crud.held_task(s, "demo", a)
        leases = s.scalars(crud.select(Lease).where(Lease.user_id == a.id)).all()
        assert held is not None and held[0].id == t1.id  # shown again
        assert sorted(lz.task_id for lz in leases) == sorted([t1.id, t2.id])  # it2 kept
        assert (s.get(Task, t1.id).n_done, s.get(Task, t1.id).status) == (0, "open")
        assert crud.current_decision(s, t1.id, a) is None
    # undo again: the decision before
    assert db.run(crud.undo_last, "demo", a)[0].id == r0.id
    with pytest.raises(ConflictError, match="no decision .* left to undo"):
        db.run(crud.undo_last, "demo", a)
    with db.reader() as s:
        stats = crud.project_stats(s, "demo")
        assert stats["decisions"]["undone"] == 2 and stats["progress"]["reviews"] == 0
    # it0 (undone last) is shown; once decided, the item held before comes back
    assert db.run(crud.lease_next, "demo", a)[0].id == t0.id
    db.run(crud.submit_review, "demo", t0.id, a, action="given")
    assert db.run(crud.lease_next, "demo", a)[0].id == t1.id
    db.run(crud.submit_review, "demo", t1.id, a, action="given")
    assert db.run(crud.lease_next, "demo", a)[0].id == t2.id


def test_undo_and_change_over_the_api(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    h = token_for(c, "alice")
    assert c.post("/api/projects/demo/tasks/undo", headers=h).status_code == 409
    t = c.post("/api/projects/demo/tasks/next", headers=h).json()
    c.post(f"/api/projects/demo/tasks/{t['task_id']}/reviews", json={"action": "given"}, headers=h)
    r = c.post("/api/projects/demo/tasks/undo", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["undone"]["item_id"] == "it0" and body["undone"]["current"] is False
    assert body["task"]["item"]["item_id"] == "it0"
    log = c.get("/api/projects/demo/reviews", headers=h).json()
    assert [(x["action"], x["current"], x["superseded_by"]) for x in log] == [
        ("given", False, None)
    ]


# --------------------------------------------------------------------------- bulk


def test_decide_many_counts_each_outcome(db: Database) -> None:
    a, b = user(db, "alice"), user(db, "bob")
    db.run(
        crud.push_items,
        "demo",
        [{"item_id": "nosugg", "text": "no model here", "given_label": "neg"}],
    )
    t = db.run(crud.lease_next, "demo", b)[0]  # it0, decided by bob: full (overlap 1)
    db.run(crud.submit_review, "demo", t.id, b, action="given")
    t1 = db.run(crud.lease_next, "demo", a)[0]  # it1: alice already accepted the suggestion
    db.run(crud.submit_review, "demo", t1.id, a, action="suggested")
    keys = ["it0", "it1", "it2", "it3", "nosugg", "ghost"]
    res = db.run(crud.decide_many, "demo", a, keys, key="bulk-1")
    assert (res.saved, res.unchanged) == (2, 1)
    assert res.refused == {
        "already has all its reviews": ["it0"],
        "no suggested label": ["nosugg"],
        "not in the review queue": ["ghost"],
    }
    again = db.run(crud.decide_many, "demo", a, keys, key="bulk-1")  # a replay
    assert (again.saved, again.unchanged) == (0, 3)
    with db.reader() as s:
        assert crud.count_decisions(s, crud.get_project(s, "demo"), a) == 3
    with pytest.raises(crud.InputError, match="between 1 and"):
        db.run(crud.decide_many, "demo", a, [])


def test_bulk_with_confirmation_page(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    login(c, "carol")
    page = c.get("/projects/demo", params={"issue": "label_issue"}).text
    assert 'id="result-count">10 items match' in page
    assert '<a class="open-item" href="/projects/demo/items/it0">it0</a>' in page
    form = {"csrf": csrf_of(page), "key": re.search(r'name="key" value="(\w+)"', page).group(1)}
    sel = {**form, "item": ["it0", "it3"], "scope": "selected", "action": "suggested"}
    confirm = c.post("/projects/demo/bulk", data=sel)
    assert confirm.status_code == 200 and 'id="bulk-n">2<' in confirm.text
    assert c.get("/api/projects/demo/reviews", headers=token_for(c, "carol")).json() == []
    done = c.post("/projects/demo/bulk", data={**sel, "confirm": "1"})
    assert 'id="bulk-saved">2<' in done.text and 'id="bulk-refused">0<' in done.text
    # all 10 matching label issues; the two already decided are "already so"
    allq = {**form, "scope": "all", "issue": "label_issue", "action": "suggested", "key": "k2"}
    confirm = c.post("/projects/demo/bulk", data=allq)
    assert 'id="bulk-n">10<' in confirm.text
    done = c.post("/projects/demo/bulk", data={**allq, "confirm": "1"})
    assert 'id="bulk-saved">8<' in done.text
    log = c.get("/api/projects/demo/reviews", headers=token_for(c, "carol")).json()
    assert len(log) == 10 and {x["action"] for x in log} == {"suggested"}
    assert c.post("/projects/demo/bulk", data={**form, "scope": "selected"}).status_code == 422
    assert c.post("/projects/demo/bulk", data={**sel, "csrf": "forged"}).status_code == 403


# --------------------------------------------------------------------------- pages


def test_item_page_from_search_decide_and_change(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    login(c, "bob")
    page = c.get("/projects/demo/items/it4").text
    assert 'id="item-id">it4<' in page and 'id="my-decision"' not in page
    task = re.search(r"/tasks/(\d+)/review", page).group(1)
    key = re.search(r'name="key" value="(\w+)"', page).group(1)
    data = {"csrf": csrf_of(page), "key": key, "return_item": "1"}
    saved = c.post(f"/projects/demo/tasks/{task}/review", data={**data, "choice": "label:pos"})
    assert saved.url.path == "/projects/demo/items/it4"
    assert 'Saved <code id="flash-item">it4</code>' in saved.text and ">pos</strong>" in saved.text
    assert 'id="my-decision"><strong>pos</strong>' in saved.text
    key2 = re.search(r'name="key" value="(\w+)"', saved.text).group(1)
    changed = c.post(
        f"/projects/demo/tasks/{task}/review", data={**data, "key": key2, "choice": "given"}
    )
    assert 'changed from <span id="flash-was">pos</span>' in changed.text
    assert "(changed or undone)" in changed.text  # the item's decision list keeps both
    assert c.get("/projects/demo/items/nope").status_code == 404


def test_undo_from_the_review_page(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    login(c, "alice")
    page = start_review(c).text
    task = re.search(r"/tasks/(\d+)/review", page).group(1)
    key = re.search(r'name="key" value="(\w+)"', page).group(1)
    nxt = c.post(
        f"/projects/demo/tasks/{task}/review",
        data={"csrf": csrf_of(page), "key": key, "choice": "label:pos"},
    ).text
    assert 'id="item-id">it1<' in nxt and "<kbd>u</kbd> undoes it" in nxt
    back = c.post("/projects/demo/review/undo", data={"csrf": csrf_of(nxt)}).text
    assert 'id="item-id">it0<' in back and "Undid your decision on" in back
    assert 'id="flash-was">pos<' in back
    again = c.post("/projects/demo/review/undo", data={"csrf": csrf_of(back)}).text
    assert "Nothing to undo" in again


def test_decision_choices() -> None:
    classes = [f"c{i}" for i in range(77)]
    item = ItemPublic(
        item_id="x",
        text="",
        given_label="c3",
        suggested_label="c40",
        suggested_prob=0.5,
        label_quality=None,
        is_label_issue=True,
        is_outlier=False,
        duplicate_group=None,
        probs={"c40": 0.5, "c7": 0.2, "c9": 0.1, "c3": 0.05, "c1": 0.04, "c2": 0.03},
    )
    got = decision_choices(item, classes)
    assert [c["label"] for c in got] == ["c40", "c7", "c9", "c3", "c1"]
    assert [c["key"] for c in got] == ["1", "2", "3", "4", "5"]
    assert [c["choice"] for c in got] == ["suggested", "label:c7", "label:c9", "given", "label:c1"]
    assert got[0]["prob"] == 0.5 and got[3]["tags"] == ["given"]
    # no model probabilities: the suggestion and the given label only
    bare = item.model_copy(update={"probs": {}})
    assert [c["label"] for c in decision_choices(bare, classes)] == ["c40", "c3"]
    # few classes: every class gets a key, most probable first
    few = item.model_copy(
        update={"probs": {"b": 0.7, "a": 0.3}, "suggested_label": "b", "given_label": "c"}
    )
    assert [c["label"] for c in decision_choices(few, ["a", "b", "c"])] == ["b", "a", "c"]


def test_projects_page_lists_many_classes_compactly(app_env: dict[str, Any], tmp_path: Path):
    classes = [f"class_{i:02d}" for i in range(77)]
    import_review(
        make_audit_run(tmp_path / "big", n=80, classes=classes), "big", db=app_env["db_url"]
    )
    c = app_env["client"]
    login(c, "admin")
    page = c.get("/").text
    assert "<summary>77 classes: class_00, class_01, class_02, …</summary>" in page
    assert "neg, neu, pos" in page  # three classes: shown as they are
    review = c.post("/projects/big/review/next", data={"csrf": csrf_of(page)}).text
    # 5 hotkey choices first; the 77 classes behind the filter, without keys
    assert review.count('class="choice') == 5 and review.count('class="cls"') == 77
    assert review.count('data-key="') <= 9  # 1-5, g (given not among the five), a, k, u


# --------------------------------------------------------------------------- admin pages


def test_admin_pages(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    login(c, "alice")
    assert c.get("/admin/users").status_code == 403
    assert c.get("/admin/projects/demo/members").status_code == 403
    c.cookies.clear()
    login(c, "admin")
    page = c.get("/admin/users").text
    assert 'id="user-alice"' in page
    f = {"csrf": csrf_of(page)}
    r = c.post(
        "/admin/users",
        data={**f, "name": "erin", "password": PASSWORD, "role": "reviewer", "project": "demo"},
    )
    assert "<strong>erin</strong>: created user" in r.text
    assert re.search(r'id="user-erin".*?<td class="classes">demo</td>', r.text, re.S)
    tok = token_for(c, "erin")
    r = c.post("/admin/users/erin/revoke", data=f)
    assert "logged out everywhere" in r.text
    assert c.get("/api/users/me", headers=tok).status_code == 401
    r = c.post("/admin/users/erin/password", data={**f, "password": "brand new pass"})
    assert "password reset" in r.text and token_for(c, "erin", "brand new pass")
    r = c.post("/admin/users/erin/active", data={**f, "active": "0"})
    assert re.search(r'id="user-erin" class="inactive"', r.text)
    r = c.post("/admin/users/erin/password", data={**f, "password": "short"})
    assert r.status_code == 422 and "at least 8" in r.text
    assert c.post("/admin/users/erin/active", data={"active": "1"}).status_code == 403  # no CSRF
    members = c.get("/admin/projects/demo/members").text
    assert 'id="member-erin"' in members
    r = c.post("/admin/projects/demo/members/erin/remove", data=f)
    assert 'id="member-erin"' not in r.text and "removed from this project" in r.text
    r = c.post("/admin/projects/demo/members", data={**f, "name": "erin"})
    assert 'id="member-erin"' in r.text


# --------------------------------------------------------------------------- probabilities


def test_audit_pred_probs_reach_the_items(tmp_path: Path) -> None:
    """issues.parquet is sorted by label quality; its row column maps items to pred_probs.npy."""
    classes = [f"k{i}" for i in range(12)]
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(12), size=20).astype(np.float32)
    order = rng.permutation(20)  # the issues table's (sorted) order
    issues = pd.DataFrame(
        {
            "item_id": [f"i{r}" for r in order],
            "given_label": [classes[r % 12] for r in order],
            "suggested_label": [classes[int(probs[r].argmax())] for r in order],
            "label_quality": np.linspace(0, 1, 20),
            "row": order,
        }
    )
    with RunDir(tmp_path / "a", kind="audit") as run:
        run.write_parquet("issues.parquet", issues)
        run.write_json("summary.json", {"classes": classes})
        run.write_npy("pred_probs.npy", probs)
    got = load_run(tmp_path / "a").items.set_index("item_key")["probs"]
    for r in range(20):
        p = got[f"i{r}"]
        top = np.argsort(-probs[r])[:10]
        assert list(p) == [classes[j] for j in top]  # the 10 most likely, best first
        np.testing.assert_allclose([p[classes[j]] for j in top], probs[r, top], atol=1e-6)
    # an older audit without the row column: no probabilities, and a warning says why
    with RunDir(tmp_path / "old", kind="audit") as run:
        run.write_parquet("issues.parquet", issues.drop(columns="row"))
        run.write_json("summary.json", {"classes": classes})
        run.write_npy("pred_probs.npy", probs)
    assert load_run(tmp_path / "old").items["probs"].map(len).eq(0).all()
    with RunDir(tmp_path / "bad", kind="audit") as run:
        run.write_parquet("issues.parquet", issues.assign(row=issues["row"] + 5))
        run.write_json("summary.json", {"classes": classes})
        run.write_npy("pred_probs.npy", probs)
    with pytest.raises(crud.InputError, match="column 'row' must hold rows of pred_probs.npy"):
        load_run(tmp_path / "bad")
