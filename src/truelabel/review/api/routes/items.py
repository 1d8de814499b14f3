"""Items: search and filter, read one with its votes and neighbours, push new ones (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, status

from ... import crud
from ...schemas import ItemCreate, ItemDetail, ItemsPage
from .._convert import item_detail, item_public
from ..deps import AdminUser, DbDep, MemberProject

router = APIRouter(prefix="/projects/{project}/items", tags=["items"])


@router.get("", response_model=ItemsPage)
def list_items(
    project: MemberProject,
    db: DbDep,
    q: str | None = Query(None, max_length=500),
    label: str | None = None,
    issue: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> ItemsPage:
    """Substring search in texts (``q``), class filter (given or suggested), issue filter."""
    with db.reader() as s:
        items, total = crud.list_items(
            s, project, q=q, label=label, issue=issue, limit=limit, offset=offset
        )
        return ItemsPage(items=[item_public(i) for i in items], total=total)


@router.post("", status_code=status.HTTP_201_CREATED)
def push_items(project: str, body: list[ItemCreate], db: DbDep, admin: AdminUser) -> dict[str, Any]:
    """Add items (each queued for review with sampling probability 1)."""
    n = db.run(lambda s: crud.push_items(s, project, [b.model_dump() for b in body], by=admin))
    return {"created": n}


@router.get("/{item_id}", response_model=ItemDetail)
def read_item(project: MemberProject, item_id: str, db: DbDep) -> ItemDetail:
    with db.reader() as s:
        return item_detail(s, crud.get_item(s, project, item_id))
