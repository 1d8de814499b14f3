"""Database tables of the review service (SQLAlchemy 2, typed ``Mapped`` columns).

The schema is created and upgraded by Alembic (``review/migrations``), never by
``create_all``: every database, SQLite or PostgreSQL, carries its revision.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "ApiToken",
    "AuditLog",
    "Base",
    "Item",
    "Lease",
    "Meta",
    "Project",
    "ProjectClass",
    "ProjectMember",
    "Review",
    "Run",
    "Source",
    "Task",
    "User",
    "Vote",
    "utcnow",
]


def utcnow() -> dt.datetime:
    """Timezone-naive UTC now (stored naive: SQLite has no time zones)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Meta(Base):
    """Key-value settings kept in the database (the generated session secret)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class User(Base):
    """A person who logs in: ``admin`` (imports, users, settings) or ``reviewer``."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # bumped by logout: session cookies carry the epoch they were issued in
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64), default="api")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # set when the user logs out everywhere or an admin revokes the user's tokens
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class ProjectClass(Base):
    """One class of a project; ``position`` fixes the class order (ties break to the lowest)."""

    __tablename__ = "classes"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="uq_classes_project_name"),
        UniqueConstraint("project_id", "position", name="uq_classes_project_position"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer)


class Project(Base):
    """A labelling project: its classes, items, and one sampling design for review."""

    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    overlap: Mapped[int] = mapped_column(Integer, default=1)
    design: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # what a label is (``truelabel._tasks.TASKS``): one class, a tag set, spans or a number
    task: Mapped[str] = mapped_column(
        String(16), default="classification", server_default="classification"
    )
    # joins a multi-label item's tags in given/suggested/review labels and exports
    label_sep: Mapped[str] = mapped_column(String(8), default=",", server_default=",")
    class_rows: Mapped[list[ProjectClass]] = relationship(
        order_by=ProjectClass.position, lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def classes(self) -> list[str]:
        """Class names in their order."""
        return [c.name for c in self.class_rows]


class ProjectMember(Base):
    """A reviewer allowed to see and review a project (admins see every project)."""

    __tablename__ = "project_members"
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Run(Base):
    """A run directory imported into a project (fingerprinted, so re-imports are no-ops)."""

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("project_id", "fingerprint"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    n_items: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Item(Base):
    """One item to label, with what the pipeline thinks of it."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("project_id", "item_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # classification: a class; multilabel: tags joined by the project's label_sep;
    # regression: a number as text; token: a JSON span list ``[[start, end, type], …]``
    given_label: Mapped[str | None] = mapped_column(Text, nullable=True)
    suggested_label: Mapped[str | None] = mapped_column(Text, nullable=True)
    suggested_prob: Mapped[float | None] = mapped_column(Float, nullable=True)
    label_quality: Mapped[float | None] = mapped_column(Float, nullable=True)
    is_label_issue: Mapped[bool] = mapped_column(Boolean, default=False)
    is_outlier: Mapped[bool] = mapped_column(Boolean, default=False)
    duplicate_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    probs: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    neighbors: Mapped[list[str]] = mapped_column(JSON, default=list)


class Source(Base):
    """A source of votes (annotator, rule, model) and its estimated quality."""

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    quality: Mapped[float | None] = mapped_column(Float, nullable=True)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Vote(Base):
    """One source's label for one item (abstain = no row)."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("item_id", "source_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(Text)


class Task(Base):
    """An item selected for review, with the probability it was selected.

    ``needed`` reviews close it (the project's overlap); ``n_done`` counts
    decisions (skips excluded).
    """

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("project_id", "item_id"),
        Index("ix_tasks_queue", "project_id", "status", "priority"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)
    priority: Mapped[float] = mapped_column(Float)
    sampling_prob: Mapped[float] = mapped_column(Float)
    needed: Mapped[int] = mapped_column(Integer, default=1)
    n_done: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Lease(Base):
    """A reviewer's claim on a task until ``expires_at``."""

    __tablename__ = "leases"
    __table_args__ = (UniqueConstraint("task_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Review(Base):
    """One reviewer's decision on one task; never updated by anyone else.

    ``action`` is ``given``, ``suggested``, ``other``, ``ambiguous`` or ``skip``;
    ``label`` is empty for ``ambiguous`` and ``skip``. A reviewer who changes their mind
    adds a new row: the old one keeps its content and gets ``superseded_at`` and
    ``superseded_by`` (the new row's id; empty when the decision was undone). Each
    reviewer has at most one *current* row (``superseded_at`` empty) per task.
    """

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        Index(
            "uq_reviews_current",
            "task_id",
            "user_id",
            unique=True,
            sqlite_where=text("superseded_at IS NULL"),
            postgresql_where=text("superseded_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    lease_expired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"), nullable=True)


class AuditLog(Base):
    """Append-only log of every write (who, what, when)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    project_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
