"""classes table (was a JSON column of projects); append-only audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:25:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION truelabel_audit_log_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql
"""


def _classes_of(value: object) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value)
    return [str(c) for c in (value or [])]  # type: ignore[attr-defined]


def upgrade() -> None:
    op.create_table(
        "classes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "name", name="uq_classes_project_name"),
        sa.UniqueConstraint("project_id", "position", name="uq_classes_project_position"),
    )
    conn = op.get_bind()
    projects = sa.table("projects", sa.column("id", sa.Integer), sa.column("classes", sa.JSON))
    classes = sa.table(
        "classes",
        sa.column("project_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("position", sa.Integer),
    )
    rows = [
        {"project_id": pid, "name": name, "position": i}
        for pid, value in conn.execute(sa.select(projects.c.id, projects.c.classes)).all()
        for i, name in enumerate(_classes_of(value))
    ]
    if rows:
        conn.execute(sa.insert(classes), rows)
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("classes")

    if conn.dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    elif conn.dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION truelabel_audit_log_append_only()"
        )


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    elif conn.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS truelabel_audit_log_append_only()")
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("classes", sa.JSON(), nullable=True))
    projects = sa.table("projects", sa.column("id", sa.Integer), sa.column("classes", sa.JSON))
    classes = sa.table(
        "classes",
        sa.column("project_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("position", sa.Integer),
    )
    by: dict[int, list[str]] = {}
    for pid, name, _pos in conn.execute(
        sa.select(classes.c.project_id, classes.c.name, classes.c.position).order_by(
            classes.c.project_id, classes.c.position
        )
    ).all():
        by.setdefault(pid, []).append(name)
    for pid, names in by.items():
        conn.execute(sa.update(projects).where(projects.c.id == pid).values(classes=names))
    op.drop_table("classes")
