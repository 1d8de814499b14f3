"""api_tokens.revoked_at (logout everywhere, admin revocation); project_members

Existing reviewers keep what they had: every reviewer becomes a member of every
existing project. New projects start with no reviewer members (admins add them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
    op.create_table(
        "project_members",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_id", "user_id"),
    )
    with op.batch_alter_table("project_members") as batch:
        batch.create_index(batch.f("ix_project_members_user_id"), ["user_id"], unique=False)
    conn = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("role", sa.String))
    projects = sa.table("projects", sa.column("id", sa.Integer))
    members = sa.table(
        "project_members",
        sa.column("project_id", sa.Integer),
        sa.column("user_id", sa.Integer),
        sa.column("added_at", sa.DateTime),
    )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    reviewers = conn.execute(sa.select(users.c.id).where(users.c.role == "reviewer")).scalars()
    pids = list(conn.execute(sa.select(projects.c.id)).scalars())
    rows = [{"project_id": p, "user_id": u, "added_at": now} for u in reviewers for p in pids]
    if rows:
        conn.execute(sa.insert(members), rows)


def downgrade() -> None:
    with op.batch_alter_table("project_members") as batch:
        batch.drop_index(batch.f("ix_project_members_user_id"))
    op.drop_table("project_members")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("revoked_at")
