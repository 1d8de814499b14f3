"""The review queue: lease the next task, submit (or change) a decision, undo the last one,
decide many items at once, give a lease back."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import crud
from ...config import ReviewSettings
from ...db import Database
from ...models import User
from ...schemas import (
    BulkCreate,
    BulkPublic,
    ReviewCreate,
    ReviewPublic,
    TaskPublic,
    UndoPublic,
)
from .._convert import review_public, task_public
from ..deps import ApiUser, DbDep, SettingsDep

router = APIRouter(prefix="/projects/{project}/tasks", tags=["tasks"])


def lease_task(
    db: Database,
    settings: ReviewSettings,
    project: str,
    user: User,
    label: str | None,
    issue: str | None,
) -> TaskPublic | None:
    def tx(s: Session) -> TaskPublic | None:
        got = crud.lease_next(
            s, project, user, lease_seconds=settings.lease_seconds, label=label, issue=issue
        )
        return None if got is None else task_public(s, *got)

    result: TaskPublic | None = db.run(tx)
    return result


def submit(
    db: Database, project: str, task_id: int, user: User, body: ReviewCreate
) -> ReviewPublic:
    """Store a decision; a unique-constraint race (same key twice at once) is answered as a replay."""

    def tx(s: Session) -> ReviewPublic:
        review, created = crud.submit_review(
            s,
            project,
            task_id,
            user,
            action=body.action,
            label=body.label,
            note=body.note,
            flags=body.flags,
            idempotency_key=body.idempotency_key,
        )
        _, item = crud.get_task(s, project, task_id)
        previous = crud.previous_decision(s, review)
        return review_public(review, item.item_key, user.name, created, previous)

    try:
        result: ReviewPublic = db.run(tx)
    except IntegrityError:
        result = db.run(tx)
    return result


@router.post(
    "/next",
    response_model=TaskPublic,
    responses={204: {"description": "The queue is empty for this reviewer."}},
)
def next_task(
    project: str,
    db: DbDep,
    settings: SettingsDep,
    user: ApiUser,
    label: str | None = None,
    issue: str | None = None,
) -> TaskPublic | Response:
    """Lease the most valuable open item for the caller (renews the lease already held)."""
    task = lease_task(db, settings, project, user, label, issue)
    if task is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return task


@router.post(
    "/{task_id}/reviews",
    response_model=ReviewPublic,
    responses={
        200: {"description": "Replay of a stored decision"},
        409: {"description": "Conflict"},
    },
    status_code=status.HTTP_201_CREATED,
)
def submit_review(
    project: str, task_id: int, body: ReviewCreate, db: DbDep, user: ApiUser, response: Response
) -> ReviewPublic:
    """Submit one decision; idempotent per ``idempotency_key`` (a replay answers 200)."""
    out = submit(db, project, task_id, user, body)
    if not out.created:
        response.status_code = status.HTTP_200_OK
    return out


@router.delete("/{task_id}/lease", status_code=status.HTTP_204_NO_CONTENT)
def release(project: str, task_id: int, db: DbDep, user: ApiUser) -> Response:
    """Give the item back to the queue without deciding."""
    db.run(lambda s: crud.release_lease(s, project, task_id, user))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def undo(db: Database, settings: ReviewSettings, project: str, user: User) -> UndoPublic:
    """Take back the caller's last decision in ``project`` and lease that item to them again."""

    def tx(s: Session) -> UndoPublic:
        review, task, item = crud.undo_last(s, project, user, lease_seconds=settings.lease_seconds)
        held = crud.held_task(s, project, user)
        return UndoPublic(
            undone=review_public(review, item.item_key, user.name, False),
            task=None if held is None else task_public(s, *held),
        )

    result: UndoPublic = db.run(tx)
    return result


@router.post("/undo", response_model=UndoPublic)
def undo_last(project: str, db: DbDep, settings: SettingsDep, user: ApiUser) -> UndoPublic:
    """Undo your last decision in this project (409 when there is none): it stays in the log
    as undone, and the item is leased to you again."""
    return undo(db, settings, project, user)


@router.post("/bulk", response_model=BulkPublic)
def bulk(project: str, body: BulkCreate, db: DbDep, user: ApiUser) -> BulkPublic:
    """Accept the suggested (or given) label of many items as your decisions, in one
    transaction; items that cannot take it are listed by reason."""
    res = db.run(
        lambda s: crud.decide_many(
            s, project, user, body.items, action=body.action, key=body.idempotency_key
        )
    )
    return BulkPublic(saved=res.saved, unchanged=res.unchanged, refused=res.refused)
