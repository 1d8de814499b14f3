"""The same storage and API on a real PostgreSQL server (started by the fixture)."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from review_helpers import PASSWORD, make_aggregate_run, make_audit_run, token_for
from truelabel import InputError
from truelabel.review import (
    Database,
    ReviewSettings,
    add_user,
    create_app,
    crud,
    export_review,
    import_review,
)
from truelabel.review.errors import ConflictError
from truelabel.review.models import Review

pytestmark = pytest.mark.full


def test_postgres_import_review_export(pg_url: str, tmp_path: Path) -> None:
    run = make_audit_run(tmp_path / "a", n=40)
    res = import_review(run, "pg", db=pg_url, overlap=2)
    assert res.n_tasks == 40
    assert import_review(run, "pg", db=pg_url).already_imported
    import_review(make_aggregate_run(tmp_path / "agg", n=40), "pg", db=pg_url)
    with pytest.raises(InputError, match="only in the run"):
        import_review(make_audit_run(tmp_path / "b", classes=["x", "y"]), "pg", db=pg_url)
    add_user("admin", PASSWORD, role="admin", db=pg_url)
    add_user("alice", PASSWORD, db=pg_url, projects=["pg"])
    add_user("bob", PASSWORD, db=pg_url, projects=["pg"])
    app = create_app(ReviewSettings(db_url=pg_url))
    with TestClient(app) as c:
        assert c.get("/api/projects").status_code == 401
        ha, hb = token_for(c, "alice"), token_for(c, "bob")
        for lab_a, lab_b in (("pos", "pos"), ("neg", "pos"), ("neu", "neu")):
            t = c.post("/api/projects/pg/tasks/next", headers=ha).json()
            tb = c.post("/api/projects/pg/tasks/next", headers=hb).json()
            assert t["task_id"] == tb["task_id"]  # overlap 2
            for h, lab in ((ha, lab_a), (hb, lab_b)):
                r = c.post(
                    f"/api/projects/pg/tasks/{t['task_id']}/reviews",
                    headers=h,
                    json={
                        "action": "other",
                        "label": lab,
                        "idempotency_key": f"{lab}-{t['task_id']}",
                    },
                )
                assert r.status_code == 201
                again = c.post(
                    f"/api/projects/pg/tasks/{t['task_id']}/reviews",
                    headers=h,
                    json={
                        "action": "other",
                        "label": lab,
                        "idempotency_key": f"{lab}-{t['task_id']}",
                    },
                )
                assert again.status_code == 200
        stats = c.get("/api/projects/pg/stats", headers=ha).json()
        assert stats["agreement"]["n_items_multi"] == 3 and stats["progress"]["done"] == 3
        item = c.get("/api/projects/pg/items/it0", headers=ha).json()
        assert [v["source"] for v in item["votes"]] == ["w0", "w1", "w2"]
        assert (
            c.get("/api/projects/pg/items", params={"q": "' OR 1=1 --"}, headers=ha).json()["total"]
            == 0
        )
    app.state.db.dispose()
    export_review("pg", tmp_path / "exp", db=pg_url)
    gold = pd.read_parquet(tmp_path / "exp" / "gold.parquet")
    assert len(gold) == 6 and (gold["sampling_prob"] == 1).all()


def test_postgres_concurrent_leases_skip_locked(pg_url: str, tmp_path: Path) -> None:
    import_review(make_audit_run(tmp_path / "a", n=80), "pg", db=pg_url)
    db = Database(pg_url)
    users = [db.run(crud.create_user, f"u{i}", PASSWORD, "reviewer") for i in range(12)]
    for u in users:
        db.run(crud.add_member, "pg", u.name)
    got: list[int] = []
    errors: list[BaseException] = []

    def work(u: crud.User) -> None:
        try:
            for _ in range(5):
                lease = db.run(crud.lease_next, "pg", u)
                assert lease is not None
                review, created = db.run(crud.submit_review, "pg", lease[0].id, u, action="given")
                assert created
                got.append(review.task_id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(got) == 60 and len(set(got)) == 60  # no task leased to two reviewers
    with db.reader() as s:
        assert len(s.scalars(crud.select(Review)).all()) == 60
    late = db.run(crud.create_user, "late", PASSWORD, "reviewer")
    db.run(crud.add_member, "pg", "late")
    with pytest.raises(ConflictError, match="already has all its reviews"):
        db.run(crud.submit_review, "pg", got[0], late, action="given")
    db.dispose()


def test_postgres_one_reviewer_many_clients_no_errors(pg_url: str, tmp_path: Path) -> None:
    """Issue 14: one reviewer with 10 clients got HTTP 500s (StaleDataError on leases) when a
    lease renewal raced a submit. Reviewer r0 with 10 clients and r1, r2 with 3 each through a
    real server, each client also changing a decision and undoing one now and then: every
    answer is 200/201/204, every acknowledged decision is stored, each reviewer has one current
    decision per item, no item gets two reviewers' decisions, counts stay consistent."""
    import collections
    import uuid

    import httpx

    from review_helpers import Server, run_threads

    import_review(make_audit_run(tmp_path / "a", n=300), "race", db=pg_url)
    db = Database(pg_url)
    names = ["r0", "r1", "r2"]
    for n in names:
        db.run(crud.create_user, n, PASSWORD, "reviewer")
        db.run(crud.add_member, "race", n)
    server = Server(pg_url).start()
    codes: collections.Counter[tuple[str, int]] = collections.Counter()
    errors: list[str] = []
    acked: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def client(name: str) -> None:
        try:
            work(name)
        except httpx.HTTPError as exc:  # a dropped connection is an error too
            errors.append(f"{name}: {exc!r}")

    def work(name: str) -> None:
        with httpx.Client(base_url=server.url, timeout=120) as c:
            tok = c.post("/api/login/token", data={"username": name, "password": PASSWORD})
            h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
            for i in range(12):
                r = c.post("/api/projects/race/tasks/next", headers=h)
                with lock:
                    codes["next", r.status_code] += 1
                if r.status_code != 200:
                    if r.status_code != 204:
                        errors.append(f"next {r.status_code} {r.text[:200]}")
                    continue
                task, key = r.json()["task_id"], uuid.uuid4().hex
                s = c.post(
                    f"/api/projects/race/tasks/{task}/reviews",
                    headers=h,
                    json={"action": "other", "label": "pos", "idempotency_key": key},
                )
                with lock:
                    codes["submit", s.status_code] += 1
                if s.status_code in (200, 201):
                    acked.append((name, task, s.json()["id"]))
                else:
                    errors.append(f"submit {s.status_code} {s.text[:200]}")
                if i % 5 == 2:  # a change of mind: supersedes (201)
                    s = c.post(
                        f"/api/projects/race/tasks/{task}/reviews",
                        headers=h,
                        json={"action": "other", "label": "neg", "idempotency_key": key + "x"},
                    )
                    with lock:
                        codes["change", s.status_code] += 1
                    if s.status_code not in (200, 201):
                        errors.append(f"change {s.status_code} {s.text[:200]}")
                if i % 4 == 3:  # undo the last decision: the item is leased again
                    u = c.post("/api/projects/race/tasks/undo", headers=h)
                    with lock:
                        codes["undo", u.status_code] += 1
                    # 409 "nothing left to undo": this reviewer's other clients undid it all
                    if u.status_code != 200 and "left to undo" not in u.text:
                        errors.append(f"undo {u.status_code} {u.text[:200]}")

    clients = {"r0": 10, "r1": 3, "r2": 3}
    try:
        run_threads([(client, (n,)) for n in names for _ in range(clients[n])])
    finally:
        server.stop()
    log = server.proc.stderr.read().decode()  # type: ignore[attr-defined]
    assert errors == [], (codes, errors[:5], log[-2000:])
    assert "Traceback" not in log, log[-2000:]
    assert codes["undo", 200] > 0 and codes["change", 201] > 0
    with db.reader() as s:
        stored = s.execute(crud.select(Review.id, Review.task_id, Review.user_id)).all()
        current = s.execute(
            crud.select(Review.id, Review.task_id, Review.user_id).where(
                crud.CURRENT, Review.action != "skip"
            )
        ).all()
        tasks = s.scalars(crud.select(crud.Task)).all()
    assert {i for _, _, i in acked} <= {r[0] for r in stored}  # nothing acknowledged was lost
    per = collections.Counter((t, u) for _, t, u in current)
    assert max(per.values()) == 1  # one current decision per reviewer and item
    n_by_task = collections.Counter(t for _, t, _ in current)
    assert all(t.n_done == n_by_task.get(t.id, 0) for t in tasks)
    assert all(n <= 1 for n in n_by_task.values())  # overlap 1: never two reviewers on one item
    db.dispose()
