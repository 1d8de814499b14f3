"""ORM rows → API shapes (called inside the transaction that loaded them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from .. import crud
from ..models import Item, Project, Review, Task
from ..schemas import (
    DecisionBrief,
    ItemDetail,
    ItemPublic,
    ProjectPublic,
    ReviewPublic,
    TaskPublic,
)


def item_public(item: Item) -> ItemPublic:
    return ItemPublic(
        item_id=item.item_key,
        text=item.text,
        given_label=item.given_label,
        suggested_label=item.suggested_label,
        suggested_prob=item.suggested_prob,
        label_quality=item.label_quality,
        is_label_issue=item.is_label_issue,
        is_outlier=item.is_outlier,
        duplicate_group=item.duplicate_group,
        probs=dict(item.probs or {}),
        reason=(item.meta or {}).get("reason"),
    )


def item_detail(s: Session, item: Item) -> ItemDetail:
    view: dict[str, Any] = crud.item_view(s, item)
    return ItemDetail(**item_public(item).model_dump(), **view)


def project_public(s: Session, p: Project) -> ProjectPublic:
    return ProjectPublic(
        name=p.name,
        classes=list(p.classes),
        overlap=p.overlap,
        design=dict(p.design or {}),
        task=p.task,
        label_sep=p.label_sep,
        progress=crud.project_progress(s, p),
    )


def review_public(
    review: Review,
    item_key: str,
    reviewer: str,
    created: bool,
    previous: Review | None = None,
) -> ReviewPublic:
    return ReviewPublic(
        id=review.id,
        task_id=review.task_id,
        item_id=item_key,
        reviewer=reviewer,
        action=review.action,
        label=review.label,
        note=review.note,
        lease_expired=review.lease_expired,
        created_at=review.created_at,
        created=created,
        current=review.superseded_at is None,
        supersedes=None
        if previous is None
        else DecisionBrief(id=previous.id, action=previous.action, label=previous.label),
    )


def task_public(s: Session, task: Task, item: Item, until: dt.datetime) -> TaskPublic:
    """A leased task as the API and the review page show it."""
    return TaskPublic(
        task_id=task.id,
        rank=task.rank,
        sampling_prob=task.sampling_prob,
        needed=task.needed,
        n_done=task.n_done,
        lease_expires_at=until,
        item=item_detail(s, item),
    )
