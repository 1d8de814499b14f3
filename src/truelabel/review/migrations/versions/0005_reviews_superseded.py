"""reviews.superseded_at / superseded_by: a reviewer can change or undo a decision

The one-review-per-reviewer-and-task rule becomes one *current* review per reviewer
and task (a partial unique index); earlier decisions stay in the table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# names SQLite's unnamed constraints for the table rebuild (PostgreSQL has real names)
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
_CURRENT = sa.text("superseded_at IS NULL")


def _unique_name(columns: list[str]) -> str | None:
    for uc in sa.inspect(op.get_bind()).get_unique_constraints("reviews"):
        if uc["column_names"] == columns:
            return uc["name"]
    return None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    old = "uq_reviews_task_id_user_id" if sqlite else _unique_name(["task_id", "user_id"])
    with op.batch_alter_table("reviews", naming_convention=_NAMING) as batch:
        batch.add_column(sa.Column("superseded_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("superseded_by", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_reviews_superseded_by", "reviews", ["superseded_by"], ["id"])
        if old is not None:
            batch.drop_constraint(old, type_="unique")
    op.create_index(
        "uq_reviews_current",
        "reviews",
        ["task_id", "user_id"],
        unique=True,
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    )


def downgrade() -> None:
    conn = op.get_bind()
    reviews = sa.table("reviews", sa.column("superseded_at", sa.DateTime))
    conn.execute(sa.delete(reviews).where(reviews.c.superseded_at.is_not(None)))
    op.drop_index("uq_reviews_current", table_name="reviews")
    with op.batch_alter_table("reviews", naming_convention=_NAMING) as batch:
        batch.drop_constraint("fk_reviews_superseded_by", type_="foreignkey")
        batch.drop_column("superseded_by")
        batch.drop_column("superseded_at")
        batch.create_unique_constraint("uq_reviews_task_id_user_id", ["task_id", "user_id"])
