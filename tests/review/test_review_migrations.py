"""Alembic migrations: a database at revision 0001 with data upgrades without losing rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from truelabel.review import Database, import_review
from truelabel.review.db import _alembic_config


def test_upgrade_from_0001_keeps_data_and_moves_classes(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    db = Database(url)
    cfg = _alembic_config()
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.commit()
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=ON")
    con.execute(
        "INSERT INTO projects (id, name, classes, overlap, design, created_at) "
        "VALUES (1, 'old', '[\"a\", \"b\", \"c\"]', 1, '{}', '2026-01-01')"
    )
    con.execute(
        "INSERT INTO items (id, project_id, item_key, text, meta, is_label_issue, is_outlier, probs, "
        "neighbors) VALUES (1, 1, 'x', 'hello', '{}', 0, 0, '{}', '[]')"
    )
    con.commit()
    con.close()
    db.migrate()
    with db.reader() as s:
        from truelabel.review import crud

        p = crud.get_project(s, "old")
        assert p.classes == ["a", "b", "c"]
        assert (
            crud.get_item(s, "old", "x").text == "hello"
        )  # not cascaded away by the table rebuild
    db.dispose()


def test_audit_log_is_append_only(tmp_path: Path, audit_run: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    import_review(audit_run, "demo", db=url)
    db = Database(url)
    with pytest.raises(Exception, match="append-only"), db.session() as s:
        s.execute(text("UPDATE audit_log SET action = 'forged'"))
    with pytest.raises(Exception, match="append-only"), db.session() as s:
        s.execute(text("DELETE FROM audit_log"))
    db.dispose()
