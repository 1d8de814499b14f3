"""Server-rendered pages: login, projects, a project's queue and statistics, the item view.

Forms carry the session's CSRF token; the item view is keyboard-first
(``static/review.js``). Pages call ``crud`` (through the API helpers), never numerics.
"""

from __future__ import annotations

import io
import secrets
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from . import crud
from ._export import build_export
from .api._convert import task_public
from .api.deps import SESSION_COOKIE, DbDep, PageProject, PageUser, SettingsDep, check_csrf
from .api.routes.login import check_login
from .api.routes.tasks import lease_task, submit
from .errors import AuthError
from .schemas import ReviewCreate

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "tl_login_csrf"


def _render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    ctx = {"csrf": getattr(request.state, "csrf", ""), **ctx}
    resp: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, name, ctx, status_code=status
    )
    return resp


def _safe_next(url: str | None) -> str:
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    resp = _render(
        request,
        "login.html",
        {"user": None, "next": _safe_next(next), "login_csrf": token, "error": None},
    )
    resp.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
        max_age=3600,
    )
    return resp


@router.post("/login")
def login_submit(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not csrf or not secrets.compare_digest(cookie, csrf):
        return _render(
            request,
            "error.html",
            {
                "user": None,
                "status": 403,
                "message": "missing or wrong CSRF token; reload the login page",
            },
            403,
        )
    try:
        user = check_login(request, db, username, password)
    except AuthError:
        resp = _render(
            request,
            "login.html",
            {
                "user": None,
                "next": _safe_next(next),
                "login_csrf": cookie,
                "error": "Wrong user name or password.",
            },
            401,
        )
        return resp
    redirect = RedirectResponse(_safe_next(next), status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE,
        request.app.state.signer.dumps(user.id, user.session_epoch),
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        max_age=settings.session_hours * 3600,
        path="/",
    )
    redirect.delete_cookie(LOGIN_CSRF_COOKIE)
    return redirect


@router.post("/logout")
def logout(
    request: Request,
    db: DbDep,
    user: PageUser,
    csrf: Annotated[str, Form()] = "",
    everywhere: Annotated[str, Form()] = "",
) -> Response:
    """End the user's browser sessions; ``everywhere`` also revokes every API token."""
    check_csrf(request, csrf)
    db.run(crud.revoke_access if everywhere else crud.end_sessions, user)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/")
def projects_page(request: Request, db: DbDep, user: PageUser) -> Response:
    with db.reader() as s:
        rows = [(p.name, list(p.classes), prog) for p, prog in crud.list_projects(s, user)]
    return _render(request, "projects.html", {"user": user, "projects": rows})


@router.get("/projects/{project}")
def project_page(
    request: Request,
    project: PageProject,
    db: DbDep,
    user: PageUser,
    q: Annotated[str | None, Query(max_length=500)] = None,
    label: str | None = None,
    issue: str | None = None,
) -> Response:
    label = label or None
    issue = issue or None
    with db.reader() as s:
        p = crud.get_project(s, project)
        stats = crud.project_stats(s, project)
        counts = crud.open_counts(s, p)
        found, total = (
            crud.list_items(s, project, q=q, label=label, issue=issue, limit=50)
            if (q or label or issue)
            else ([], 0)
        )
        results = [
            {
                "item_id": i.item_key,
                "text": i.text[:300],
                "given": i.given_label,
                "suggested": i.suggested_label,
            }
            for i in found
        ]
        classes = list(p.classes)
    return _render(
        request,
        "project.html",
        {
            "user": user,
            "project": project,
            "classes": classes,
            "stats": stats,
            "open_counts": counts,
            "q": q or "",
            "label": label or "",
            "issue": issue or "",
            "results": results,
            "total": total,
            "issues": crud.ISSUE_FILTERS,
        },
    )


def _review_url(project: str, **query: str | None) -> str:
    q = {k: v for k, v in query.items() if v}
    return f"/projects/{quote(project)}/review" + (f"?{urlencode(q)}" if q else "")


@router.get("/projects/{project}/review")
def review_page(
    request: Request,
    project: PageProject,
    db: DbDep,
    user: PageUser,
    label: str | None = None,
    issue: str | None = None,
    msg: str | None = None,
    empty: str | None = None,
) -> Response:
    """The item this reviewer holds; reading never leases (``POST …/review/next`` does)."""
    label = label or None
    issue = issue or None
    with db.reader() as s:
        p = crud.get_project(s, project, user)
        crud.check_filters(p, label, issue)
        held = crud.held_task(s, project, user)
        task = None if held is None else task_public(s, *held)
        progress = crud.project_progress(s, p)
        mine = crud.count_decisions(s, p, user)
        classes = list(p.classes)
    return _render(
        request,
        "review.html",
        {
            "user": user,
            "project": project,
            "task": task,
            "empty": bool(empty) and task is None,
            "classes": classes,
            "progress": progress,
            "mine": mine,
            "label": label or "",
            "issue": issue or "",
            "key": secrets.token_hex(16),
            "msg": msg if msg in ("saved", "skipped", "replayed") else None,
        },
    )


def _lease_and_redirect(
    db: DbDep,
    settings: SettingsDep,
    project: str,
    user: PageUser,
    label: str | None,
    issue: str | None,
    msg: str | None = None,
) -> Response:
    task = lease_task(db, settings, project, user, label or None, issue or None)
    return RedirectResponse(
        _review_url(
            project, label=label, issue=issue, msg=msg, empty="1" if task is None else None
        ),
        status_code=303,
    )


@router.post("/projects/{project}/review/next")
def review_next(
    request: Request,
    project: str,
    db: DbDep,
    settings: SettingsDep,
    user: PageUser,
    csrf: Annotated[str, Form()] = "",
    label: Annotated[str, Form()] = "",
    issue: Annotated[str, Form()] = "",
) -> Response:
    """Lease the next item (or keep the one held) and show it."""
    check_csrf(request, csrf)
    return _lease_and_redirect(db, settings, project, user, label, issue)


@router.post("/projects/{project}/tasks/{task_id}/review")
def review_submit(
    request: Request,
    project: str,
    task_id: int,
    db: DbDep,
    settings: SettingsDep,
    user: PageUser,
    choice: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    key: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    label_filter: Annotated[str, Form()] = "",
    issue_filter: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    if choice.startswith("label:"):
        body = ReviewCreate(
            action="other", label=choice[6:], note=note, idempotency_key=key or None
        )
    else:
        if choice not in ("given", "suggested", "ambiguous", "skip"):
            return _render(
                request,
                "error.html",
                {"user": user, "status": 422, "message": f"unknown choice {choice!r}"},
                422,
            )
        body = ReviewCreate(action=choice, note=note, idempotency_key=key or None)  # type: ignore[arg-type]
    out = submit(db, project, task_id, user, body)
    msg = "replayed" if not out.created else ("skipped" if choice == "skip" else "saved")
    return _lease_and_redirect(db, settings, project, user, label_filter, issue_filter, msg)


@router.get("/projects/{project}/export/{name}.csv")
def export_csv(
    request: Request, project: PageProject, name: str, db: DbDep, user: PageUser
) -> Response:
    """Download the corrected labels, the gold source or the reviewer table as CSV."""
    if name not in ("labels", "gold", "reviewers"):
        return _render(
            request, "error.html", {"user": user, "status": 404, "message": "no such export"}, 404
        )
    labels, gold, reviewers, _ = build_export(db, project)
    frame = {"labels": labels, "gold": gold, "reviewers": reviewers}[name]
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return StreamingResponse(
        iter([buf.getvalue()]),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
