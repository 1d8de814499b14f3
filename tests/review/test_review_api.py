"""The JSON API through FastAPI's TestClient on a real SQLite file."""

from __future__ import annotations

from typing import Any

from review_helpers import PASSWORD, token_for


def test_healthz_and_unauthenticated(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    assert c.get("/healthz").status_code == 200
    r = c.get("/api/projects")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert c.get("/api/projects", headers={"Authorization": "Bearer tl_forged"}).status_code == 401
    assert c.get("/openapi.json").status_code == 401


def test_token_flow_projects_items(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    h = token_for(c, "alice")
    assert c.get("/api/users/me", headers=h).json()["name"] == "alice"
    projects = c.get("/api/projects", headers=h).json()
    assert [p["name"] for p in projects] == ["demo"] and projects[0]["progress"]["tasks"] == 30
    schema = c.get("/openapi.json", headers=h).json()
    assert "/api/projects/{project}/tasks/{task_id}/reviews" in schema["paths"]
    page = c.get(
        "/api/projects/demo/items", params={"label": "neu", "issue": "label_issue"}, headers=h
    ).json()
    assert page["total"] == 10  # label issues are i % 3 == 0 (given neg, suggested neu): 10 of 30
    assert (
        c.get("/api/projects/demo/items", params={"issue": "outlier"}, headers=h).json()["total"]
        == 1
    )
    assert (
        c.get("/api/projects/demo/items", params={"issue": "duplicate"}, headers=h).json()["total"]
        == 2
    )
    found = c.get("/api/projects/demo/items", params={"q": "item 12"}, headers=h).json()
    assert [i["item_id"] for i in found["items"]] == ["it12"]
    one = c.get("/api/projects/demo/items/it5", headers=h).json()
    assert one["is_outlier"] and one["neighbors"][0]["item_id"] == "it6"
    assert c.get("/api/projects/demo/items/nope", headers=h).status_code == 404
    assert c.get("/api/projects/nope", headers=h).status_code == 404
    r = c.get("/api/projects/demo/items", params={"label": "bogus"}, headers=h)
    assert r.status_code == 422 and "not one of" in r.json()["detail"]


def test_review_cycle_and_conflicts(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    ha, hb = token_for(c, "alice"), token_for(c, "bob")
    t = c.post("/api/projects/demo/tasks/next", headers=ha).json()
    assert t["item"]["item_id"] == "it0" and t["sampling_prob"] == 1.0
    url = f"/api/projects/demo/tasks/{t['task_id']}/reviews"
    body = {"action": "other", "label": "pos", "note": "clearly positive", "idempotency_key": "k-1"}
    r1 = c.post(url, json=body, headers=ha)
    assert r1.status_code == 201 and r1.json()["created"] and r1.json()["label"] == "pos"
    r2 = c.post(url, json=body, headers=ha)
    assert r2.status_code == 200 and r2.json()["id"] == r1.json()["id"] and not r2.json()["created"]
    # alice changes her mind: a new decision supersedes the old one, both stay in the log
    r3 = c.post(url, json={**body, "label": "neg", "idempotency_key": "k-2"}, headers=ha)
    assert r3.status_code == 201 and r3.json()["label"] == "neg"
    assert r3.json()["supersedes"] == {"id": r1.json()["id"], "action": "other", "label": "pos"}
    r4 = c.post(url, json={"action": "given", "idempotency_key": "b-1"}, headers=hb)
    assert r4.status_code == 409 and "already has all its reviews" in r4.json()["detail"]
    tb = c.post("/api/projects/demo/tasks/next", headers=hb).json()
    assert tb["item"]["item_id"] == "it1"
    assert (
        c.delete(f"/api/projects/demo/tasks/{tb['task_id']}/lease", headers=hb).status_code == 204
    )
    reviews = c.get("/api/projects/demo/reviews", headers=hb).json()
    assert [
        (r["item_id"], r["reviewer"], r["label"], r["sampling_prob"], r["current"]) for r in reviews
    ] == [("it0", "alice", "pos", 1.0, False), ("it0", "alice", "neg", 1.0, True)]
    assert reviews[0]["superseded_by"] == reviews[1]["id"]
    bad = c.post(url, json={"action": "maybe"}, headers=hb)
    assert bad.status_code == 422
    gold = c.get("/api/projects/demo/export/gold", headers=hb).json()
    assert gold == [
        {
            "item_id": "it0",
            "source": "review:alice",
            "label": "neg",  # the export uses the latest decision
            "sampling_prob": 1.0,
            "reviewed_at": gold[0]["reviewed_at"],
        }
    ]
    labels = c.get("/api/projects/demo/export/labels", headers=hb).json()
    assert len(labels) == 30 and labels[0]["decision_source"] in ("review", "given")
    assert c.get("/api/projects/demo/export/secrets", headers=hb).status_code == 404


def test_admin_routes_and_overlap_agreement(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    hadm, ha, hb = token_for(c, "admin"), token_for(c, "alice"), token_for(c, "bob")
    assert c.patch("/api/projects/demo", json={"overlap": 2}, headers=ha).status_code == 403
    assert c.patch("/api/projects/demo", json={"overlap": 2}, headers=hadm).json()["overlap"] == 2
    r = c.post(
        "/api/users", json={"name": "dave", "password": PASSWORD, "role": "reviewer"}, headers=hadm
    )
    assert r.status_code == 201
    assert (
        c.post("/api/users", json={"name": "x", "password": PASSWORD}, headers=ha).status_code
        == 403
    )
    assert [u["name"] for u in c.get("/api/users", headers=hadm).json()] == [
        "admin",
        "alice",
        "bob",
        "carol",
        "dave",
    ]
    labels = {"alice": ["pos", "neg", "neu", "pos"], "bob": ["pos", "neg", "pos", "pos"]}
    for who, h in (("alice", ha), ("bob", hb)):
        for lab in labels[who]:
            t = c.post("/api/projects/demo/tasks/next", headers=h).json()
            r = c.post(
                f"/api/projects/demo/tasks/{t['task_id']}/reviews",
                json={"action": "other", "label": lab},
                headers=h,
            )
            assert r.status_code == 201
    stats = c.get("/api/projects/demo/stats", headers=ha).json()
    ag = stats["agreement"]
    assert ag["n_items_multi"] == 4 and ag["pairs"][0]["n_items"] == 4
    # 3 of 4 agree; kappa: p_o = .75, p_e = (2/4*3/4)+(1/4*1/4)+(1/4*0) = .4375 -> (.75-.4375)/.5625 = 5/9
    assert abs(ag["pairs"][0]["cohen_kappa"] - 5 / 9) < 1e-9
    # alpha: pooled n_pos=5, n_neg=2, n_neu=1 (n=8); D_o = 2/8; D_e = (64-25-4-1)/56 -> alpha = 10/17
    assert abs(ag["krippendorff_alpha"] - 10 / 17) < 1e-9
    assert stats["progress"]["done"] == 4
    per = {r["reviewer"]: r for r in stats["reviewers"]}
    assert per["alice"]["agree_others"] == 0.75 and per["bob"]["agree_others"] == 0.75
    # items it0..it3 have given labels neg, neu, pos, neg: alice matches 0 of 4 (pos,neg,neu,pos)
    assert per["alice"]["agree_given"] == 0.0 and per["alice"]["n_labels"] == 4


def test_create_project_and_push_items(app_env: dict[str, Any]) -> None:
    c = app_env["client"]
    hadm = token_for(c, "admin")
    r = c.post("/api/projects", json={"name": "pushed", "classes": ["a", "b"]}, headers=hadm)
    assert r.status_code == 201
    r = c.post(
        "/api/projects/pushed/items",
        json=[
            {"item_id": "x1", "text": "hello", "given_label": "a", "votes": {"w1": "b", "w2": "a"}},
            {"item_id": "x2", "text": "bye"},
        ],
        headers=hadm,
    )
    assert r.status_code == 201 and r.json() == {"created": 2}
    assert (
        c.post("/api/projects/pushed/items", json=[{"item_id": "x1"}], headers=hadm).status_code
        == 409
    )
    bad = c.post(
        "/api/projects/pushed/items", json=[{"item_id": "x3", "given_label": "zzz"}], headers=hadm
    )
    assert bad.status_code == 422
    t = c.post("/api/projects/pushed/tasks/next", headers=hadm).json()
    assert t["item"]["item_id"] == "x1"
    assert [(v["source"], v["label"]) for v in t["item"]["votes"]] == [("w1", "b"), ("w2", "a")]
    bad_vote = c.post(
        "/api/projects/pushed/items", json=[{"item_id": "x9", "votes": {"w1": "zz"}}], headers=hadm
    )
    assert bad_vote.status_code == 422
    c.post(
        f"/api/projects/pushed/tasks/{t['task_id']}/reviews", json={"action": "given"}, headers=hadm
    )
    t = c.post("/api/projects/pushed/tasks/next", headers=hadm).json()
    c.post(
        f"/api/projects/pushed/tasks/{t['task_id']}/reviews",
        json={"action": "ambiguous"},
        headers=hadm,
    )
    assert c.post("/api/projects/pushed/tasks/next", headers=hadm).status_code == 204


def test_locked_database_gives_clear_error_then_recovers(tmp_path: Any, audit_run: Any) -> None:
    """Another process holds the write lock: 503 + 'NOT saved' message; after release it is stored once."""
    import sqlite3

    from fastapi.testclient import TestClient

    from truelabel.review import ReviewSettings, add_user, create_app, import_review

    path = tmp_path / "locked.db"
    url = f"sqlite:///{path}"
    import_review(audit_run, "demo", db=url)
    add_user("alice", PASSWORD, db=url, projects=["demo"])
    app = create_app(ReviewSettings(db_url=url, db_retries=2, db_busy_timeout=0.2))
    with TestClient(app) as c:
        h = token_for(c, "alice")
        t = c.post("/api/projects/demo/tasks/next", headers=h).json()
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        body = {"action": "given", "idempotency_key": "during-lock"}
        r = c.post(f"/api/projects/demo/tasks/{t['task_id']}/reviews", json=body, headers=h)
        assert r.status_code == 503 and "Nothing was saved" in r.json()["detail"]
        assert r.headers["retry-after"] == "2"
        blocker.execute("ROLLBACK")
        blocker.close()
        r = c.post(f"/api/projects/demo/tasks/{t['task_id']}/reviews", json=body, headers=h)
        assert r.status_code == 201
        r = c.post(f"/api/projects/demo/tasks/{t['task_id']}/reviews", json=body, headers=h)
        assert r.status_code == 200
        assert len(c.get("/api/projects/demo/reviews", headers=h).json()) == 1
        # the same through the web form: a clear error page, nothing stored
        from test_review_security import csrf_of, login, start_review

        login(c, "alice")
        page = start_review(c).text
        task = page.split("/tasks/")[1].split("/review")[0]
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        r = c.post(
            f"/projects/demo/tasks/{task}/review",
            data={"choice": "given", "csrf": csrf_of(page), "key": "f1"},
        )
        blocker.execute("ROLLBACK")
        blocker.close()
        assert r.status_code == 503 and "was <strong>not</strong> saved" in r.text
        assert len(c.get("/api/projects/demo/reviews", headers=h).json()) == 1
    app.state.db.dispose()
