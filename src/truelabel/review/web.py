"""Server-rendered pages: login, projects, a project's queue and statistics, the item view,
bulk decisions (admin pages are in ``web_admin.py``).

Forms carry the session's CSRF token; the item view is keyboard-first
(``static/review.js``). Reading a page never writes: leases, decisions, undo and bulk
decisions are POSTs. Pages call ``crud`` (through the API helpers), never numerics.
"""

from __future__ import annotations

import io
import secrets
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from . import crud
from ._export import build_export
from ._labels import Span, parse_spans, parse_tags
from .api._convert import item_detail, task_public
from .api.deps import SESSION_COOKIE, DbDep, PageProject, PageUser, SettingsDep, check_csrf
from .api.routes.login import check_login
from .api.routes.tasks import lease_task, submit, undo
from .errors import AuthError, ConflictError
from .models import User
from .schemas import ItemPublic, ReviewCreate

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "tl_login_csrf"


#: hotkeys 1-5: the suggestion first, then the model's most probable classes
N_CHOICES = 5
#: search results shown (and selectable for a bulk decision) per page
PAGE_ROWS = 50


def _render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    ctx = {"csrf": getattr(request.state, "csrf", ""), **ctx}
    resp: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, name, ctx, status_code=status
    )
    return resp


def _see_other(url: str) -> Response:
    """Redirect (303) after a form POST, so reloading the page does not post again."""
    return RedirectResponse(url, status_code=303)


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
    redirect = _see_other(_safe_next(next))
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
    resp = _see_other("/login")
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/")
def projects_page(request: Request, db: DbDep, user: PageUser) -> Response:
    with db.reader() as s:
        rows = [(p.name, list(p.classes), prog) for p, prog in crud.list_projects(s, user)]
    return _render(request, "projects.html", {"user": user, "projects": rows})


def _url(path: str, **query: str | int | None) -> str:
    """``path`` with the non-empty ``query`` parameters."""
    q = {k: v for k, v in query.items() if v not in (None, "")}
    return path + (f"?{urlencode(q)}" if q else "")


def _project_url(project: str, **query: str | int | None) -> str:
    return _url(f"/projects/{quote(project)}", **query)


@router.get("/projects/{project}")
def project_page(
    request: Request,
    project: PageProject,
    db: DbDep,
    user: PageUser,
    q: Annotated[str | None, Query(max_length=500)] = None,
    label: str | None = None,
    issue: str | None = None,
    bulk_saved: int | None = None,
    bulk_unchanged: int | None = None,
    bulk_refused: int | None = None,
) -> Response:
    label = label or None
    issue = issue or None
    with db.reader() as s:
        p = crud.get_project(s, project)
        stats = crud.project_stats(s, project)
        counts = crud.open_counts(s, p)
        found, total = (
            crud.list_items(s, project, q=q, label=label, issue=issue, limit=PAGE_ROWS)
            if (q or label or issue)
            else ([], 0)
        )
        mine = crud.my_decisions(s, user, found)
        results = [
            {
                "item_id": i.item_key,
                "text": i.text[:300],
                "given": i.given_label,
                "suggested": i.suggested_label,
                "mine": None if i.id not in mine else (mine[i.id].label or mine[i.id].action),
            }
            for i in found
        ]
        classes = list(p.classes)
    bulk = None
    if bulk_saved is not None:
        bulk = {"saved": bulk_saved, "unchanged": bulk_unchanged or 0, "refused": bulk_refused or 0}
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
            "bulk": bulk,
            "bulk_max": crud.BULK_MAX,
            "key": secrets.token_hex(16),
        },
    )


def _review_url(project: str, **query: str | int | None) -> str:
    return _url(f"/projects/{quote(project)}/review", **query)


def _item_url(project: str, item_key: str, **query: str | int | None) -> str:
    return _url(f"/projects/{quote(project)}/items/{quote(item_key, safe='')}", **query)


