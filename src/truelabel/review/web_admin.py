"""Admin pages: users (add, deactivate, re-activate, reset password, revoke sessions and
tokens) and project members. Every write is a CSRF-checked POST that redirects back with
what was done; the work is done by ``crud``, as for the CLI and the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from . import crud
from .api.deps import AdminPage, DbDep, check_csrf
from .db import Database
from .models import User
from .web import _render, _see_other, _url

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


@dataclass(frozen=True)
class _AdminPost:
    """What every admin form POST shares: the request (for the CSRF check), the database, the
    signed-in admin and the form's ``csrf`` field."""

    request: Request
    db: Database
    admin: User
    csrf: str

    def act(self, fn: Callable[[Session], Any], url: str, done: str, who: str) -> Response:
        """Check the CSRF token, run ``fn`` in one write transaction, redirect back to ``url``
        saying what was ``done`` to ``who``."""
        check_csrf(self.request, self.csrf)
        self.db.run(fn)
        return _see_other(_url(url, done=done, who=who))


def _admin_post(
    request: Request, db: DbDep, admin: AdminPage, csrf: Annotated[str, Form()] = ""
) -> _AdminPost:
    return _AdminPost(request, db, admin, csrf)


AdminPost = Annotated[_AdminPost, Depends(_admin_post)]


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
    post: AdminPost,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()] = "reviewer",
    project: Annotated[list[str] | None, Form()] = None,
) -> Response:
    def tx(s: Session) -> None:
        crud.create_user(s, name, password, role, by=post.admin)
        for p in project or []:
            crud.add_member(s, p, name, by=post.admin)

    return post.act(tx, "/admin/users", "created", name)


@router.post("/users/{name}/active")
def set_active(name: str, post: AdminPost, active: Annotated[str, Form()]) -> Response:
    on = active == "1"
    return post.act(
        lambda s: crud.set_active(s, name, on, by=post.admin),
        "/admin/users",
        "activated" if on else "deactivated",
        name,
    )


@router.post("/users/{name}/password")
def reset_password(name: str, post: AdminPost, password: Annotated[str, Form()]) -> Response:
    return post.act(
        lambda s: crud.reset_password(s, name, password, by=post.admin),
        "/admin/users",
        "password",
        name,
    )


@router.post("/users/{name}/revoke")
def revoke(name: str, post: AdminPost) -> Response:
    return post.act(
        lambda s: crud.revoke_access(s, crud.user_by_name(s, name), by=post.admin),
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
def add_member(project: str, post: AdminPost, name: Annotated[str, Form()]) -> Response:
    return post.act(
        lambda s: crud.add_member(s, project, name, by=post.admin),
        _members_url(project),
        "added",
        name,
    )


@router.post("/projects/{project}/members/{name}/remove")
def remove_member(project: str, name: str, post: AdminPost) -> Response:
    return post.act(
        lambda s: crud.remove_member(s, project, name, by=post.admin),
        _members_url(project),
        "removed",
        name,
    )
