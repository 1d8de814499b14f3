"""Dependencies shared by routes: the database, settings, the current user, CSRF.

``Annotated`` aliases (``DbDep``, ``ApiUser``, ``AdminUser``, ``PageUser``) keep
route signatures short, as in fastapi/full-stack-fastapi-template.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status

from .. import crud
from ..config import ReviewSettings
from ..db import Database
from ..models import User
from ..security import SessionSigner, tokens_equal

__all__ = [
    "SESSION_COOKIE",
    "AdminPage",
    "AdminUser",
    "ApiUser",
    "DbDep",
    "LoginRequired",
    "MemberProject",
    "PageProject",
    "PageUser",
    "SettingsDep",
    "bearer_token",
    "check_csrf",
    "client_host",
    "get_db",
    "session_data",
]

SESSION_COOKIE = "tl_session"
_SAFE = ("GET", "HEAD", "OPTIONS")


class LoginRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> ReviewSettings:
    settings: ReviewSettings = request.app.state.settings
    return settings


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[ReviewSettings, Depends(get_settings)]


def session_data(request: Request) -> dict[str, Any] | None:
    """The verified session cookie payload, or None."""
    signer: SessionSigner = request.app.state.signer
    return signer.loads(request.cookies.get(SESSION_COOKIE))


def _session_user(db: Database, sess: dict[str, Any]) -> User | None:
    """The session's user, unless they logged out since (epoch bumped) or were deactivated."""
    with db.reader() as s:
        user = crud.get_user(s, sess["uid"])
    if user is None or user.session_epoch != sess.get("ep", 0):
        return None
    return user


def client_host(request: Request) -> str:
    """The client's address: the TCP peer, or what a trusted proxy forwarded
    (``--forwarded-allow-ips``; never a header from an untrusted peer)."""
    return request.client.host if request.client else "?"


def bearer_token(request: Request) -> str | None:
    """The ``Authorization: Bearer`` token of the request, if any."""
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def api_user(request: Request, db: DbDep) -> User:
    """The caller of an API route: bearer token, or session cookie + ``X-CSRF-Token`` on writes."""
    token = bearer_token(request)
    if token is not None:
        with db.reader() as s:
            user = crud.user_from_token(s, token)
        if user is not None:
            return user
    else:
        sess = session_data(request)
        if sess is not None:
            if request.method not in _SAFE:
                sent = request.headers.get("x-csrf-token", "")
                if not sent or not tokens_equal(sent, str(sess.get("csrf", ""))):
                    raise HTTPException(
                        status.HTTP_403_FORBIDDEN, "missing or wrong X-CSRF-Token header"
                    )
            user = _session_user(db, sess)
            if user is not None:
                return user
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "not authenticated: send Authorization: Bearer <token> (POST /api/login/token)",
        headers={"WWW-Authenticate": "Bearer"},
    )


ApiUser = Annotated[User, Depends(api_user)]


def admin_user(user: ApiUser) -> User:
    """An API caller with the admin role (403 otherwise)."""
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs the admin role")
    return user


AdminUser = Annotated[User, Depends(admin_user)]


def page_user(request: Request, db: DbDep) -> User:
    """The logged-in user of a page; redirects to ``/login`` otherwise."""
    sess = session_data(request)
    user = _session_user(db, sess) if sess is not None else None
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(quote(target, safe="/?=&"))
    request.state.csrf = sess["csrf"] if sess else ""
    return user


PageUser = Annotated[User, Depends(page_user)]


def admin_page(user: PageUser) -> User:
    """A logged-in admin on a page (403 otherwise)."""
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this page needs the admin role")
    return user


AdminPage = Annotated[User, Depends(admin_page)]


def _visible(db: Database, project: str, user: User) -> str:
    with db.reader() as s:
        crud.get_project(s, project, user)  # 404 unless admin or member
    return project


def member_project(project: str, db: DbDep, user: ApiUser) -> str:
    """The ``{project}`` of an API route, when the caller may see it (admin or member)."""
    return _visible(db, project, user)


def page_project(project: str, db: DbDep, user: PageUser) -> str:
    """The ``{project}`` of a page, when the logged-in user may see it (admin or member)."""
    return _visible(db, project, user)


MemberProject = Annotated[str, Depends(member_project)]
PageProject = Annotated[str, Depends(page_project)]


def check_csrf(request: Request, token: str | None) -> None:
    """Refuse a form post whose ``csrf`` field does not match the session's token."""
    sess = session_data(request)
    expected = str(sess.get("csrf", "")) if sess else ""
    if not expected or not token or not tokens_equal(token, expected):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token; reload the page and try again"
        )