def decision_choices(
    item: ItemPublic, classes: list[str], k: int = N_CHOICES
) -> list[dict[str, Any]]:
    """The first buttons of the item page, hotkeys 1..k: the suggested label, then the
    model's most probable classes (with their probabilities), then the given label; every
    class when there are at most ``k``.

    Each choice: ``label``, ``prob`` (or None), ``choice`` (the form value: ``suggested``,
    ``given`` or ``label:<class>``), ``key`` ("1".."k") and ``tags`` (suggested / given).
    """
    probs = item.probs or {}
    ranked = [item.suggested_label] if item.suggested_label in classes else []
    ranked += sorted((c for c in probs if c in classes), key=lambda c: -probs[c])
    if item.given_label in classes:
        ranked.append(item.given_label)
    if len(classes) <= k:
        ranked += classes
    out: list[dict[str, Any]] = []
    for c in dict.fromkeys(ranked):
        if len(out) == k:
            break
        tags = [
            t
            for t, v in (("suggested", item.suggested_label), ("given", item.given_label))
            if v == c
        ]
        choice = tags[0] if tags else f"label:{c}"
        out.append(
            {
                "label": c,
                "prob": probs.get(c),
                "choice": choice,
                "key": str(len(out) + 1),
                "tags": tags,
            }
        )
    return out


#: number keys toggle the first 9 tags (multi-label) or pick the first 9 entity types (spans)
N_KEYS = 9


def _segments(text: str, spans: list[Span]) -> list[dict[str, Any]]:
    """``text`` cut at span edges: ``[{"text", "type" (None outside spans)}, …]``."""
    out: list[dict[str, Any]] = []
    pos = 0
    for a, b, t in sorted(spans):
        if a < pos:  # overlapping spans (never stored): show the first
            continue
        if a > pos:
            out.append({"text": text[pos:a], "type": None})
        out.append({"text": text[a:b], "type": t})
        pos = b
    if pos < len(text):
        out.append({"text": text[pos:], "type": None})
    return out


def editor_context(
    task: str, item: ItemPublic, classes: list[str], sep: str, mine: str | None
) -> dict[str, Any]:
    """What the multi-label, number or span editor of the item page shows.

    The editor starts from the reviewer's own decision, else the suggestion, else the
    given label.
    """
    start = next((v for v in (mine, item.suggested_label, item.given_label) if v is not None), None)
    if task == "multilabel":
        given = set(parse_tags(item.given_label, sep))
        sugg = set(parse_tags(item.suggested_label, sep))
        ticked = set(parse_tags(start, sep))
        probs = item.probs or {}
        order = sorted(
            classes,
            key=lambda c: (c not in given | sugg, -probs.get(c, -1.0), classes.index(c)),
        )
        rows = [
            {
                "name": c,
                "key": str(i + 1) if i < N_KEYS else "",
                "checked": c in ticked,
                "given": c in given,
                "suggested": c in sugg,
                "prob": probs.get(c),
            }
            for i, c in enumerate(order)
        ]
        return {"tag_rows": rows, "sep": sep}
    if task == "regression":
        return {"value": start or ""}
    if task == "token":
        types = [{"name": t, "key": str(i + 1)} for i, t in enumerate(classes[:N_KEYS])]
        return {
            "types": types,
            "spans_json": start or "[]",
            "given_segments": _segments(item.text, parse_spans(item.given_label)),
            "suggested_segments": _segments(item.text, parse_spans(item.suggested_label)),
        }
    return {}


_MSGS = ("replayed", "nothing_to_undo")


