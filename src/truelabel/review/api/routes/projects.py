"""Projects: list, read, create and change overlap (admin), statistics, decisions."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, status

from ... import crud
from ..._export import build_export
from ...errors import NotFoundError
from ...schemas import ProjectCreate, ProjectPublic, ProjectUpdate
from .._convert import project_public
from ..deps import AdminUser, ApiUser, DbDep

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("", response_model=list[ProjectPublic])
def list_projects(db: DbDep, _user: ApiUser) -> list[ProjectPublic]:
    with db.reader() as s:
        return [project_public(s, p) for p, _ in crud.list_projects(s)]


@router.post("", response_model=ProjectPublic, status_code=status.HTTP_201_CREATED)
def create_project(body: ProjectCreate, db: DbDep, admin: AdminUser) -> ProjectPublic:
    return db.run(
        lambda s: project_public(
            s, crud.create_project(s, body.name, body.classes, overlap=body.overlap, by=admin)
        )
    )


@router.get("/{project}", response_model=ProjectPublic)
def read_project(project: str, db: DbDep, _user: ApiUser) -> ProjectPublic:
    with db.reader() as s:
        return project_public(s, crud.get_project(s, project))


@router.patch("/{project}", response_model=ProjectPublic)
def update_project(project: str, body: ProjectUpdate, db: DbDep, admin: AdminUser) -> ProjectPublic:
    return db.run(lambda s: project_public(s, crud.set_overlap(s, project, body.overlap, by=admin)))


@router.get("/{project}/stats")
def project_stats(project: str, db: DbDep, _user: ApiUser) -> dict[str, Any]:
    """Progress, per-reviewer statistics, Cohen's kappa per reviewer pair, Krippendorff's alpha."""
    with db.reader() as s:
        return crud.project_stats(s, project)


@router.get("/{project}/reviews")
def list_reviews(
    project: str,
    db: DbDep,
    _user: ApiUser,
    since_id: int = Query(0, ge=0),
    limit: int = Query(1000, ge=1, le=10000),
) -> list[dict[str, Any]]:
    """Decisions after ``since_id`` in submission order, with each item's sampling probability."""
    with db.reader() as s:
        return crud.list_reviews(s, project, since_id=since_id, limit=limit)


@router.get("/{project}/export/{name}")
def export_table(project: str, name: str, db: DbDep, _user: ApiUser) -> list[dict[str, Any]]:
    """``labels`` (corrected labels), ``gold`` (reviews as a gold source with sampling
    probabilities) or ``reviewers`` (statistics) as JSON records, as ``review export`` writes them."""
    tables = ("labels", "gold", "reviewers")
    if name not in tables:
        raise NotFoundError(f"export {name!r} is not one of {list(tables)}.")
    labels, gold, reviewers, _ = build_export(db, project)
    frame = {"labels": labels, "gold": gold, "reviewers": reviewers}[name]
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records"))
    return records
