"""Alembic migrations: a database at revision 0001 with data upgrades without losing rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from truelabel.review import Database, import_review
from truelabel.review.db import _alembic_config


def _database_at(path: Path, revision: str) -> Database:
    """A SQLite file migrated only up to ``revision``."""
    db = Database(f"sqlite:///{path}")
    cfg = _alembic_config()
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
    return db


def test_upgrade_from_0001_keeps_data_and_moves_classes(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = _database_at(path, "0001")
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


def _schema_diff(db: Database) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from truelabel.review.models import Base

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def test_migrations_build_the_models_schema(db_url: str) -> None:
    """The migrated schema is exactly what models.py declares (no missing migration)."""
    db = Database(db_url)
    db.migrate()
    assert _schema_diff(db) == []
    db.dispose()


@pytest.mark.full
def test_migrations_build_the_models_schema_postgres(pg_url: str) -> None:
    db = Database(pg_url)
    db.migrate()
    assert _schema_diff(db) == []
    db.dispose()


def test_upgrade_from_0003_keeps_reviewers_on_their_projects(tmp_path: Path) -> None:
    """Before 0004 every reviewer saw every project; after it they are members of each."""
    path = tmp_path / "old3.db"
    db = _database_at(path, "0003")
    con = sqlite3.connect(path)
    con.execute(
        "INSERT INTO projects (id, name, overlap, design, created_at) VALUES "
        "(1, 'p1', 1, '{}', '2026-01-01'), (2, 'p2', 1, '{}', '2026-01-01')"
    )
    con.execute(
        "INSERT INTO users (id, name, role, password_hash, active, created_at, session_epoch) "
        "VALUES (1, 'root', 'admin', 'x', 1, '2026-01-01', 0), "
        "(2, 'ana', 'reviewer', 'x', 1, '2026-01-01', 0)"
    )
    con.execute(
        "INSERT INTO api_tokens (id, user_id, token_hash, name, created_at) "
        "VALUES (1, 2, 'h', 'api', '2026-01-01')"
    )
    con.commit()
    con.close()
    db.migrate()
    from truelabel.review import crud

    with db.reader() as s:
        ana = crud.user_by_name(s, "ana")
        assert [p.name for p, _ in crud.list_projects(s, ana)] == ["p1", "p2"]
        assert crud.list_members(s, "p1")[0].name == "ana"  # admins are not listed: they see all
        assert crud.users_overview(s)[0]["n_tokens"] == 1
    db.dispose()


def _project_at_0005(path: Path) -> Database:
    db = _database_at(path, "0005")
    con = sqlite3.connect(path)
    con.execute(
        "INSERT INTO projects (id, name, overlap, design, created_at) "
        "VALUES (1, 'old', 1, '{}', '2026-01-01')"
    )
    con.execute(
        "INSERT INTO classes (id, project_id, name, position) VALUES (1, 1, 'a', 0), (2, 1, 'b', 1)"
    )
    con.execute(
        "INSERT INTO items (id, project_id, item_key, text, meta, given_label, is_label_issue, "
        "is_outlier, probs, neighbors) VALUES (1, 1, 'x', 'hello', '{}', 'a', 0, 0, '{}', '[]')"
    )
    con.commit()
    con.close()
    return db


def test_upgrade_from_0005_projects_are_classification(tmp_path: Path) -> None:
    """0006 adds projects.task (existing projects: classification) and TEXT labels."""
    db = _project_at_0005(tmp_path / "old5.db")
    db.migrate()
    from truelabel.review import crud

    with db.reader() as s:
        p = crud.get_project(s, "old")
        assert (p.task, p.label_sep, p.classes) == ("classification", ",", ["a", "b"])
        assert crud.get_item(s, "old", "x").given_label == "a"
    assert _schema_diff(db) == []
    # a label longer than the old VARCHAR(255) fits
    with db.session() as s:
        crud.get_item(s, "old", "x").given_label = "a" * 1000
    with db.reader() as s:
        assert len(crud.get_item(s, "old", "x").given_label or "") == 1000
    db.dispose()


@pytest.mark.full
def test_upgrade_from_0005_postgres(pg_url: str) -> None:
    db = Database(pg_url)
    cfg = _alembic_config()
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
        conn.execute(
            text(
                "INSERT INTO projects (id, name, overlap, design, created_at) "
                "VALUES (1, 'old', 1, '{}', '2026-01-01')"
            )
        )
        conn.commit()
    db.migrate()
    from truelabel.review import crud

    with db.reader() as s:
        assert crud.get_project(s, "old").task == "classification"
    assert _schema_diff(db) == []
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")  # and back: the columns go, the project stays
        conn.commit()
        assert conn.execute(text("SELECT name FROM projects")).scalar() == "old"
    db.dispose()
