"""Storage on a real SQLite file: import, leases, submissions, overlap, export."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from review_helpers import CLASSES, PASSWORD, make_aggregate_run, make_audit_run
from truelabel import InputError
from truelabel.review import Database, crud, export_review, import_review, load_run
from truelabel.review.errors import ConflictError
from truelabel.review.models import AuditLog, Lease, Review, Task


@pytest.fixture
def db_url(seeded_url: str) -> str:
    """Here every test starts from the seeded database (project 'demo', four users)."""
    return seeded_url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    d = Database(db_url)
    yield d
    d.dispose()


def user(db: Database, name: str) -> crud.User:
    with db.reader() as s:
        u = s.scalars(crud.select(crud.User).where(crud.User.name == name)).one()
    return u


def test_import_is_idempotent_and_ordered(db: Database, db_url: str, audit_run: Path) -> None:
    again = import_review(audit_run, "demo", db=db_url)
    assert again.already_imported and again.n_tasks == 30
    with db.reader() as s:
        p = crud.get_project(s, "demo")
        assert p.classes == CLASSES
        prog = crud.project_progress(s, p)
        # open tasks per class (given or suggested): neg 10, neu 20 (10 given + 10 suggested), pos 10
        assert crud.open_counts(s, p) == {"neg": 10, "neu": 20, "pos": 10}
        tasks = s.scalars(crud.select(Task).order_by(Task.rank)).all()
    assert prog == {
        "items": 30,
        "tasks": 30,
        "done": 0,
        "open": 30,
        "reviews": 0,
        "skips": 0,
        "ambiguous": 0,
    }
    # lowest label_quality first: it0 has 0.01
    with db.reader() as s:
        first = s.get(crud.Item, tasks[0].item_id)
        assert first is not None and first.item_key == "it0"
    assert all(t.sampling_prob == 1.0 for t in tasks)


def test_import_refuses_other_classes(db: Database, db_url: str, tmp_path: Path) -> None:
    other = make_audit_run(tmp_path / "other", classes=["neg", "pos", "mixed"])
    with pytest.raises(
        InputError, match=r"only in the run: \['mixed'\]; only in the project: \['neu'\]"
    ):
        import_review(other, "demo", db=db_url)


def test_import_bad_runs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a truelabel run folder"):
        load_run(tmp_path)
    (tmp_path / "run.json").write_text(json.dumps({"kind": "calibrate"}))
    with pytest.raises(InputError, match="cannot be imported for review"):
        load_run(tmp_path)


def test_aggregate_run_adds_votes_and_source_quality(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    res = import_review(make_aggregate_run(tmp_path / "agg"), "demo", db=db_url)
    assert (res.n_votes, res.n_sources, res.n_items_new) == (90, 3, 0)
    with db.reader() as s:
        item = crud.get_item(s, "demo", "it0")
        view = crud.item_view(s, item)
        assert item.suggested_label == "neu"  # the audit's suggestion is kept
    assert [(v["source"], v["label"], v["quality"]) for v in view["votes"]] == [
        ("w0", "neg", 0.9),
        ("w1", "neg", 0.85),
        ("w2", "neu", 0.4),
    ]
    assert [n["item_id"] for n in view["neighbors"]] == ["it1", "it2"]


def test_poisson_design_records_probabilities(db_url: str, tmp_path: Path) -> None:
    run = make_audit_run(tmp_path / "a", n=200)
    res = import_review(run, "sample", db=db_url, design="poisson", budget=40, floor=0.2, seed=3)
    d = Database(db_url)
    with d.reader() as s:
        pis = np.array(
            s.scalars(
                crud.select(Task.sampling_prob)
                .join(crud.Project)
                .where(crud.Project.name == "sample")
            ).all()
        )
    assert 20 < res.n_tasks < 60 and len(pis) == res.n_tasks
    assert (pis > 0).all() and (pis <= 1).all() and pis.min() >= 0.2 * 40 / 200 - 1e-9
    assert res.design["design"] == "poisson" and np.isclose(res.design["expected"], 40)


def test_leases_give_different_items_and_expire(db: Database) -> None:
    a, b = user(db, "alice"), user(db, "bob")
    ta = db.run(crud.lease_next, "demo", a)
    tb = db.run(crud.lease_next, "demo", b)
    assert ta is not None and tb is not None and ta[0].id != tb[0].id
    assert db.run(crud.lease_next, "demo", a)[0].id == ta[0].id  # renewing keeps the item
    # expire alice's lease: bob can take her item; alice's late decision is refused
    with db.session() as s:
        s.execute(
            crud.update(Lease)
            .where(Lease.user_id == a.id)
            .values(expires_at=dt.datetime(2000, 1, 1))
        )
    db.run(crud.submit_review, "demo", tb[0].id, b, action="given", idempotency_key="b1")
    tb2 = db.run(crud.lease_next, "demo", b)
    assert tb2[0].id == ta[0].id
    with pytest.raises(ConflictError, match="was NOT stored"):
        db.run(crud.submit_review, "demo", ta[0].id, a, action="given", idempotency_key="a1")


def test_expired_lease_is_accepted_once_when_nobody_took_it(db: Database) -> None:
    a = user(db, "alice")
    t = db.run(crud.lease_next, "demo", a)[0]
    with db.session() as s:
        s.execute(crud.update(Lease).values(expires_at=dt.datetime(2000, 1, 1)))
    r, created = db.run(
        crud.submit_review, "demo", t.id, a, action="suggested", idempotency_key="k"
    )
    assert created and r.lease_expired
    r2, created2 = db.run(
        crud.submit_review, "demo", t.id, a, action="suggested", idempotency_key="k"
    )
    assert not created2 and r2.id == r.id


def test_submissions_idempotent_and_changes_supersede(db: Database) -> None:
    a, b = user(db, "alice"), user(db, "bob")
    t = db.run(crud.lease_next, "demo", a)[0]
    r1, c1 = db.run(
        crud.submit_review, "demo", t.id, a, action="other", label="pos", idempotency_key="x"
    )
    r2, c2 = db.run(
        crud.submit_review, "demo", t.id, a, action="other", label="pos", idempotency_key="x"
    )
    assert c1 and not c2 and r1.id == r2.id
    r3, c3 = db.run(
        crud.submit_review, "demo", t.id, a, action="other", label="neg", idempotency_key="y"
    )
    assert c3 and r3.id != r1.id and r3.label == "neg"
    with pytest.raises(ConflictError, match="already has all its reviews"):
        db.run(crud.submit_review, "demo", t.id, b, action="given", idempotency_key="z")
    with pytest.raises(ConflictError, match="already used for task"):
        db.run(crud.submit_review, "demo", t.id + 1, a, action="given", idempotency_key="x")
    with pytest.raises(InputError, match="not one of the project's classes"):
        db.run(crud.submit_review, "demo", t.id + 1, a, action="other", label="bogus")
    with db.reader() as s:
        rows = s.scalars(crud.select(Review).order_by(Review.id)).all()
        assert [(r.label, r.superseded_by) for r in rows] == [("pos", r3.id), ("neg", None)]
        assert rows[0].superseded_at is not None and rows[1].superseded_at is None
        task = s.get(Task, t.id)
        assert (task.status, task.n_done) == ("done", 1)  # a change does not count twice
        assert [e.action for e in s.scalars(crud.select(AuditLog).order_by(AuditLog.id))][-2:] == [
            "review.submit",
            "review.change",
        ]


def test_skip_releases_and_overlap_two(db: Database) -> None:
    a, b, c = user(db, "alice"), user(db, "bob"), user(db, "carol")
    db.run(crud.set_overlap, "demo", 2)
    ta = db.run(crud.lease_next, "demo", a)[0]
    tb = db.run(crud.lease_next, "demo", b)[0]
    tc = db.run(crud.lease_next, "demo", c)[0]
    assert ta.id == tb.id != tc.id  # two reviewers share an item, the third gets the next
    db.run(crud.submit_review, "demo", ta.id, a, action="skip")
    tc_next = db.run(crud.submit_review, "demo", tc.id, c, action="given")
    assert tc_next[1]
    # alice skipped: she never sees it again, but carol can take the freed slot
    assert db.run(crud.lease_next, "demo", a)[0].id not in (ta.id,)
    assert db.run(crud.lease_next, "demo", c)[0].id == ta.id
    db.run(crud.submit_review, "demo", ta.id, b, action="other", label="pos")
    db.run(crud.submit_review, "demo", ta.id, c, action="other", label="neu")
    with db.reader() as s:
        stats = crud.project_stats(s, "demo")
        assert s.get(Task, ta.id).status == "done"
    assert stats["agreement"]["n_items_multi"] == 1
    assert stats["progress"]["skips"] == 1
    names = [r["reviewer"] for r in stats["reviewers"]]
    assert names == ["alice", "bob", "carol"]


def test_export_gold_and_labels(db: Database, db_url: str, tmp_path: Path) -> None:
    a, b = user(db, "alice"), user(db, "bob")
    db.run(crud.set_overlap, "demo", 2)
    for _ in range(3):
        t = db.run(crud.lease_next, "demo", a)[0]
        db.run(crud.submit_review, "demo", t.id, a, action="suggested")
        t2 = db.run(crud.lease_next, "demo", b)[0]
        assert t2.id == t.id
        db.run(crud.submit_review, "demo", t.id, b, action="given")
    t = db.run(crud.lease_next, "demo", a)[0]
    db.run(crud.submit_review, "demo", t.id, a, action="ambiguous")
    res = export_review("demo", tmp_path / "exp", db=db_url)
    out = tmp_path / "exp"
    assert {
        "labels.parquet",
        "labels.csv",
        "gold.parquet",
        "gold.csv",
        "reviewers.csv",
        "summary.json",
        "run.json",
    } <= {p.name for p in out.iterdir()}
    gold = pd.read_parquet(out / "gold.parquet")
    assert list(gold.columns) == ["item_id", "source", "label", "sampling_prob", "reviewed_at"]
    assert len(gold) == 6 and set(gold["source"]) == {"review:alice", "review:bob"}
    assert (gold["sampling_prob"] == 1.0).all()
    labels = pd.read_csv(out / "labels.csv")
    row = labels.set_index("item_id").loc["it0"]
    # it0: given neg, suggested neu; alice says neu, bob says neg -> tie -> lowest class index (neg)
    assert (row["label"], row["decision_source"], row["n_reviews"]) == ("neg", "review:tie", 2)
    assert labels.set_index("item_id").loc["it29", "decision_source"] == "given"
    summary = json.loads((out / "summary.json").read_text())
    assert not summary["queue_complete"] and summary["warnings"]
    assert summary["agreement"]["n_items_multi"] == 3
    assert res.n_gold == 6 and json.loads((out / "run.json").read_text())["kind"] == "review"


def test_bad_users(db: Database) -> None:
    with pytest.raises(InputError, match="already exists"):
        db.run(crud.create_user, "alice", PASSWORD, "reviewer")
    with pytest.raises(InputError, match="at least 8"):
        db.run(crud.create_user, "dave", "short", "reviewer")
    with pytest.raises(InputError, match="role 'boss'"):
        db.run(crud.create_user, "dave", PASSWORD, "boss")
    with pytest.raises(InputError, match="user name"):
        db.run(crud.create_user, "bad name;--", PASSWORD, "reviewer")


def test_threads_lease_and_submit_exactly_once(db: Database) -> None:
    """6 threads x 5 decisions on one SQLite file: every returned decision stored once, no item twice."""
    import threading

    names = ["alice", "bob", "carol"]
    with db.session() as s:
        for i in range(3):
            crud.create_user(s, f"t{i}", PASSWORD, "reviewer")
            crud.add_member(s, "demo", f"t{i}")
    users = [user(db, n) for n in names + ["t0", "t1", "t2"]]
    done: list[int] = []
    errors: list[BaseException] = []

    def work(u: crud.User) -> None:
        try:
            for _ in range(5):
                got = db.run(crud.lease_next, "demo", u)
                if got is None:
                    return
                review, created = db.run(crud.submit_review, "demo", got[0].id, u, action="given")
                assert created
                done.append(review.task_id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(done) == 30 and len(set(done)) == 30
    with db.reader() as s:
        assert len(s.scalars(crud.select(Review)).all()) == 30
        assert crud.project_progress(s, crud.get_project(s, "demo"))["done"] == 30


def test_real_audit_columns_reason_and_no_group(tmp_path: Path, db_url: str) -> None:
    """Columns as the audit writes them: duplicate_group -1 = none, issue/reason kept for the page."""
    df = pd.DataFrame(
        {
            "item_id": ["a", "b", "c"],
            "text": ["x", "y", "z"],
            "given_label": ["neg", "pos", "neg"],
            "suggested_label": ["pos", "pos", "neg"],
            "suggested_prob": [0.9, 0.8, 0.7],
            "label_quality": [0.1, 0.8, 0.9],
            "duplicate_group": [-1, 3, -1],
            "issue": ["label_error", "", ""],
            "reason": ["given 'neg' has p=0.05", "", ""],
            "neighbors": [np.array(["b", "c"], dtype=object)] * 3,
        }
    )
    from truelabel.io import RunDir

    with RunDir(tmp_path / "real", kind="audit") as run:
        run.write_parquet("issues.parquet", df)
        run.write_json("summary.json", {"classes": CLASSES})
    import_review(tmp_path / "real", "real", db=db_url)
    d = Database(db_url)
    with d.reader() as s:
        a, b = crud.get_item(s, "real", "a"), crud.get_item(s, "real", "b")
        assert (a.duplicate_group, b.duplicate_group) == (None, "3")
        assert a.meta["reason"] == "given 'neg' has p=0.05" and "reason" not in b.meta
        assert a.neighbors == ["b", "c"]
    d.dispose()


def test_label_run_alone_queues_by_confidence(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'label.db'}"
    res = import_review(make_aggregate_run(tmp_path / "lab", kind="label"), "lab", db=url)
    assert (res.kind, res.n_items_new, res.n_votes, res.n_tasks) == ("label", 30, 90, 30)
    d = Database(url)
    with d.reader() as s:
        first = s.scalars(crud.select(Task).order_by(Task.rank)).first()
        item = s.get(crud.Item, first.item_id)
        assert item.item_key == "it0"  # lowest confidence (0.4) first
        assert item.given_label is None and item.suggested_label == "neg"
    d.dispose()
    assert res.design["priority"] == "1 - confidence"


def test_unreachable_database_is_a_clear_error(tmp_path: Path, audit_run: Path) -> None:
    from review_helpers import free_port
    from truelabel import ServiceError

    url = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(ServiceError, match="cannot reach the review database"):
        import_review(audit_run, "demo", db=url)
    with pytest.raises(InputError, match="cannot open this database URL"):
        Database("notadialect://x")