def _flash(
    s: Any, project: str, user: User, saved: int | None, undone: int | None
) -> dict[str, Any] | None:
    """What the last action did, in words: which item, which decision, what it replaced."""
    rid = saved if saved is not None else undone
    got = None if rid is None else crud.describe_review(s, project, rid, user)
    if got is not None:
        got["kind"] = "saved" if saved is not None else "undone"
    return got


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
    saved: int | None = None,
    undone: int | None = None,
) -> Response:
    """The item this reviewer holds; reading never leases (``POST …/review/next`` does)."""
    label = label or None
    issue = issue or None
    with db.reader() as s:
        p = crud.get_project(s, project, user)
        crud.check_filters(p, label, issue)
        held = crud.held_task(s, project, user)
        task = None if held is None else task_public(s, *held)
        mine = None if held is None else crud.current_decision(s, held[0].id, user)
        flash = _flash(s, project, user, saved, undone)
        progress = crud.project_progress(s, p)
        n_mine = crud.count_decisions(s, p, user)
        classes = list(p.classes)
        ptask, sep = p.task, p.label_sep
    editor = (
        editor_context(ptask, task.item, classes, sep, mine.label if mine else None) if task else {}
    )
    return _render(
        request,
        "review.html",
        {
            "user": user,
            "project": project,
            "ptask": ptask,
            "editor": editor,
            "mode": "queue",
            "task": task,
            "item": task.item if task else None,
            "task_id": task.task_id if task else None,
            "mine": mine,
            "choices": decision_choices(task.item, classes) if task else [],
            "empty": bool(empty) and task is None,
            "classes": classes,
            "progress": progress,
            "n_mine": n_mine,
            "label": label or "",
            "issue": issue or "",
            "key": secrets.token_hex(16),
            "msg": msg if msg in _MSGS else None,
            "flash": flash,
        },
    )


@router.get("/projects/{project}/items/{item_id}")
def item_page(
    request: Request,
    project: PageProject,
    item_id: str,
    db: DbDep,
    user: PageUser,
    saved: int | None = None,
) -> Response:
    """One item opened from the search: read it, decide or change your decision (no lease)."""
    with db.reader() as s:
        p = crud.get_project(s, project, user)
        item = crud.get_item(s, project, item_id)
        task_id = crud.task_id_of(s, item)
        mine = None if task_id is None else crud.current_decision(s, task_id, user)
        detail = item_detail(s, item)
        flash = _flash(s, project, user, saved, None)
        progress = crud.project_progress(s, p)
        n_mine = crud.count_decisions(s, p, user)
        classes = list(p.classes)
        ptask, sep = p.task, p.label_sep
    return _render(
        request,
        "review.html",
        {
            "user": user,
            "project": project,
            "ptask": ptask,
            "editor": editor_context(ptask, detail, classes, sep, mine.label if mine else None),
            "mode": "item",
            "task": None,
            "item": detail,
            "task_id": task_id,
            "mine": mine,
            "choices": decision_choices(detail, classes),
            "empty": False,
            "classes": classes,
            "progress": progress,
            "n_mine": n_mine,
            "label": "",
            "issue": "",
            "key": secrets.token_hex(16),
            "msg": None,
            "flash": flash,
        },
    )


def _lease_and_redirect(
    db: DbDep,
    settings: SettingsDep,
    project: str,
    user: PageUser,
    label: str | None,
    issue: str | None,
    **extra: str | int | None,
) -> Response:
    task = lease_task(db, settings, project, user, label or None, issue or None)
    return _see_other(
        _review_url(project, label=label, issue=issue, empty="1" if task is None else None, **extra)
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


@router.post("/projects/{project}/review/undo")
def review_undo(
    request: Request,
    project: str,
    db: DbDep,
    settings: SettingsDep,
    user: PageUser,
    csrf: Annotated[str, Form()] = "",
    label: Annotated[str, Form()] = "",
    issue: Annotated[str, Form()] = "",
) -> Response:
    """Take back your last decision here; its item is shown (leased) again."""
    check_csrf(request, csrf)
    try:
        out = undo(db, settings, project, user)
    except ConflictError:
        return _see_other(_review_url(project, label=label, issue=issue, msg="nothing_to_undo"))
    return _see_other(_review_url(project, label=label, issue=issue, undone=out.undone.id))


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
    return_item: Annotated[str, Form()] = "",
    tag: Annotated[list[str] | None, Form()] = None,
    value: Annotated[str, Form()] = "",
    spans: Annotated[str, Form()] = "",
) -> Response:
    """Store (or change) a decision, then lease the next item, or go back to the item page.

    ``choice`` is ``given``, ``suggested``, ``ambiguous``, ``skip``, ``label:<class>``, or
    the editor's own: ``tags`` (the ticked ``tag`` boxes), ``value`` (a number) or
    ``spans`` (a JSON span list).
    """
    check_csrf(request, csrf)
    typed: dict[str, str | list[str]] = {"tags": list(tag or []), "value": value, "spans": spans}
    if choice in typed:  # the multi-label, number and span editors
        body = ReviewCreate(
            action="other", label=typed[choice], note=note, idempotency_key=key or None
        )
    elif choice.startswith("label:"):
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
    done: dict[str, str | int | None] = {"saved": out.id} if out.created else {"msg": "replayed"}
    if return_item:
        return _see_other(_item_url(project, out.item_id, **done))
    return _lease_and_redirect(db, settings, project, user, label_filter, issue_filter, **done)


