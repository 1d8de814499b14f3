"""Projects: list, read, create and change overlap (admin), members (admin), statistics,
decisions. A reviewer sees only the projects they are a member of."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Response, status

from ... import crud
from ..._export import build_export
from ...errors import NotFoundError
from ...schemas import MemberChange, ProjectCreate, ProjectPublic, ProjectUpdate, UserPublic
from .._convert import project_public
from ..deps import AdminUser, ApiUser, DbDep, MemberProject

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("", response_model=list[ProjectPublic])
def list_projects(db: DbDep, user: ApiUser) -> list[ProjectPublic]:
    with db.reader() as s:
        return [project_public(s, p) for p, _ in crud.list_projects(s, user)]


@router.post("", response_model=ProjectPublic, status_code=status.HTTP_201_CREATED)
def create_project(body: ProjectCreate, db: DbDep, admin: AdminUser) -> ProjectPublic:
    return db.run(
        lambda s: project_public(
            s,
            crud.create_project(
                s,
                body.name,
                body.classes,
                overlap=body.overlap,
                task=body.task,
                label_sep=body.label_sep,
                by=admin,
            ),
        )
    )


@router.get("/{project}", response_model=ProjectPublic)
def read_project(project: MemberProject, db: DbDep) -> ProjectPublic:
    with db.reader() as s:
        return project_public(s, crud.get_project(s, project))


@router.patch("/{project}", response_model=ProjectPublic)
def update_project(project: str, body: ProjectUpdate, db: DbDep, admin: AdminUser) -> ProjectPublic:
    return db.run(lambda s: project_public(s, crud.set_overlap(s, project, body.overlap, by=admin)))


@router.get("/{project}/stats")
def project_stats(project: MemberProject, db: DbDep) -> dict[str, Any]:
    """Progress, per-reviewer statistics, Cohen's kappa per reviewer pair, Krippendorff's alpha."""
    with db.reader() as s:
        return crud.project_stats(s, project)


@router.get("/{project}/reviews")
def list_reviews(
    project: MemberProject,
    db: DbDep,
    since_id: int = Query(0, ge=0),
    limit: int = Query(1000, ge=1, le=10000),
) -> list[dict[str, Any]]:
    """Decisions after ``since_id`` in submission order, with each item's sampling probability."""
    with db.reader() as s:
        return crud.list_reviews(s, project, since_id=since_id, limit=limit)


@router.get("/{project}/export/{name}")
def export_table(project: MemberProject, name: str, db: DbDep) -> list[dict[str, Any]]:
    """``labels`` (corrected labels), ``gold`` (reviews as a gold source with sampling
    probabilities) or ``reviewers`` (statistics) as JSON records, as ``review export`` writes them."""
    tables = ("labels", "gold", "reviewers")
    if name not in tables:
        raise NotFoundError(f"export {name!r} is not one of {list(tables)}.")
    labels, gold, reviewers, _ = build_export(db, project)
    frame = {"labels": labels, "gold": gold, "reviewers": reviewers}[name]
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records"))
    return records


@router.get("/{project}/members", response_model=list[UserPublic])
def list_members(project: str, db: DbDep, _admin: AdminUser) -> list[UserPublic]:
    """The reviewers who may see and review this project (admins see every project)."""
    with db.reader() as s:
        return [
            UserPublic(id=u.id, name=u.name, role=u.role, active=bool(u.active))
            for u in crud.list_members(s, project)
        ]


@router.post("/{project}/members", status_code=status.HTTP_201_CREATED)
def add_member(project: str, body: MemberChange, db: DbDep, admin: AdminUser) -> dict[str, Any]:
    added = db.run(lambda s: crud.add_member(s, project, body.name, by=admin))
    return {"name": body.name, "added": added}


@router.delete("/{project}/members/{name}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(project: str, name: str, db: DbDep, admin: AdminUser) -> Response:
    db.run(lambda s: crud.remove_member(s, project, name, by=admin))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
