"""projects.task / projects.label_sep: a project reviews classes, tag sets, spans or numbers

Existing projects become ``classification`` (their behaviour is unchanged). Labels
become ``TEXT`` (a span list of a long sentence does not fit 255 characters).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: (table, column, nullable) of the label columns widened to TEXT
_LABELS = (
    ("items", "given_label", True),
    ("items", "suggested_label", True),
    ("reviews", "label", True),
    ("votes", "label", False),
)


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("task", sa.String(16), nullable=False, server_default="classification")
        )
        batch.add_column(sa.Column("label_sep", sa.String(8), nullable=False, server_default=","))
    for table, column, nullable in _LABELS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column, type_=sa.Text(), existing_type=sa.String(255), existing_nullable=nullable
            )


def downgrade() -> None:
    for table, column, nullable in _LABELS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column, type_=sa.String(255), existing_type=sa.Text(), existing_nullable=nullable
            )
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("label_sep")
        batch.drop_column("task")