def _bulk_selection(
    db: DbDep,
    project: str,
    user: User,
    scope: str,
    items: list[str],
    q: str,
    label: str,
    issue: str,
) -> tuple[list[str], list[dict[str, Any]]]:
    """The item ids a bulk decision is about, and up to ``PAGE_ROWS`` of them to show."""
    with db.reader() as s:
        crud.get_project(s, project, user)
        if scope == "all":
            found, total = crud.list_items(
                s,
                project,
                q=q or None,
                label=label or None,
                issue=issue or None,
                limit=crud.BULK_MAX + 1,
            )
            if total > crud.BULK_MAX:
                raise HTTPException(
                    422,
                    f"{total} items match; a bulk decision takes at most {crud.BULK_MAX}. "
                    "Narrow the search or the filters.",
                )
            keys = [i.item_key for i in found]
        else:
            keys = list(dict.fromkeys(items))
            found = crud.items_by_key(s, project, keys[:PAGE_ROWS])
        shown = [
            {
                "item_id": i.item_key,
                "text": i.text[:200],
                "given": i.given_label,
                "suggested": i.suggested_label,
            }
            for i in found[:PAGE_ROWS]
        ]
    return keys, shown


@router.post("/projects/{project}/bulk")
def bulk_decide(
    request: Request,
    project: str,
    db: DbDep,
    user: PageUser,
    csrf: Annotated[str, Form()] = "",
    item: Annotated[list[str] | None, Form()] = None,
    scope: Annotated[str, Form()] = "selected",
    action: Annotated[str, Form()] = "suggested",
    q: Annotated[str, Form()] = "",
    label: Annotated[str, Form()] = "",
    issue: Annotated[str, Form()] = "",
    key: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Accept the suggested label for the selected (or all matching) items: first a
    confirmation page saying how many and which, then (``confirm``) the decisions."""
    check_csrf(request, csrf)
    if action != "suggested":
        raise HTTPException(422, f"bulk action {action!r} is not offered; use 'suggested'.")
    keys, shown = _bulk_selection(db, project, user, scope, item or [], q, label, issue)
    if not keys:
        raise HTTPException(422, "select at least one item (tick its box) for a bulk decision.")
    if not confirm:
        return _render(
            request,
            "bulk_confirm.html",
            {
                "user": user,
                "project": project,
                "n": len(keys),
                "keys": keys if scope != "all" else [],
                "shown": shown,
                "scope": scope,
                "q": q,
                "label": label,
                "issue": issue,
                "key": key or secrets.token_hex(16),
            },
        )
    res = db.run(lambda s: crud.decide_many(s, project, user, keys, action="suggested", key=key))
    return _see_other(
        _project_url(
            project,
            q=q,
            label=label,
            issue=issue,
            bulk_saved=res.saved,
            bulk_unchanged=res.unchanged,
            bulk_refused=sum(len(v) for v in res.refused.values()),
        )
    )


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
