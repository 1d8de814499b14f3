"""Request and response shapes of the JSON API (separate ``…Create`` / ``…Public`` models)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "BulkCreate",
    "BulkPublic",
    "DecisionBrief",
    "ItemCreate",
    "ItemDetail",
    "ItemPublic",
    "ItemsPage",
    "ProjectCreate",
    "ProjectPublic",
    "ProjectUpdate",
    "ReviewCreate",
    "MemberChange",
    "ReviewPublic",
    "RevokedPublic",
    "TaskPublic",
    "Token",
    "UndoPublic",
    "UserCreate",
    "UserPublic",
    "UserUpdate",
]


class Token(BaseModel):
    """A bearer token for ``Authorization: Bearer <access_token>``."""

    access_token: str
    token_type: str = "bearer"


class UserPublic(BaseModel):
    id: int
    name: str
    role: str
    active: bool = True


class UserUpdate(BaseModel):
    """Admin changes to a user: deactivate/re-activate, or set a new password."""

    active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)


class RevokedPublic(BaseModel):
    name: str
    tokens_revoked: int


class MemberChange(BaseModel):
    name: str = Field(min_length=1, max_length=64)


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=1024)
    role: Literal["admin", "reviewer"] = "reviewer"


class ProjectPublic(BaseModel):
    name: str
    classes: list[str]
    overlap: int
    design: dict[str, Any]
    progress: dict[str, int]
    task: str = "classification"
    label_sep: str = ","


class ProjectCreate(BaseModel):
    name: str = Field(
        min_length=1, max_length=128, description="Letters, digits, _ . - and spaces."
    )
    classes: list[str] = Field(
        default_factory=list,
        description="Classes; the tags (multilabel) or entity types (token); none for regression.",
    )
    overlap: int = Field(default=1, ge=1)
    task: Literal["classification", "multilabel", "token", "regression"] = "classification"
    label_sep: str = Field(default=",", min_length=1, max_length=8)


class ProjectUpdate(BaseModel):
    overlap: int = Field(ge=1)


class ItemPublic(BaseModel):
    item_id: str
    text: str
    given_label: str | None
    suggested_label: str | None
    suggested_prob: float | None
    label_quality: float | None
    is_label_issue: bool
    is_outlier: bool
    duplicate_group: str | None
    probs: dict[str, float]
    reason: str | None = Field(
        default=None, description="The audit's explanation, when it gave one."
    )


class ItemDetail(ItemPublic):
    votes: list[dict[str, Any]]
    neighbors: list[dict[str, Any]]
    reviews: list[dict[str, Any]]


class ItemCreate(BaseModel):
    item_id: str = Field(min_length=1, max_length=255)
    text: str = ""
    given_label: str | None = None
    suggested_label: str | None = None
    suggested_prob: float | None = Field(default=None, ge=0, le=1)
    votes: dict[str, str] = Field(default_factory=dict, description="source name -> label")


class ItemsPage(BaseModel):
    items: list[ItemPublic]
    total: int


class TaskPublic(BaseModel):
    task_id: int
    rank: int
    sampling_prob: float
    needed: int
    n_done: int
    lease_expires_at: dt.datetime
    item: ItemDetail


class ReviewCreate(BaseModel):
    """One decision: ``given`` / ``suggested`` accept that label; ``other`` needs ``label``."""

    action: Literal["given", "suggested", "other", "ambiguous", "skip"]
    label: str | float | list[Any] | None = Field(
        default=None,
        description="For 'other': a class; tags (a list, or joined by the project's "
        "separator); a number; or spans (a list of [start, end, type], or that as JSON).",
    )
    note: str = Field(default="", max_length=5000)
    flags: list[str] = Field(default_factory=list, max_length=20)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=64)


class DecisionBrief(BaseModel):
    """An earlier decision: which, and what it said."""

    id: int
    action: str
    label: str | None


class ReviewPublic(BaseModel):
    id: int
    task_id: int
    item_id: str
    reviewer: str
    action: str
    label: str | None
    note: str
    lease_expired: bool
    created_at: dt.datetime
    created: bool = Field(description="False when this was a replay of an already stored decision.")
    current: bool = Field(
        default=True, description="False once the reviewer changed or undid this decision."
    )
    supersedes: DecisionBrief | None = Field(
        default=None, description="The reviewer's earlier decision this one replaced."
    )


class UndoPublic(BaseModel):
    """What ``POST …/tasks/undo`` took back, and the item leased again to decide anew."""

    undone: ReviewPublic
    task: TaskPublic | None = Field(
        description="The item, leased to you again; None when it already has all its reviews."
    )


class BulkCreate(BaseModel):
    """One decision on many items: accept each item's suggested (or given) label."""

    items: list[str] = Field(min_length=1, max_length=1000, description="Item ids.")
    action: Literal["suggested", "given"] = "suggested"
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=40)


class BulkPublic(BaseModel):
    saved: int
    unchanged: int = Field(description="Items on which you had already decided the same.")
    refused: dict[str, list[str]] = Field(description="Reason -> item ids not decided.")
