"""Admin pages: users (add, deactivate, re-activate, reset password, revoke sessions and
tokens) and project members. Every write is a CSRF-checked POST that redirects back with
what was done; the work is done by ``crud``, as for the CLI and the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from . import crud
from .api.deps import AdminPage, DbDep, check_csrf
from .web import _render, _url

router = APIRouter(prefix="/admin", include_in_schema=False)

#: what the flash line says after each admin action (``?done=<code>&who=<name>``)
DONE = {
    "created": "created user",
    "deactivated": "deactivated (sessions ended, tokens revoked, leased items released)",
    "activated": "re-activated",
    "password": "password reset (sessions ended, tokens revoked)",
    "revoked": "logged out everywhere (sessions ended, tokens revoked)",
    "added": "added as a reviewer of this project",
    "removed": "removed from this project (their decisions stay)",
}


def _back(url: str, done: str, who: str) -> Response:
    return RedirectResponse(_url(url, done=done, who=who), status_code=303)


def _act(
    request: Request,
    db: DbDep,
    csrf: str,
    fn: Callable[[Session], Any],
    url: str,
    done: str,
    who: str,
) -> Response:
    check_csrf(request, csrf)
    db.run(fn)
    return _back(url, done, who)


@router.get("/users")
def users_page(
    request: Request, db: DbDep, admin: AdminPage, done: str | None = None, who: str | None = None
) -> Response:
    with db.reader() as s:
        users = crud.users_overview(s)
        projects = [p.name for p, _ in crud.list_projects(s)]
    return _render(
        request,
        "admin_users.html",
        {
            "user": admin,
            "users": users,
            "projects": projects,
            "done": DONE.get(done or ""),
            "who": who,
        },
    )


@router.post("/users")
def create_user(
    request: Request,
    db: DbDep,
    admin: AdminPage,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()] = "reviewer",
    project: Annotated[list[str] | None, Form()] = None,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    def tx(s: Session) -> None:
        crud.create_user(s, name, password, role, by=admin)
        for p in project or []:
            crud.add_member(s, p, name, by=admin)

    return _act(request, db, csrf, tx, "/admin/users", "created", name)


@router.post("/users/{name}/active")
def set_active(
    request: Request,
    name: str,
    db: DbDep,
    admin: AdminPage,
    active: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    on = active == "1"
    return _act(
        request,
        db,
        csrf,
        lambda s: crud.set_active(s, name, on, by=admin),
        "/admin/users",
        "activated" if on else "deactivated",
        name,
    )


@router.post("/users/{name}/password")
def reset_password(
    request: Request,
    name: str,
    db: DbDep,
    admin: AdminPage,
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        db,
        csrf,
        lambda s: crud.reset_password(s, name, password, by=admin),
        "/admin/users",
        "password",
        name,
    )


@router.post("/users/{name}/revoke")
def revoke(
    request: Request, name: str, db: DbDep, admin: AdminPage, csrf: Annotated[str, Form()] = ""
) -> Response:
    return _act(
        request,
        db,
        csrf,
        lambda s: crud.revoke_access(s, crud.user_by_name(s, name), by=admin),
        "/admin/users",
        "revoked",
        name,
    )


def _members_url(project: str) -> str:
    return f"/admin/projects/{quote(project)}/members"


@router.get("/projects/{project}/members")
def members_page(
    request: Request,
    project: str,
    db: DbDep,
    admin: AdminPage,
    done: str | None = None,
    who: str | None = None,
) -> Response:
    with db.reader() as s:
        members = crud.list_members(s, project)
        names = {u.name for u in members}
        others = [
            u.name for u in crud.list_users(s) if u.role == "reviewer" and u.name not in names
        ]
    return _render(
        request,
        "admin_members.html",
        {
            "user": admin,
            "project": project,
            "members": members,
            "others": others,
            "done": DONE.get(done or ""),
            "who": who,
        },
    )


@router.post("/projects/{project}/members")
def add_member(
    request: Request,
    project: str,
    db: DbDep,
    admin: AdminPage,
    name: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        db,
        csrf,
        lambda s: crud.add_member(s, project, name, by=admin),
        _members_url(project),
        "added",
        name,
    )


@router.post("/projects/{project}/members/{name}/remove")
def remove_member(
    request: Request,
    project: str,
    name: str,
    db: DbDep,
    admin: AdminPage,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        db,
        csrf,
        lambda s: crud.remove_member(s, project, name, by=admin),
        _members_url(project),
        "removed",
        name,
    )
