"""``POST /api/login/token``: trade a user name and password for a bearer token (rate-limited);
``POST /api/logout``: revoke the token used (or, with ``everywhere``, every token and session)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response, status

from ... import crud
from ...errors import AuthError
from ...models import User
from ...schemas import Token
from ...security import LoginThrottle
from ..deps import ApiUser, DbDep, bearer_token, client_host

router = APIRouter(tags=["login"])


def check_login(request: Request, db: DbDep, username: str, password: str) -> User:
    """Verify credentials under the login throttle (HTTP 429 when exceeded, 401 when wrong)."""
    throttle: LoginThrottle = request.app.state.throttle
    client = client_host(request)
    wait = throttle.blocked(username, client)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed logins; try again in {int(wait) + 1} s",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    try:
        with db.reader() as s:
            user = crud.authenticate(s, username, password)
    except AuthError:
        throttle.fail(username, client)
        raise
    throttle.reset(username, client)
    return user


@router.post("/login/token", response_model=Token)
def login_token(
    request: Request, db: DbDep, username: Annotated[str, Form()], password: Annotated[str, Form()]
) -> Token:
    """OAuth2-password-style login: form fields ``username`` and ``password``."""
    user = check_login(request, db, username, password)
    return Token(access_token=db.run(lambda s: crud.create_token(s, user)))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    request: Request,
    db: DbDep,
    user: ApiUser,
    everywhere: bool = Query(False, description="Also revoke every other token and session."),
) -> Response:
    """Revoke the bearer token of this request; ``?everywhere=true`` logs the user out
    everywhere (every API token and every browser session)."""
    token = bearer_token(request)
    if everywhere:
        db.run(crud.revoke_access, user)
    elif token is not None:
        db.run(crud.revoke_token, token)
    else:
        db.run(crud.end_sessions, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
