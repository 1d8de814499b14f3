"""A real uvicorn server on 127.0.0.1: concurrent reviewers, and kill -9 in the middle of a burst.

Both start server processes and take minutes on a shared 2-core machine, so they run in
``make test-full``; ``test_review_storage.py`` has an in-process thread version for ``make test``.
"""

from __future__ import annotations

import collections
import sqlite3
import threading
import uuid
from pathlib import Path

import httpx
import pytest

from review_helpers import PASSWORD, Server, make_audit_run, run_threads
from truelabel.review import Database, crud, import_review


def _setup(db_url: str, tmp_path: Path, n_items: int, n_users: int) -> list[str]:
    import_review(make_audit_run(tmp_path / "run", n=n_items), "load", db=db_url)
    db = Database(db_url)
    names = [f"r{i:02d}" for i in range(n_users)]
    for n in names:
        db.run(crud.create_user, n, PASSWORD, "reviewer")
        db.run(crud.add_member, "load", n)
    db.dispose()
    return names


def _reviewer(
    url: str,
    name: str,
    n_decisions: int,
    acked: list[tuple[str, int, str]],
    errors: list[str],
    stop: threading.Event | None = None,
) -> None:
    """Lease + submit ``n_decisions`` times; retries a submission with the same key on errors."""
    with httpx.Client(base_url=url, timeout=60) as c:
        tok = c.post("/api/login/token", data={"username": name, "password": PASSWORD}).json()[
            "access_token"
        ]
        h = {"Authorization": f"Bearer {tok}"}
        for _ in range(n_decisions):
            if stop is not None and stop.is_set():
                return
            try:
                r = c.post("/api/projects/load/tasks/next", headers=h)
            except httpx.HTTPError:
                if stop is not None:
                    return
                raise
            if r.status_code == 204:
                return
            if r.status_code != 200:
                errors.append(f"next {r.status_code} {r.text[:200]}")
                continue
            task = r.json()["task_id"]
            key = uuid.uuid4().hex
            for _attempt in range(5):
                try:
                    s = c.post(
                        f"/api/projects/load/tasks/{task}/reviews",
                        headers=h,
                        json={"action": "other", "label": "pos", "idempotency_key": key},
                    )
                except httpx.HTTPError:
                    if stop is not None:
                        return  # server is gone: this decision was never acknowledged
                    continue
                if s.status_code in (200, 201):
                    acked.append((name, task, key))
                    break
                if s.status_code != 503:
                    errors.append(f"submit {s.status_code} {s.text[:200]}")
                    break


def _stored(db_path: Path) -> list[tuple[str, int, str]]:
    con = sqlite3.connect(db_path)
    rows = con.execute(
        "SELECT users.name, reviews.task_id, reviews.idempotency_key FROM reviews "
        "JOIN users ON users.id = reviews.user_id"
    ).fetchall()
    con.close()
    return [(str(a), int(b), str(c)) for a, b, c in rows]


def _check_consistent(db_path: Path) -> None:
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    bad = con.execute(
        "SELECT tasks.id FROM tasks LEFT JOIN (SELECT task_id, COUNT(*) AS n FROM reviews "
        "WHERE action != 'skip' GROUP BY task_id) r ON r.task_id = tasks.id "
        "WHERE tasks.n_done != COALESCE(r.n, 0) OR (tasks.status = 'done') != (tasks.n_done >= tasks.needed)"
    ).fetchall()
    con.close()
    assert bad == []


@pytest.mark.full
def test_twenty_reviewers_fifty_decisions_each(tmp_path: Path) -> None:
    """20 clients x 50 decisions through the real server: every acknowledged decision stored once."""
    _run_concurrency(tmp_path, n_users=20, n_each=50)


def _run_concurrency(tmp_path: Path, *, n_users: int, n_each: int) -> None:
    db_path = tmp_path / "load.db"
    db_url = f"sqlite:///{db_path}"
    names = _setup(db_url, tmp_path, n_items=n_users * n_each + 10, n_users=n_users)
    server = Server(db_url).start()
    acked: list[tuple[str, int, str]] = []
    errors: list[str] = []
    try:
        run_threads([(_reviewer, (server.url, n, n_each, acked, errors)) for n in names])
    finally:
        server.stop()
    assert errors == []
    assert len(acked) == n_users * n_each
    stored = _stored(db_path)
    assert sorted(stored) == sorted(acked)  # each acknowledged decision exactly once, nothing else
    per_task = collections.Counter(t for _, t, _ in stored)
    assert max(per_task.values()) == 1  # overlap 1: no item reviewed twice
    _check_consistent(db_path)


@pytest.mark.full
def test_kill9_mid_burst_then_restart(tmp_path: Path) -> None:
    """kill -9 while 6 reviewers submit; after restart every acknowledged review is there."""
    import time

    db_path = tmp_path / "crash.db"
    db_url = f"sqlite:///{db_path}"
    names = _setup(db_url, tmp_path, n_items=400, n_users=6)
    server = Server(db_url).start()
    acked: list[tuple[str, int, str]] = []
    errors: list[str] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_reviewer, args=(server.url, n, 60, acked, errors, stop))
        for n in names
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while len(acked) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=120)
    n_acked = len(acked)
    assert n_acked >= 40
    server2 = Server(db_url, port=server.port).start()  # restart on the same file
    try:
        stored = _stored(db_path)
        assert set(acked) <= set(stored)  # nothing acknowledged was lost
        assert len(stored) == len(set((n, t) for n, t, _ in stored))
        _check_consistent(db_path)
        # the restarted server keeps working: one more decision per reviewer
        more: list[tuple[str, int, str]] = []
        for n in names[:2]:
            _reviewer(server2.url, n, 1, more, errors)
        assert len(more) == 2
    finally:
        server2.stop()
    assert [e for e in errors if not e.startswith("submit 409")] == []
